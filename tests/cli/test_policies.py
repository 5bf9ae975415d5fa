"""``status limit`` and ``org shift-end``: set, shown, cleared; refusals are one line."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from agentstatus.service import phone_registration, policies, statuses
from tests.cli.helpers import assert_user_error, invoke, ok
from tests.conftest import OrgFactory


def test_a_status_limit_is_set_listed_and_cleared(
    shared_database_url: str, shared_engine: Engine, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    said = ok(shared_database_url, "status", "limit", org.name, "3", "15m").stdout
    assert said.strip() == f"status 3 (Lunch break) of {org.name}: at most 15m, then warn"
    ok(shared_database_url, "status", "limit", org.name, "5", "1h30m", "--then", "logout")
    lunch, admin = statuses.list_statuses(shared_engine, org.name)[2:4]
    assert (lunch.limit_seconds, lunch.limit_action) == (900, "warn")
    assert (admin.limit_seconds, admin.limit_action) == (5400, "logout")
    table = ok(shared_database_url, "status", "list", org.name).stdout.splitlines()
    assert table[0].split()[-1] == "LIMIT"
    assert any(line.endswith("15m, then warn") for line in table)
    listed = json.loads(ok(shared_database_url, "status", "list", org.name, "--json").stdout)
    assert listed[3]["limit_seconds"] == 5400
    cleared = ok(shared_database_url, "status", "limit", org.name, "3", "--clear").stdout
    assert "no limit" in cleared
    assert statuses.list_statuses(shared_engine, org.name)[2].limit_seconds is None


def test_bad_limits_are_refused(shared_database_url: str, shared_org_factory: OrgFactory) -> None:
    org = shared_org_factory()
    assert_user_error(invoke(shared_database_url, "status", "limit", org.name, "2", "1h"), "Logout")
    assert_user_error(invoke(shared_database_url, "status", "limit", org.name, "3", "8d"), "7 days")
    assert_user_error(invoke(shared_database_url, "status", "limit", org.name, "99", "1h"), "99")
    for args in (("3", "soon"), ("3",), ("3", "1h", "--clear"), ("3", "1h", "--then", "nap")):
        outcome = invoke(shared_database_url, "status", "limit", org.name, *args)
        assert outcome.code == 2, args  # a usage error
        assert "Traceback" not in outcome.stderr


def test_the_shift_end_is_set_and_turned_off(
    shared_database_url: str, shared_engine: Engine, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    ok(shared_database_url, "org", "timezone", org.name, "Asia/Jerusalem")
    said = ok(
        shared_database_url, "org", "shift-end", org.name, "18:00", "--days", "sun,mon,tue,wed,thu"
    ).stdout
    assert said.startswith(f"{org.name}: the shift ends at 18:00 on mon,tue,wed,thu,sun; next at ")
    assert said.strip().endswith(":00:00.000Z")  # 18:00 in Jerusalem, in UTC
    setting = policies.get_shift_end(shared_engine, org.name)
    assert setting.shift is not None
    assert setting.shift.day_names == ["mon", "tue", "wed", "thu", "sun"]
    off = ok(shared_database_url, "org", "shift-end", org.name, "--off").stdout
    assert off.strip() == f"{org.name}: no end of the shift"
    assert policies.get_shift_end(shared_engine, org.name).next_ms is None
    assert_user_error(invoke(shared_database_url, "org", "shift-end", org.name, "6pm"), "HH:MM")
    assert_user_error(
        invoke(shared_database_url, "org", "shift-end", org.name, "18:00", "--days", "weekdays"),
        "mon,tue",
    )
    assert invoke(shared_database_url, "org", "shift-end", org.name).code == 2


def test_the_phone_offline_policy_is_set_shown_and_turned_off(
    shared_database_url: str, shared_engine: Engine, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    shown = ok(shared_database_url, "org", "phone-offline", org.name).stdout
    assert shown.strip() == f"{org.name}: phone offline: off"
    said = ok(shared_database_url, "org", "phone-offline", org.name, "1m", "--status", "3").stdout
    assert said.strip() == f"{org.name}: phone offline 60s: to status 3"
    found = phone_registration.get_phone_offline(shared_engine, org.name)
    assert found is not None
    assert (found.seconds, found.status) == (60, 3)
    off = ok(shared_database_url, "org", "phone-offline", org.name, "off").stdout
    assert off.strip() == f"{org.name}: phone offline: off"
    assert phone_registration.get_phone_offline(shared_engine, org.name) is None
    # Login takes calls: an agent whose phone is offline must not be left in it.
    assert_user_error(
        invoke(shared_database_url, "org", "phone-offline", org.name, "60", "--status", "1"),
        "take no calls",
    )
    assert invoke(shared_database_url, "org", "phone-offline", org.name, "soon").code == 2


def test_wrap_up_is_set_timed_manual_and_off(
    shared_database_url: str, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    said = ok(shared_database_url, "org", "wrap-up", org.name, "1m30s").stdout
    assert said.strip() == f"{org.name}: wrap-up in status 13, 1m30s"
    said = ok(shared_database_url, "org", "wrap-up", org.name, "manual", "--status", "9").stdout
    assert said.strip() == f"{org.name}: wrap-up in status 9, until the agent chooses"
    assert ok(shared_database_url, "org", "wrap-up", org.name, "off").stdout.strip() == (
        f"{org.name}: no wrap-up"
    )


def test_bad_wrap_ups_are_refused(shared_database_url: str, shared_org_factory: OrgFactory) -> None:
    org = shared_org_factory()
    for args, words in (
        (("30s", "--status", "1"), "takes calls"),
        (("manual", "--status", "2"), "Logout"),
        (("2h",), "3600"),
    ):
        outcome = invoke(shared_database_url, "org", "wrap-up", org.name, *args)
        assert_user_error(outcome, words)
    soon = invoke(shared_database_url, "org", "wrap-up", org.name, "soon")
    assert soon.code == 2  # a usage error
    assert "expected manual, off or a duration" in soon.stderr
