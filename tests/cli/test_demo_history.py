"""``agentstatus demo`` writes a believable past (yesterday, and today until now) through the
change path and the phone-system store, once: a second run adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from agentstatus.cli.demo import DEMO_AGENTS, DEMO_ORG
from agentstatus.cli.demo_day import LUNCH, Step, day_start_ms, demo_days, plan_day
from agentstatus.domain.calls import CallChange
from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.clock import now_ms
from agentstatus.domain.event_types import MISSED_CALL_EVENT, WRAP_UP_EVENT, WRAP_UP_REASON
from agentstatus.service import agents, organisations, presence, reports
from agentstatus.service.call_reports import calls_report
from agentstatus.service.organisations import org_id
from agentstatus.service.phone_calls import calls_by_extension
from agentstatus.storage import schema
from tests.cli.helpers import ok
from tests.support.history import all_history

USER_IDS = [user_id for user_id, _ in DEMO_AGENTS]
UTC = ZoneInfo("UTC")


def test_the_demo_writes_yesterday_and_today_once(database_url: str, engine: Engine) -> None:
    started = now_ms()
    first = ok(database_url, "demo")
    assert "history written for " in first.stdout
    events = all_history(engine, DEMO_ORG)
    yesterday, _ = demo_days(started, UTC)
    start, end = day_start_ms(yesterday, UTC), day_start_ms(yesterday, UTC) + 86_400_000
    assert all(e.at_ms <= now_ms() for e in events)

    # Yesterday, a whole working day for every agent: in at the start, out at the end.
    day = [e for e in events if start <= e.at_ms < end]
    for user_id in USER_IDS:
        mine = [e for e in day if e.user_id == user_id and e.call is None]
        assert (mine[0].prev_status, mine[0].new_status) == (LOGOUT, LOGIN)
        assert mine[-1].new_status == LOGOUT
        assert {e.new_status for e in mine} >= {LOGIN, LUNCH, LOGOUT}
        calls = [e for e in day if e.user_id == user_id and e.call is not None]
        assert len(calls) >= 10
        # As the change path and the phone-system store write them; the wrap-ups as the
        # phone system's rule makes them (in with pbx, out with system).
        assert {e.source for e in mine} <= {"GET", "panel", "pbx", "system"}
        assert {e.source for e in calls} == {"pbx"}
        assert {e.policy for e in calls} >= {"call:started", "call:answered", "call:ended"}
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert [e.at_ms for e in day] == sorted(e.at_ms for e in day)  # written in time order

    # Wrap-ups and missed calls, as their rules write them, reach the calls report.
    wrap_ups = [e for e in day if e.kind == WRAP_UP_EVENT]
    assert wrap_ups
    assert {(e.source, e.reason, e.new_status) for e in wrap_ups} == {("pbx", WRAP_UP_REASON, 13)}
    missed = [e for e in day if e.kind == MISSED_CALL_EVENT]
    assert {e.user_id for e in missed} == set(USER_IDS)  # a missed call each, every day
    assert {(e.source, e.prev_status, e.new_status) for e in missed} == {("pbx", LOGIN, LOGIN)}
    calls = calls_report(engine, DEMO_ORG, start, end)
    assert {r.user_id for r in calls} == set(USER_IDS)
    assert sum(r.figures.missed for r in calls) == len(missed)
    for row in calls:
        assert row.figures.answered >= 5
        assert row.figures.occupancy is not None
        assert 0.05 < row.figures.occupancy < 0.9

    # The report and the present agree with that history.
    rows = reports.time_in_status(engine, DEMO_ORG, start, end, None)
    for user_id in USER_IDS:
        seconds = {r.status: r.seconds for r in rows if r.user_id == user_id}
        assert seconds[LOGIN] > 6 * 3600
        assert 25 * 60 <= seconds[LUNCH] <= 40 * 60
    last = {e.user_id: e for e in events if e.is_change}  # a missed call changes nothing
    for now in presence.list_presence(engine, DEMO_ORG):
        assert (now.status, now.since_ms) == (last[now.user_id].new_status, last[now.user_id].at_ms)
    with engine.connect() as conn:  # no call left going on: there is no phone system
        assert calls_by_extension(conn, org_id(conn, DEMO_ORG)) == {}

    again = ok(database_url, "demo")
    assert "already written" in again.stdout
    assert len(all_history(engine, DEMO_ORG)) == len(events)


def test_today_stops_at_now_and_leaves_no_call_half_done() -> None:
    today = date(2026, 3, 4)
    zone = ZoneInfo("Asia/Jerusalem")
    noon = int(datetime.combine(today, time(12, 0), tzinfo=zone).timestamp() * 1000)
    steps = plan_day(today, zone, USER_IDS, noon)
    assert steps
    assert all(s.at_ms < noon for s in steps)
    assert steps == sorted(steps)
    first_login = min(s.at_ms for s in steps if s.status == LOGIN)
    assert first_login >= int(datetime.combine(today, time(8), tzinfo=zone).timestamp() * 1000)
    changes = Counter((s.call.call.id, s.call.change) for s in steps if s.call is not None)
    started = {i for i, change in changes if change is CallChange.STARTED}
    ended = {i for i, change in changes if change is CallChange.ENDED}
    assert started == ended
    assert set(changes.values()) == {1}

    # The same day planned again is the same day (a seeded plan).
    def what(planned: list[Step]) -> list[tuple[object, ...]]:
        return [(s.at_ms, s.user_id, s.status, s.source, s.call) for s in planned]

    assert what(plan_day(today, zone, USER_IDS, noon)) == what(steps)


def test_agents_made_before_the_history_exist_since_its_first_day(
    database_url: str, engine: Engine
) -> None:
    """A demo made by an earlier version has agents created today and no history."""
    organisations.create_organisation(engine, DEMO_ORG)
    for user_id, name in DEMO_AGENTS:
        agents.add_agent(engine, DEMO_ORG, user_id, name)
    ok(database_url, "demo")
    first = min(e.at_ms for e in all_history(engine, DEMO_ORG))
    with engine.connect() as conn:
        created = conn.execute(
            select(schema.agents.c.created_ms).where(
                schema.agents.c.org_id == org_id(conn, DEMO_ORG)
            )
        ).scalars()
        assert all(c <= first for c in created)
