"""The wall without a browser: the ink of every status colour, and its page and data over
HTTP against a real server (who may see them, and what they say)."""

from __future__ import annotations

import httpx
import orjson
import pytest
from sqlalchemy import Engine

from agentstatus.domain.catalogue import DEFAULT_CATALOGUE
from agentstatus.domain.clock import now_ms
from agentstatus.domain.contrast import (
    AA_TEXT,
    BLACK,
    WHITE,
    contrast_ratio,
    ink_for,
    relative_luminance,
)
from agentstatus.domain.queues import CallerChange, CallerEvent, QueueCaller
from agentstatus.service import queues
from agentstatus.service.organisations import org_id
from agentstatus.service.tokens import Role
from agentstatus.service.wall_links import create_link, revoke_all
from agentstatus.storage.database import reading
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess
from tests.support.web import WebUser, add_user, signed_in
from tests.support.wire import set_status


@pytest.mark.parametrize("status", DEFAULT_CATALOGUE, ids=lambda s: s.name)
def test_every_default_colour_gets_an_ink_that_reads(status: object) -> None:
    color = status.color  # type: ignore[attr-defined]
    ink = ink_for(color)
    assert ink in (BLACK, WHITE)
    assert contrast_ratio(color, ink) >= AA_TEXT, (color, ink)
    other = WHITE if ink == BLACK else BLACK
    assert contrast_ratio(color, ink) >= contrast_ratio(color, other)


def test_the_contrast_is_wcags() -> None:
    assert relative_luminance("#000000") == 0
    assert relative_luminance("#FFFFFF") == 1
    assert round(contrast_ratio(BLACK, WHITE), 2) == 21
    assert round(contrast_ratio("#777777", WHITE), 2) == 4.48  # WCAG's known near-miss
    assert ink_for("#777777") == BLACK
    assert ink_for("#34495e") == WHITE
    # The worst colour of all still reads at AA with its ink.
    worst = "#4b7d87"
    assert contrast_ratio(worst, ink_for(worst)) >= AA_TEXT
    with pytest.raises(ValueError, match="#rrggbb"):
        relative_luminance("red")


def _wall_of(engine: Engine) -> tuple[OrgFixture, WebUser]:
    org = make_org(engine, agent_count=3, extension_count=3)
    user = add_user(engine, f"w-{org.name}@example.com", Role.SUPERVISOR, org.name)
    return org, user


