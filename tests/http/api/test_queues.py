"""``/orgs/{org}/queues``: the callers waiting and each queue's day, read by a supervisor;
a queue's service-level threshold set by an admin, refused clearly through the one error
table."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.queues import CallerChange
from agentstatus.service.tokens import Role
from tests.conftest import OrgFactory
from tests.http.api.conftest import ClientFactory
from tests.support.factories import OrgFixture
from tests.support.queues import ended, joined, write_callers


def a_busy_day(engine: Engine, org: OrgFixture) -> int:
    """support: four callers, one answered in 5 s, one in 25 s, one abandoned, one still
    waiting (30 s); sales: one waiting (10 s). When "now" was, in ms."""
    now = now_ms()
    write_callers(
        engine,
        org.name,
        [
            *(joined("support", f"c{i}", f"05000000{i}", now - 60_000) for i in range(3)),
            joined("support", "c3", "", now - 30_000),
            joined("sales", "s1", "0509999999", now - 10_000),
            ended(CallerChange.ANSWERED, "support", "c0", "050000000", now - 55_000),
            ended(CallerChange.ANSWERED, "support", "c1", "050000001", now - 35_000),
            ended(CallerChange.ABANDONED, "support", "c2", "050000002", now - 50_000),
        ],
    )
    return now


def test_a_supervisor_reads_the_queues_now_and_today(
    client_for: ClientFactory, org: OrgFixture, shared_engine: Engine
) -> None:
    supervisor = client_for(Role.SUPERVISOR, org.name)
    assert supervisor.get(f"/orgs/{org.name}/queues").json() == []  # none heard of yet
    now = a_busy_day(shared_engine, org)
    answer = supervisor.get(f"/orgs/{org.name}/queues")
    assert answer.status_code == 200, answer.text
    sales, support = answer.json()
    assert (sales["name"], support["name"]) == ("sales", "support")
    assert support["service_level_seconds"] == 20
    assert support["weight"] == 0
    assert isinstance(support["id"], int)
    (waiting,) = support["waiting"]
    assert (waiting["phone"], waiting["call_id"]) == ("", "c3")
    assert waiting["joined_at"] == to_iso(now - 30_000)
    assert 30 <= waiting["wait_seconds"] <= 40
    today = support["today"]
    assert {k: today[k] for k in ("offered", "answered", "abandoned", "answered_within")} == {
        "offered": 4,
        "answered": 2,
        "abandoned": 1,
        "answered_within": 1,  # 5 s; 25 s is over the 20 s threshold
    }
    assert today["service_level"] == pytest.approx(1 / 3)
    assert today["average_wait_seconds"] == 15.0  # (5 + 25) / 2
    assert 30 <= today["longest_wait_seconds"] <= 40
    assert sales["today"]["service_level"] is None  # nothing answered or abandoned yet
    assert sales["today"]["average_wait_seconds"] is None
    assert [w["call_id"] for w in sales["waiting"]] == ["s1"]


def test_an_admin_sets_a_queues_threshold_which_counts_from_the_next_answer(
    admin: httpx.Client, org: OrgFixture, shared_engine: Engine
) -> None:
    now = a_busy_day(shared_engine, org)
    answer = admin.put(f"/orgs/{org.name}/queues/support", json={"service_level_seconds": 30})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["name"], body["service_level_seconds"], body["weight"]) == ("support", 30, 0)
    weighed = admin.put(
        f"/orgs/{org.name}/queues/support", json={"service_level_seconds": 30, "weight": 5}
    )
    assert weighed.json()["weight"] == 5
    assert weighed.json()["id"] == body["id"]
    # The caller waiting 30 s is answered now: within the new 30 s threshold.
    write_callers(shared_engine, org.name, [ended(CallerChange.ANSWERED, "support", "c3", "", now)])
    support = next(
        q for q in admin.get(f"/orgs/{org.name}/queues").json() if q["name"] == "support"
    )
    assert (support["service_level_seconds"], support["weight"]) == (30, 5)
    assert support["today"]["answered_within"] == 2  # 25 s before stays counted as it was
    assert support["waiting"] == []
    assert support["today"]["longest_wait_seconds"] == 0


def test_bad_thresholds_and_unknown_queues_are_refused(
    admin: httpx.Client, org: OrgFixture, shared_engine: Engine
) -> None:
    a_busy_day(shared_engine, org)
    path = f"/orgs/{org.name}/queues/support"
    for bad in (
        {"service_level_seconds": 0},
        {"service_level_seconds": 3601},
        {"service_level_seconds": "20"},
        {"service_level_seconds": 20.5},
        {"service_level_seconds": True},
        {"service_level_seconds": 20, "weight": -1},
        {"weight": 3},
        {},
        {"service_level_seconds": 20, "colour": "red"},
    ):
        answer = admin.put(path, json=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["code"] == "validation_error"
    not_json = admin.put(path, content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 422
    unknown = admin.put(f"/orgs/{org.name}/queues/nobody", json={"service_level_seconds": 20})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "queue_not_found"
    assert "nobody" in unknown.json()["detail"]
    gone = admin.put("/orgs/no-such-org/queues/support", json={"service_level_seconds": 20})
    assert (gone.status_code, gone.json()["code"]) == (404, "organisation_not_found")
    long_name = admin.put(
        f"/orgs/{org.name}/queues/{'q' * 129}", json={"service_level_seconds": 20}
    )
    assert long_name.status_code == 422
    support = next(
        q for q in admin.get(f"/orgs/{org.name}/queues").json() if q["name"] == "support"
    )
    assert support["service_level_seconds"] == 20  # nothing was set
    assert "nobody" not in {q["name"] for q in admin.get(f"/orgs/{org.name}/queues").json()}


def test_who_may_read_and_who_may_set(
    client_for: ClientFactory,
    anonymous: httpx.Client,
    org: OrgFixture,
    shared_org_factory: OrgFactory,
    shared_engine: Engine,
) -> None:
    a_busy_day(shared_engine, org)
    path = f"/orgs/{org.name}/queues"
    body = {"service_level_seconds": 30}
    assert anonymous.get(path).status_code == 401
    assert anonymous.get(path).json()["code"] == "unauthorized"
    supervisor = client_for(Role.SUPERVISOR, org.name)
    assert supervisor.get(path).status_code == 200
    refused = supervisor.put(f"{path}/support", json=body)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    elsewhere = client_for(Role.ADMIN, shared_org_factory().name)
    for answer in (elsewhere.get(path), elsewhere.put(f"{path}/support", json=body)):
        assert (answer.status_code, answer.json()["code"]) == (403, "forbidden")
    assert client_for(Role.ADMIN, org.name).put(f"{path}/support", json=body).status_code == 200
