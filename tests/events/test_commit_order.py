"""The event stream's commit-order guard on PostgreSQL, with the interleavings forced.

History ids are drawn at insert time, so a transaction can hold a smaller id than a row
that has already committed. The stream must not pass that row until the smaller id has
committed too. The interleaving that defeated a per-row snapshot horizon: the later row's
statement starts (and takes its snapshot), then the other transaction takes its xid and a
smaller id, then the later row draws its id. ``pg_sleep`` inside the later row's INSERT
holds it in that window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import orjson
import psycopg
import pytest
from sqlalchemy import Engine, event, make_url, text

from agentstatus.app import open_database
from agentstatus.domain.catalogue import LOGIN
from agentstatus.events.feed import snapshot
from agentstatus.events.snapshot_frame import SnapshotBuilder, SnapshotFrame
from agentstatus.service.board import BoardPage, board_page
from agentstatus.storage import commit_order as feed
from agentstatus.storage.commit_order import CommitFence, read_events
from agentstatus.storage.database import libpq_conninfo
from tests.support.factories import OrgFixture, make_org
from tests.support.postgres import ADMIN_URL, PostgresDatabases

MOVE = "UPDATE presence SET status = status WHERE agent_id = %(agent)s"
BUSY = "UPDATE presence SET status = 3, since_ms = 1 WHERE agent_id = %(agent)s"
BUSY_EVENT = """
INSERT INTO history (org_id, agent_id, user_id, prev_status, new_status, at_ms, source, kind)
VALUES (%(org)s, %(agent)s, %(user)s, 2, 3, 1, 'GET', 'agent.login')
RETURNING id
"""

# The columns the status engine writes.
INSERT_AFTER_A_PAUSE = """
INSERT INTO history (org_id, agent_id, user_id, prev_extension, new_extension,
                     prev_status, new_status, at_ms, source, client_addr, kind)
