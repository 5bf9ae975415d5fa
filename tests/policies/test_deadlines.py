"""The deadlines on a real database, acted on with the clock given (``claim_due(at=…)``):
planned by the change path and by setting a limit, cancelled by a change, claimed by one
caller at a time, the shift end logging out who was in and planning the next one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine, event, func, select

from agentstatus.app import open_database
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.domain.policies import Limit, LimitAction
from agentstatus.service import history, policies
from agentstatus.service.deadlines import WARN_CHUNK, DeadlineRunner, claim_due
from agentstatus.service.organisations import org_id
from agentstatus.service.status_change import StatusChanges, standalone_changes
from agentstatus.service.timezones import set_timezone
from agentstatus.storage.database import reading
from agentstatus.storage.schema import agents, deadlines, presence
from agentstatus.wire.outcomes import Row
from tests.support.factories import OrgFixture, make_org

MINUTE = 60_000


@pytest.fixture
async def changes(any_database_url: str, engine_on: Engine) -> AsyncIterator[StatusChanges]:
    async with standalone_changes(any_database_url) as made:
        yield made


@pytest.fixture
def engine_on(any_database_url: str) -> Iterator[Engine]:
    opened = open_database(any_database_url)
    yield opened
    opened.dispose()


def _oid(engine: Engine, org: OrgFixture) -> int:
    with reading(engine) as conn:
        return org_id(conn, org.name)


async def _set(
    changes: StatusChanges, engine: Engine, org: OrgFixture, user: str, ext: str | None, status: int
) -> None:
    result = await changes.apply(
        StatusCommand(user, ext, status, Source.ADMIN, org_id=_oid(engine, org))
    )
    assert result.row is Row.OK, result


def _since(engine: Engine, org: OrgFixture, user: str) -> int:
    with reading(engine) as conn:
        return int(
            conn.execute(
                select(presence.c.since_ms)
                .join(agents, agents.c.id == presence.c.agent_id)
                .where(agents.c.user_id == user, agents.c.org_id == _oid(engine, org))
            ).scalar_one()
        )


def _rows(
    engine: Engine, org: OrgFixture
) -> list[tuple[str, int, int, str, str | None, int | None]]:
    page = history.read_history(engine, org.name, limit=1000)
    return [
        (e.user_id, e.prev_status, e.new_status, e.source, e.policy, e.due_ms) for e in page.events
    ]


def _deadlines(engine: Engine) -> int:
    with reading(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(deadlines)).scalar_one())


def _runner(engine: Engine, changes: StatusChanges, told: list[int]) -> DeadlineRunner:
    return DeadlineRunner(engine, changes, told.append)


async def test_entering_a_limited_status_plans_a_deadline_and_the_warning_is_written_once(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    policies.set_limit(engine, org.name, 3, Limit(60, LimitAction.WARN))
    await _set(changes, engine, org, "101", "sip1", 3)
    since = _since(engine, org, "101")
    assert claim_due(engine, since + 59_000, MINUTE) == []  # not yet
    claimed = claim_due(engine, since + 61_000, MINUTE)
    assert [(d.kind, d.status, d.due_ms) for d in claimed] == [("limit", 3, since + 60_000)]
    told: list[int] = []
    await _runner(engine, changes, told).act(claimed)
    assert _rows(engine, org)[-1] == ("101", 3, 3, "system", "limit:warn", since + 60_000)
    assert told == [_oid(engine, org)]
    assert _deadlines(engine) == 0
    # Acting on the same claim again (an instance that lost its claim) writes nothing more.
    await _runner(engine, changes, told).act(claimed)
    assert [r[4] for r in _rows(engine, org)].count("limit:warn") == 1


async def test_login_and_logout_actions_go_through_the_change_path(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    policies.set_limit(engine, org.name, 5, Limit(60, LimitAction.LOGIN))
    policies.set_limit(engine, org.name, 7, Limit(60, LimitAction.LOGOUT))
    await _set(changes, engine, org, "101", "sip1", 5)
    await _set(changes, engine, org, "102", "sip2", 7)
    claimed = claim_due(engine, _since(engine, org, "102") + 61_000, MINUTE)
    await _runner(engine, changes, []).act(claimed)
    rows = _rows(engine, org)
    assert ("101", 5, 1, "system", "limit:login") in [r[:5] for r in rows]
    assert ("102", 7, 2, "system", "limit:logout") in [r[:5] for r in rows]
    await _runner(engine, changes, []).act(claimed)  # again: the versions moved on
    assert len(_rows(engine, org)) == len(rows)


async def test_a_change_before_the_deadline_cancels_it(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    policies.set_limit(engine, org.name, 3, Limit(60, LimitAction.LOGOUT))
    await _set(changes, engine, org, "101", "sip1", 3)
    since = _since(engine, org, "101")
    await _set(changes, engine, org, "101", "sip1", 1)  # back before the limit
    await _set(changes, engine, org, "101", "sip1", 3)  # and in again: a new deadline
    claimed = claim_due(engine, since + 61_000, MINUTE)
    assert [d.version for d in claimed] == [1, 3]  # the cancelled plan and the current one
    await _runner(engine, changes, []).act(claimed)
    # The first deadline did nothing (its version had moved on); the second logged out once.
    assert [(r[2], r[4]) for r in _rows(engine, org)] == [
        (3, None),
        (1, None),
        (3, None),
        (2, "limit:logout"),
    ]
    assert _deadlines(engine) == 0


async def test_changing_a_limit_re_plans_the_agents_in_the_status(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    await _set(changes, engine, org, "101", "sip1", 3)
    await _set(changes, engine, org, "102", "sip2", 3)
    await _set(changes, engine, org, "103", "sip3", 5)
    since = _since(engine, org, "101")
    policies.set_limit(engine, org.name, 3, Limit(600))
    with reading(engine) as conn:
        planned = conn.execute(select(deadlines.c.status, deadlines.c.due_ms)).all()
    assert sorted(s for s, _ in planned) == [3, 3]
    policies.set_limit(engine, org.name, 3, Limit(60))
    with reading(engine) as conn:
        dues = conn.execute(select(deadlines.c.due_ms).order_by(deadlines.c.due_ms)).scalars().all()
    assert len(dues) == 2
    assert dues[0] == since + 60_000
    assert policies.set_limit(engine, org.name, 3, None).limit_seconds is None
    assert _deadlines(engine) == 0


async def test_a_claim_is_one_callers_until_it_lapses(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    policies.set_limit(engine, org.name, 3, Limit(60))
    await _set(changes, engine, org, "101", "sip1", 3)
    at = _since(engine, org, "101") + 61_000
    assert len(claim_due(engine, at, MINUTE)) == 1
    assert claim_due(engine, at + 1000, MINUTE) == []
    assert len(claim_due(engine, at + MINUTE + 1, MINUTE)) == 1


async def test_the_shift_end_logs_out_who_was_in_and_plans_the_next(
    engine_on: Engine, changes: StatusChanges
) -> None:
    engine = engine_on
    org = make_org(engine)
    await _set(changes, engine, org, "101", "sip1", 1)
    await _set(changes, engine, org, "102", "sip2", 3)
    setting = policies.set_shift_end(engine, org.name, "18:00")
    assert setting.next_ms is not None
    due = setting.next_ms
    claimed = claim_due(engine, due + 1000, MINUTE)
    assert [d.kind for d in claimed] == ["shift"]
    await _runner(engine, changes, []).act(claimed)
    outs = [r for r in _rows(engine, org) if r[4] == "shift-end"]
    assert sorted((r[0], r[2], r[3], r[5]) for r in outs) == [
        ("101", 2, "system", due),
        ("102", 2, "system", due),
    ]
    following = policies.get_shift_end(engine, org.name).next_ms
    assert following is not None
    assert following > due


async def test_time_zone_changes_re_plan_the_shift_end(engine_on: Engine) -> None:
    engine = engine_on
    org = make_org(engine, agent_count=0, extension_count=0)
    in_utc = policies.set_shift_end(engine, org.name, "18:00").next_ms
    set_timezone(engine, org.name, "Asia/Tokyo")
    in_tokyo = policies.get_shift_end(engine, org.name).next_ms
    assert in_utc is not None
    assert in_tokyo is not None
    assert (in_utc - in_tokyo) % (24 * 3600 * 1000) == 9 * 3600 * 1000
    assert policies.set_shift_end(engine, org.name, None).next_ms is None
    assert _deadlines(engine) == 0


async def test_a_limit_on_a_crowded_status_warns_in_chunks_and_a_new_value_warns_no_one_again(
    engine_on: Engine, changes: StatusChanges
) -> None:
    """250 agents past a new limit: their warnings take three transactions, not 250 (the
    write lock is given up between chunks); changing the limit's value does not warn them
    again in the same stint, and a new stint is warned."""
    engine = engine_on
    org = make_org(engine, agent_count=250, extension_count=250)
    for user, sip in zip(org.agents, org.extensions, strict=True):
        await _set(changes, engine, org, user, sip, 3)
    policies.set_limit(engine, org.name, 3, Limit(60, LimitAction.WARN))
    begun: list[object] = []
    count = begun.append
    event.listen(engine, "begin", count)
    try:
        claimed = claim_due(engine, now_ms() + 61_000, MINUTE)
        assert len(claimed) == 250
        before = len(begun)
        await _runner(engine, changes, []).act(claimed)
        assert len(begun) - before <= 250 // WARN_CHUNK + 2  # the read, the chunks
    finally:
        event.remove(engine, "begin", count)
    warned = [r for r in _rows(engine, org) if r[4] == "limit:warn"]
    assert len(warned) == 250
    policies.set_limit(engine, org.name, 3, Limit(30, LimitAction.WARN))
    await _runner(engine, changes, []).act(claim_due(engine, now_ms() + 61_000, MINUTE))
    assert [r[4] for r in _rows(engine, org)].count("limit:warn") == 250
    await _set(changes, engine, org, org.agents[0], org.extensions[0], 1)
    await _set(changes, engine, org, org.agents[0], org.extensions[0], 3)  # a new stint
    policies.set_limit(engine, org.name, 3, Limit(90, LimitAction.WARN))
    again = claim_due(engine, now_ms() + 91_000, MINUTE)
    assert len(again) == 1
    await _runner(engine, changes, []).act(again)
    assert [r[4] for r in _rows(engine, org)].count("limit:warn") == 251