def test_the_page_is_the_wall_only_and_the_board_links_to_it(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org, user = _wall_of(shared_engine)
    base = shared_server.base_url
    # Without a session the shell is served (a wall link's token is in the fragment, which
    # no server sees): the organisation's name and the script, nothing else of the site.
    shell = httpx.get(f"{base}/o/{org.name}/wall", follow_redirects=False)
    assert shell.status_code == 200
    assert shell.headers["cache-control"] == "no-store"
    assert 'class="wall-back"' not in shell.text
    assert "Reports" not in shell.text
    assert "<form" not in shell.text
    with signed_in(base, user) as client:
        board = client.get(f"/o/{org.name}/")
        assert f'href="/o/{org.name}/wall"' in board.text
        page = client.get(f"/o/{org.name}/wall")
    assert page.status_code == 200
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    # No menu, no action: the board's link back (a session's) and the full-screen button.
    assert "Reports" not in page.text
    assert "Sign out" not in page.text
    assert "<form" not in page.text
    assert f'<a class="wall-back" href="/o/{org.name}/">Board</a>' in page.text
    assert 'data-page="wall"' in page.text


def test_the_state_and_the_queues(shared_server: ServerProcess, shared_engine: Engine) -> None:
    org, user = _wall_of(shared_engine)
    base = shared_server.base_url
    set_status(base, org.code, "101", "sip1", 3)
    with reading(shared_engine) as conn:
        oid = org_id(conn, org.name)
    at = now_ms() - 30_000
    gone = QueueCaller("support", "c1", "5551234")
    waiting = QueueCaller("support", "c2", "")
    queues.record(
        shared_engine,
        oid,
        [
            CallerEvent(gone, CallerChange.JOINED, at),
            CallerEvent(gone, CallerChange.ABANDONED, at + 1000),
            CallerEvent(gone, CallerChange.LEFT, at + 1001),
            CallerEvent(waiting, CallerChange.JOINED, at + 2000),
            CallerEvent(QueueCaller("sales", "c3", ""), CallerChange.JOINED, at),
            CallerEvent(QueueCaller("sales", "c3", ""), CallerChange.LEFT, at + 10),
        ],
    )
    with signed_in(base, user) as client:
        state = client.get(f"/o/{org.name}/wall/state")
        assert state.status_code == 200
        assert state.headers["cache-control"] == "no-store"
        body = state.json()
        figures = client.get(f"/o/{org.name}/wall/queues").json()
    lunch = next(s for s in body["statuses"] if s["id"] == 3)
    assert lunch == {
        "id": 3,
        "name": "Lunch break",
        "color": "#f39c12",
        "ink": "#000000",
        "available": False,
        "limit_seconds": None,
    }
    assert body["wrap_up_status"] == 13
    agent = next(a for a in body["agents"] if a["user_id"] == "101")
    assert agent["status"] == 3
    assert agent["extension"] == "sip1"
    assert agent["calls"] == []
    assert agent["next_status"] is None
    assert len(body["agents"]) == 3
    assert body["cursor"] > 0
    by_name = {q["name"]: q for q in body["queues"]}
    assert by_name["support"]["waiting"] == 1
    assert by_name["support"]["longest_since_ms"] == at + 2000
    assert by_name["support"]["service_level"] == 0.0  # one abandoned, none answered
    assert by_name["support"]["abandoned"] == 1
    # A queue nobody waits in now is there, reading 0.
    assert by_name["sales"]["waiting"] == 0
    assert by_name["sales"]["longest_since_ms"] is None
    assert figures["queues"] == body["queues"]


def test_who_may_see_a_wall(shared_server: ServerProcess, shared_engine: Engine) -> None:
    org, user = _wall_of(shared_engine)
    other, _ = _wall_of(shared_engine)
    root = add_user(shared_engine, f"root-w-{org.name}@example.com", Role.ADMIN, None)
    base = shared_server.base_url
    for path in ("state", "queues", "events"):
        answer = httpx.get(f"{base}/o/{org.name}/wall/{path}")
        assert answer.status_code == 401, path
        assert answer.json() == {"detail": "sign in first"}
        assert answer.headers["www-authenticate"] == "Bearer"
    with signed_in(base, user) as client:
        for path in ("state", "queues", "events"):
            answer = client.get(f"/o/{other.name}/wall/{path}")
            assert answer.status_code == 403, path
            assert answer.json() == {"detail": "you may not see this organisation"}
        answer = client.get(f"/o/{org.name}/wall/events", params={"after": "-1"})
        assert answer.status_code == 422
    with signed_in(base, root) as client:
        for path in ("state", "queues", "events"):
            answer = client.get(f"/o/no-such-org/wall/{path}")
            assert answer.status_code == 404, path
            assert "detail" in answer.json()
    # A wall link reads its own organisation's wall, and nothing of another's.
    link = create_link(shared_engine, org.name).token
    theirs = create_link(shared_engine, other.name).token
    bearer = {"authorization": f"Bearer {link}"}
    for path in ("state", "queues"):
        assert httpx.get(f"{base}/o/{org.name}/wall/{path}", headers=bearer).status_code == 200
        refused = httpx.get(
            f"{base}/o/{org.name}/wall/{path}", headers={"authorization": f"Bearer {theirs}"}
        )
        assert refused.status_code == 401, path
        assert refused.json()["reason"] == "unknown"
        assert theirs not in refused.text
    with httpx.stream("GET", f"{base}/o/{org.name}/wall/events", headers=bearer) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
    revoke_all(shared_engine, org.name)
    gone = httpx.get(f"{base}/o/{org.name}/wall/state", headers=bearer)
    assert (gone.status_code, gone.json()["reason"]) == (401, "revoked")


def test_the_stream_carries_the_changes_and_the_queues(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org, user = _wall_of(shared_engine)
    base = shared_server.base_url
    with signed_in(base, user) as client:
        cursor = client.get(f"/o/{org.name}/wall/state").json()["cursor"]
        set_status(base, org.code, "102", "sip2", 1)
        with reading(shared_engine) as conn:
            oid = org_id(conn, org.name)
        caller = QueueCaller("support", "c9", "")
        queues.record(shared_engine, oid, [CallerEvent(caller, CallerChange.JOINED, now_ms())])
        kinds: list[str] = []
        url = f"/o/{org.name}/wall/events"
        with client.stream("GET", url, headers={"last-event-id": str(cursor)}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    kinds.append(line.removeprefix("event: "))
                if line.startswith("data: ") and kinds[-1] == "queue.caller_joined":
                    queue = orjson.loads(line.removeprefix("data: "))["queue"]
                    assert (queue["name"], queue["call_id"]) == ("support", "c9")
                    break
    assert kinds == ["agent.login", "queue.caller_joined"]