SELECT %(org)s, %(agent)s, %(user)s, NULL, NULL, 2, 1, 0, 'GET', NULL, 'agent.login'
FROM (SELECT pg_sleep(%(pause)s)) AS pause
RETURNING id
"""


@pytest.fixture
def pg_url(postgres_databases: PostgresDatabases) -> str:
    return postgres_databases.create()


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = open_database(pg_url)
    yield engine
    engine.dispose()


def _ids(conn: psycopg.Connection[tuple[object, ...]], org: OrgFixture) -> tuple[int, int, int]:
    row = conn.execute(
        "SELECT o.id, min(a.id), max(a.id) FROM organisations o JOIN agents a ON a.org_id = o.id"
        " WHERE o.name = %s GROUP BY o.id",
        (org.name,),
    ).fetchone()
    assert row is not None
    return int(str(row[0])), int(str(row[1])), int(str(row[2]))


def test_a_row_is_held_back_while_a_smaller_id_may_still_commit(
    pg_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "SETTLE_SECONDS", 0.5)
    org = make_org(engine, agent_count=2)
    conninfo = libpq_conninfo(make_url(pg_url))
    with (
        psycopg.connect(conninfo) as later,
        psycopg.connect(conninfo) as earlier,
    ):
        oid, agent_a, agent_b = _ids(later, org)
        assert LOGIN == 1
        # The later row's transaction has its xid before its statement starts, as the
        # status engine's presence update gives it one.
        later.execute(MOVE, {"agent": agent_a})
        later_id: list[int] = []

        def insert_later() -> None:
            params = {"org": oid, "agent": agent_a, "user": "101", "pause": 1.0}
            row = later.execute(INSERT_AFTER_A_PAUSE, params).fetchone()
            assert row is not None
            later_id.append(int(str(row[0])))

        writer = threading.Thread(target=insert_later)
        writer.start()
        time.sleep(0.3)  # the later statement has its snapshot and is pausing
        earlier.execute(MOVE, {"agent": agent_b})
        row = earlier.execute(
            INSERT_AFTER_A_PAUSE, {"org": oid, "agent": agent_b, "user": "102", "pause": 0}
        ).fetchone()
        assert row is not None
        earlier_id = int(str(row[0]))
        writer.join(timeout=10)
        later.commit()
        assert later_id
        assert earlier_id < later_id[0]

        # The later row has committed, the earlier (smaller id) has not: nothing passes.
        assert read_events(engine, CommitFence(engine), org.name, oid, after=0) == []

        earlier.commit()
        passed = [e.id for e in read_events(engine, CommitFence(engine), org.name, oid, after=0)]
        assert passed == [earlier_id, later_id[0]]


def test_a_snapshot_waits_for_a_change_in_flight_and_reflects_it(
    pg_url: str, engine: Engine
) -> None:
    """The snapshot's cursor and presence rows agree: a change in flight when it is asked
    for is either in both or in neither."""
    org = make_org(engine, agent_count=2)
    conninfo = libpq_conninfo(make_url(pg_url))
    with psycopg.connect(conninfo) as writer:
        oid, agent_a, _ = _ids(writer, org)
        writer.execute(
            "UPDATE presence SET status = 3, since_ms = 1 WHERE agent_id = %(agent)s",
            {"agent": agent_a},
        )
        row = writer.execute(
            INSERT_AFTER_A_PAUSE, {"org": oid, "agent": agent_a, "user": "101", "pause": 0}
        ).fetchone()
        assert row is not None
        in_flight = int(str(row[0]))
        taken: list[SnapshotFrame] = []
        reader = threading.Thread(
            target=lambda: taken.append(
                snapshot(engine, CommitFence(engine), org.name, SnapshotBuilder(org.name))[1]
            )
        )
        reader.start()
        time.sleep(0.3)
        assert reader.is_alive(), "the snapshot did not wait for the change in flight"
        writer.commit()
        reader.join(timeout=10)
    (snap,) = taken
    assert snap.cursor == in_flight
    data = orjson.loads(snap.frame.split(b"\n")[1].removeprefix(b"data: "))
    assert {a["user_id"]: a["status"] for a in data["agents"]}["101"] == 3


def _board(engine: Engine, org: OrgFixture) -> BoardPage:
    return board_page(
        engine, CommitFence(engine), org.name, needle="", status=None, offset=0, limit=500
    )


def _board_then_stream(
    engine: Engine, org: OrgFixture, oid: int, page: BoardPage
) -> dict[str, int]:
    """Each agent's status as the page's script shows it once its stream (from the page's
    cursor) has caught up: the page's rows, then the events after its cursor."""
    shown = {a.user_id: a.status for a in page.agents}
    for e in read_events(engine, CommitFence(engine), org.name, oid, after=page.cursor):
        shown[e.user_id] = e.new_status
    return shown


def _change(conn: psycopg.Connection[tuple[object, ...]], oid: int, agent: int, user: str) -> int:
    """A change to status 3 as the status engine makes it (presence first), uncommitted;
    its history id."""
    conn.execute(BUSY, {"agent": agent})
    row = conn.execute(BUSY_EVENT, {"org": oid, "agent": agent, "user": user}).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_a_board_page_loaded_while_a_smaller_id_is_in_flight_loses_no_change(
    pg_url: str, engine: Engine
) -> None:
    """A page loaded while a change with a smaller id than the last committed one is in
    flight: the change is on the page or sent by its stream from the page's cursor. With
    the cursor read as the newest committed id (and the rows beside it, without waiting),
    the page would miss it and its stream would start past it."""
    org = make_org(engine, agent_count=2)
    conninfo = libpq_conninfo(make_url(pg_url))
    with psycopg.connect(conninfo) as earlier, psycopg.connect(conninfo) as later:
        oid, agent_a, agent_b = _ids(earlier, org)
        earlier_id = _change(earlier, oid, agent_b, "102")
        later_id = _change(later, oid, agent_a, "101")
        later.commit()
        assert earlier_id < later_id
        taken: list[BoardPage] = []
        reader = threading.Thread(target=lambda: taken.append(_board(engine, org)))
        reader.start()
        time.sleep(0.3)
        earlier.commit()
        reader.join(timeout=10)
    (page,) = taken
    assert _board_then_stream(engine, org, oid, page) == {"101": 3, "102": 3}
    # Exactly: every event up to the cursor is on the page, and none after it.
    assert page.cursor == later_id
    assert page.counts == {3: 2}


