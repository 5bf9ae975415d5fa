"""``org missed-calls``: set, shown, turned off; refusals are one line."""

from __future__ import annotations

from sqlalchemy import Engine

from agentstatus.domain.missed_calls import MissedCallsRule
from agentstatus.service import missed_calls
from tests.cli.helpers import Outcome, assert_user_error, invoke, ok
from tests.conftest import OrgFactory


def test_the_rule_is_set_shown_and_turned_off(
    shared_database_url: str, shared_engine: Engine, shared_org_factory: OrgFactory
) -> None:
    org = shared_org_factory()
    said = ok(shared_database_url, "org", "missed-calls", org.name).stdout
    assert said.strip() == f"{org.name}: missed calls move nobody (they are recorded)"
    said = ok(shared_database_url, "org", "missed-calls", org.name, "2").stdout
    assert said.strip() == f"{org.name}: after 2 missed calls in a row, status 9"
    assert missed_calls.get_rule(shared_engine, org.name) == MissedCallsRule(2, 9)
    ok(shared_database_url, "org", "missed-calls", org.name, "3", "--status", "11")
    assert missed_calls.get_rule(shared_engine, org.name) == MissedCallsRule(3, 11)
    said = ok(shared_database_url, "org", "missed-calls", org.name, "off").stdout
    assert "move nobody" in said
    assert missed_calls.get_rule(shared_engine, org.name) is None


def test_bad_rules_are_refused(shared_database_url: str, shared_org_factory: OrgFactory) -> None:
    org = shared_org_factory()

    def run(*args: str) -> Outcome:
        return invoke(shared_database_url, "org", "missed-calls", org.name, *args)

    assert_user_error(run("2", "--status", "1"), "takes calls")
    assert_user_error(run("2", "--status", "2"), "Logout")
    assert_user_error(run("0"), "1 to 100")
    assert_user_error(run("2", "--status", "77"), "no status 77")
    for args in (("two",), ("off", "--status", "9"), ("--status", "9")):
        outcome = invoke(shared_database_url, "org", "missed-calls", org.name, *args)
        assert outcome.code == 2, args  # a usage error
    assert_user_error(
        invoke(shared_database_url, "org", "missed-calls", "no-such-org", "2"), "no-such-org"
    )
