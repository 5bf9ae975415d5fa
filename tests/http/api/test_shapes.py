"""One JSON shape per resource: the native API answers what the command line's ``--json``
prints (one serialiser, ``as_json()`` in the service), and its answers are checked against
their documented models."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import httpx
import orjson

from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.history_event import HistoryEvent
from agentstatus.domain.occupancy import CallsDay
from agentstatus.http.api.history import HistoryEvent as HistoryEventBody
from agentstatus.http.api.reports import CallsDay as CallsDayBody
from agentstatus.http.api.reports import TimeInStatus as TimeInStatusBody
from agentstatus.service.call_reports import CallsRow
from agentstatus.service.reports import TimeInStatus
from tests.http.api.helpers import cli_json, set_status
from tests.support.factories import OrgFixture
from tests.support.forked import run_agentstatus
from tests.support.server import ServerProcess


def test_agents_as_the_command_line_lists_them(
    admin: httpx.Client, shared_database_url: str, org: OrgFixture
) -> None:
    admin.patch(f"/orgs/{org.name}/agents/102", json={"name": "Dana", "active": False})
    answer = admin.get(f"/orgs/{org.name}/agents")
    assert answer.json() == cli_json(shared_database_url, "agent", "list", org.name)
    assert answer.json()[1] == {"user_id": "102", "name": "Dana", "active": False}


def test_statuses_as_the_command_line_lists_them(
    admin: httpx.Client, shared_database_url: str, org: OrgFixture
) -> None:
    admin.put(f"/orgs/{org.name}/statuses/3/limit", json={"seconds": 600, "then": "login"})
    answer = admin.get(f"/orgs/{org.name}/statuses")
    assert answer.json() == cli_json(shared_database_url, "status", "list", org.name)
    assert {"limit_seconds": 600, "limit_action": "login"}.items() <= answer.json()[2].items()


def test_a_report_as_the_command_line_prints_it(
    admin: httpx.Client, shared_server: ServerProcess, shared_database_url: str, org: OrgFixture
) -> None:
    set_status(shared_server, org.code, "101", "sip1", 1)
    start, end = to_iso(now_ms() - 3_600_000), to_iso(now_ms() + 3_600_000)
    answer = admin.get(
        f"/orgs/{org.name}/reports/time-in-status", params={"from": start, "to": end}
    )
    period = ["--from", start, "--to", end, "--format", "json"]
    code, printed, stderr = run_agentstatus(
        ["--database", shared_database_url, "report", org.name, *period], timeout=60
    )
    assert code == 0, stderr
    assert answer.status_code == 200
    served, shown = answer.json(), json.loads(printed)
    assert {r["user_id"] for r in served} == {"101", "102", "103"}

    def timeless(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        """The rows without the seconds, which grow until now (a moment apart)."""
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    assert timeless(served) == timeless(shown)
    for here, there in zip(served, shown, strict=True):
        assert abs(here["seconds"] - there["seconds"]) < 60


def test_the_documented_models_hold_every_field_of_the_serialisers() -> None:
    call = HistoryEvent(
        7, "org", "101", "sip1", "sip1", 1, 1, 0, "pbx", "call.started", policy="call:started"
    )
    called = replace(call, call=orjson.dumps({"direction": "in"}).decode())
    for event in (call, called):
        shaped = event.as_json()
        assert HistoryEventBody.model_validate(shaped).model_dump(exclude_unset=True) == shaped
    row = TimeInStatus("101", "Dana", 1, "Login", 60.0, 1.5)
    assert TimeInStatusBody.model_validate(row.as_json()).model_dump() == row.as_json()
    for occupancy_of in (0, 60_000):
        figures = CallsDay(date(2026, 11, 20), 2, 1, 30_000, 10_000, 40_000, 0, 90_000)
        day = CallsRow("101", "Dana", replace(figures, available_ms=occupancy_of))
        assert CallsDayBody.model_validate(day.as_json()).model_dump() == day.as_json()


def test_patching_a_webhook_answers_that_endpoint(
    admin: httpx.Client, org: OrgFixture, shared_server: ServerProcess
) -> None:
    added = admin.post(f"/orgs/{org.name}/webhooks", json={"url": "https://crm.example/a"})
    if added.status_code == 503:  # PostgreSQL without AGENTSTATUS_SECRET_KEY
        assert added.json()["code"] == "secret_key_unavailable"
        return
    other = admin.post(f"/orgs/{org.name}/webhooks", json={"url": "https://crm.example/b"})
    endpoint_id = added.json()["id"]
    answer = admin.patch(f"/orgs/{org.name}/webhooks/{endpoint_id}", json={"enabled": False})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["id"], body["url"], body["enabled"]) == (
        endpoint_id,
        "https://crm.example/a",
        False,
    )
    assert "secret" not in body
    assert other.json()["id"] != endpoint_id
    missing = admin.patch(f"/orgs/{org.name}/webhooks/999999", json={"enabled": False})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