def test_a_board_page_takes_a_new_snapshot_when_a_smaller_id_commits_after_it(
    pg_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving the floor does not cover: once the floor is final, a change takes
    a smaller id, a later one commits, and the page's snapshot is taken between that
    commit and the smaller one's. The snapshot sees the later id and not the smaller:
    the page takes another, and reflects both."""
    org = make_org(engine, agent_count=2)
    conninfo = libpq_conninfo(make_url(pg_url))
    with psycopg.connect(conninfo) as earlier, psycopg.connect(conninfo) as later:
        oid, agent_a, agent_b = _ids(earlier, org)
        ids: list[int] = []
        floors = feed.latest_final

        def floor_then_writers(engine: Engine, fence: CommitFence, oid: int) -> int:
            found = floors(engine, fence, oid)
            if not ids:  # the first snapshot only
                ids.append(_change(earlier, oid, agent_b, "102"))
                ids.append(_change(later, oid, agent_a, "101"))
                later.commit()
                threading.Timer(0.3, earlier.commit).start()
            return found

        monkeypatch.setattr(feed, "latest_final", floor_then_writers)
        snapshots: list[int] = []
        ids_after = feed.ids_after

        def counting(
            conn: object, oid: int, floor: int, upto: int | None = None, limit: int | None = None
        ) -> list[int]:
            if upto is None and limit is None:  # a snapshot's first query, not a feed's read
                snapshots.append(floor)
            return ids_after(conn, oid, floor, upto, limit)  # type: ignore[arg-type]

        monkeypatch.setattr(feed, "ids_after", counting)
        page = _board(engine, org)
    earlier_id, later_id = ids
    assert earlier_id < later_id
    assert snapshots == [0, later_id], "the first snapshot was not taken again"
    assert page.cursor == later_id
    assert {a.user_id: a.status for a in page.agents} == {"101": 3, "102": 3}
    assert _board_then_stream(engine, org, oid, page) == {"101": 3, "102": 3}


def test_a_change_committed_after_the_page_is_sent_by_its_stream(
    pg_url: str, engine: Engine
) -> None:
    org = make_org(engine, agent_count=2)
    conninfo = libpq_conninfo(make_url(pg_url))
    page = _board(engine, org)
    with psycopg.connect(conninfo) as writer:
        oid, _, agent_b = _ids(writer, org)
        _change(writer, oid, agent_b, "102")
        writer.commit()
    assert page.counts.get(3, 0) == 0
    assert _board_then_stream(engine, org, oid, page)["102"] == 3


def test_a_transaction_in_another_database_holds_nothing_back(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "SETTLE_SECONDS", 0.5)
    org = make_org(engine)
    with psycopg.connect(ADMIN_URL) as elsewhere:
        elsewhere.execute("SELECT pg_current_xact_id()")  # an xid, held open
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE presence SET status = status WHERE agent_id ="
                    " (SELECT min(id) FROM agents)"
                )
            )
            oid = int(conn.execute(text("SELECT min(id) FROM organisations")).scalar_one())
            conn.execute(
                text(INSERT_AFTER_A_PAUSE.replace("%(", ":").replace(")s", "")),
                {"org": oid, "agent": 1, "user": "101", "pause": 0},
            )
        assert len(read_events(engine, CommitFence(engine), org.name, oid, after=0)) == 1


def test_streams_of_an_instance_share_their_fences(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many streams read at once, an instance takes one transaction id per fence
    interval, not one per read."""
    monkeypatch.setattr(feed, "FENCE_INTERVAL", 0.5)  # wide, for a slow machine
    taken: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "pg_current_xact_id" in statement:
            taken.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    fence = feed.CommitFence(engine)
    results: list[bool] = []
    together = threading.Barrier(8)

    def read() -> None:
        together.wait()
        results.append(fence.wait())

    readers = [threading.Thread(target=read) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=10)
    assert results == [True] * 8
    # The first reader takes a fence; the others queue behind it and share the next one.
    assert 1 <= len(taken) <= 2
