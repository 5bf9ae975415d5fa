"""The panel's own API through a real server, on SQLite and PostgreSQL: what a link can
see and change (its agent, nothing else), the words of its refusals, CORS and framing by
the organisation's embed origins, and the token kept out of the log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Engine, select, update

from agentstatus.service import embed_origins, panel_links
from agentstatus.service.history import read_history
from agentstatus.service.organisations import org_id
from agentstatus.service.panel_links import CreatedLink
from agentstatus.storage.schema import agents as agents_table
from agentstatus.storage.schema import history
from agentstatus.storage.schema import panel_links as panel_links_table
from tests.support.factories import OrgFixture
from tests.support.server import ServerProcess
from tests.support.sse import Subscriber
from tests.support.wire import set_status

# reads the log file of the server: a real process
pytestmark = pytest.mark.server_process

DAY_MS = 24 * 3600 * 1000

CRM = "https://crm.example.com"


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    return shared_database_url_on_each_engine


@pytest.fixture
def org(shared_org_factory: Callable[..., OrgFixture], shared_engine: Engine) -> OrgFixture:
    made = shared_org_factory()
    embed_origins.set_embed_origins(shared_engine, made.name, [CRM])
    return made


@pytest.fixture
def link_for(shared_engine: Engine) -> Callable[..., CreatedLink]:
    def make(org: OrgFixture, user_id: str = "101", extension: str | None = None) -> CreatedLink:
        return panel_links.create_link(shared_engine, org.name, user_id, extension)

    return make


@pytest.fixture
def panel(shared_server: ServerProcess) -> Iterator[Callable[..., httpx.Client]]:
    opened: list[httpx.Client] = []

    def make(org: OrgFixture, link: CreatedLink, **headers: str) -> httpx.Client:
        client = httpx.Client(
            base_url=f"{shared_server.base_url}/panel/{org.name}/api",
            headers={"authorization": f"Bearer {link.token}", **headers},
            timeout=10,
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def _sources(engine: Engine, user_id: str, org: OrgFixture) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(history.c.new_status, history.c.source)
            .where(history.c.user_id == user_id, history.c.org_id == _oid(engine, org))
            .order_by(history.c.id)
        )
        return [(r.new_status, r.source) for r in rows]


def _oid(engine: Engine, org: OrgFixture) -> int:
    with engine.connect() as conn:
        return org_id(conn, org.name)


def test_the_state_is_the_agent_its_presence_and_the_enabled_statuses(
    panel: Callable[..., httpx.Client], link_for: Callable[..., CreatedLink], org: OrgFixture
) -> None:
    answer = panel(org, link_for(org)).get("/state")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["agent"] == {"user_id": "101", "name": "Agent 1"}
    assert body["presence"]["status"] == 2
    assert body["presence"]["extension"] is None
    assert [s["id"] for s in body["statuses"]] == [1, 2, 3, 5, 7, 9, 11, 12, 13]
    assert body["language"] == "en"
    assert body["direction"] == "ltr"
    assert body["texts"]["extension"] == "Extension"
    hebrew = panel(org, link_for(org), **{"accept-language": "he-IL,he;q=0.9"}).get("/state")
    assert hebrew.json()["direction"] == "rtl"
    assert hebrew.json()["texts"]["extension"] != "Extension"
    assert panel(org, link_for(org)).get("/state", params={"lang": "he"}).json()["language"] == "he"


def test_changes_go_through_the_change_path_with_source_panel(
    panel: Callable[..., httpx.Client],
    link_for: Callable[..., CreatedLink],
    org: OrgFixture,
    shared_engine: Engine,
) -> None:
    link = link_for(org)
    client = panel(org, link)
    login = client.post("/status", json={"status": 1, "extension": "sip1"})
    assert login.status_code == 200, login.text
    assert login.json()["presence"]["extension"] == "sip1"
    lunch = client.post("/status", json={"status": 3})  # keeps the extension it holds
    assert lunch.json()["presence"] == {
        **lunch.json()["presence"],
        "status": 3,
        "extension": "sip1",
    }
    assert client.post("/status", json={"status": 2}).json()["presence"]["extension"] is None
    assert _sources(shared_engine, "101", org) == [(1, "panel"), (3, "panel"), (2, "panel")]
    # Who: the agent itself, through this link (links carry no label).
    actors = {e.actor for e in read_history(shared_engine, org.name, user_id="101").events}
    assert actors == {f"panel-link:{link.link.id}"}


def test_logging_in_needs_an_extension_unless_the_link_fixes_one(
    panel: Callable[..., httpx.Client], link_for: Callable[..., CreatedLink], org: OrgFixture
) -> None:
    asked = panel(org, link_for(org)).post("/status", json={"status": 1})
    assert asked.status_code == 422
    assert asked.json() == {"detail": "Enter your extension to log in.", "reason": "need_extension"}
    fixed = panel(org, link_for(org, "102", "sip2"))
    answer = fixed.post("/status", json={"status": 1, "extension": "sip3"})
    assert answer.json()["presence"]["extension"] == "sip2"  # the link's, not the one sent


def test_refusals_are_in_words(
    panel: Callable[..., httpx.Client], link_for: Callable[..., CreatedLink], org: OrgFixture
) -> None:
    panel(org, link_for(org, "101")).post("/status", json={"status": 1, "extension": "sip1"})
    other = panel(org, link_for(org, "102"))
    taken = other.post("/status", json={"status": 1, "extension": "sip1"})
    assert taken.status_code == 409
    assert taken.json() == {
        "detail": "Extension sip1 is in use by another agent.",
        "reason": "extension_in_use",
    }
    unknown = other.post("/status", json={"status": 1, "extension": "sip9"})
    assert unknown.json()["detail"] == "There is no extension sip9 in your organisation."
    disabled = other.post("/status", json={"status": 4, "extension": "sip2"})
    assert disabled.json() == {
        "detail": "This status is no longer available.",
        "reason": "status_unavailable",
    }
    hebrew = panel(org, link_for(org, "102"), **{"accept-language": "he"})
    said = hebrew.post("/status", json={"status": 1, "extension": "sip1"}).json()["detail"]
    assert "sip1" in said
    assert "Extension" not in said


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'{"status": "1"}',
        b'{"status": true}',
        b'{"status": -1}',
        b'{"status": 1, "extension": 5}',
        b'{"status": 1, "extension": "' + b"9" * 200 + b'"}',
        b'{"status": 1e400}',
        b"\xff\xfe",
    ],
)
def test_malformed_changes_are_422_and_change_nothing(
    panel: Callable[..., httpx.Client],
    link_for: Callable[..., CreatedLink],
    org: OrgFixture,
    shared_engine: Engine,
    body: bytes,
) -> None:
    answer = panel(org, link_for(org)).post("/status", content=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["reason"] == "bad_request"
    assert _sources(shared_engine, "101", org) == []


def test_a_large_body_is_413(
    panel: Callable[..., httpx.Client], link_for: Callable[..., CreatedLink], org: OrgFixture
) -> None:
    answer = panel(org, link_for(org)).post("/status", content=b"{" + b" " * 5000 + b"}")
    assert answer.status_code == 413


def test_a_link_of_agent_a_reaches_agent_a_only(
    panel: Callable[..., httpx.Client],
    link_for: Callable[..., CreatedLink],
    org: OrgFixture,
    shared_org_factory: Callable[..., OrgFixture],
    shared_server: ServerProcess,
    shared_engine: Engine,
) -> None:
    link = link_for(org, "101")
    client = panel(org, link)
    # Whatever the body names, the change is the link's agent's.
    answer = client.post("/status", json={"status": 1, "extension": "sip1", "user_id": "102"})
    assert answer.status_code == 200
    assert _sources(shared_engine, "102", org) == []
    # Another organisation's path: the link is unknown there.
    other = shared_org_factory()
    elsewhere = httpx.get(
        f"{shared_server.base_url}/panel/{other.name}/api/state",
        headers={"authorization": f"Bearer {link.token}"},
    )
    assert elsewhere.status_code == 401
    assert elsewhere.json()["reason"] == "unknown"
    # The management API does not take it.
    for path in (f"/orgs/{org.name}/presence", f"/orgs/{org.name}/agents", "/orgs"):
        refused = httpx.get(
            f"{shared_server.base_url}/api/v1{path}",
            headers={"authorization": f"Bearer {link.token}"},
        )
        assert refused.status_code == 401, path
    events = httpx.get(
        f"{shared_server.base_url}/api/v1/orgs/{org.name}/events",
        headers={"authorization": f"Bearer {link.token}"},
    )
    assert events.status_code == 401
    # Its stream carries its agent's events only: B's change is not in it.
    with Subscriber(f"{shared_server.base_url}/panel/{org.name}/api/events", link.token) as stream:
        snapshot = stream.wait_for(1)[0]
        assert snapshot.event == "snapshot"
        assert [a["user_id"] for a in snapshot.data["agents"]] == ["101"]  # type: ignore[attr-defined]
        set_status(shared_server.base_url, org.code, "102", "sip2", 1)
        set_status(shared_server.base_url, org.code, "101", "sip1", 3)
        events_seen = stream.wait_for(2)
        time.sleep(0.5)
        assert [e.data["user_id"] for e in stream.events[1:]] == ["101"]
        assert events_seen[1].data["new"] == {"extension": "sip1", "status": 3}


def test_expired_and_revoked_links_are_refused_in_words_and_change_nothing(
    panel: Callable[..., httpx.Client],
    link_for: Callable[..., CreatedLink],
    org: OrgFixture,
    shared_engine: Engine,
) -> None:
    expired, revoked = link_for(org), link_for(org)
    with shared_engine.begin() as conn:
        conn.execute(
            update(panel_links_table)
            .where(panel_links_table.c.id == expired.link.id)
            .values(expires_ms=0)
        )
    panel_links.revoke_link(shared_engine, org.name, revoked.link.id)
    for link, reason, words in (
        (expired, "expired", "This panel link has expired. Reload the CRM page to get a new one."),
        (revoked, "revoked", "This panel link was revoked. Ask your supervisor or your CRM."),
    ):
        client = panel(org, link)
        for answer in (
            client.get("/state"),
            client.post("/status", json={"status": 1, "extension": "sip1"}),
            client.get("/events"),
        ):
            assert answer.status_code == 401
            assert answer.json() == {"detail": words, "reason": reason}
    assert _sources(shared_engine, "101", org) == []
    for token in ("-", "asp_not-a-token", "x" * 5000):
        answer = httpx.get(
            str(panel(org, expired).base_url).rstrip("/") + "/state",
            headers={"authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 401
        assert answer.json()["reason"] == "unknown"


def test_a_revoked_link_and_a_deactivated_agent_end_the_stream(
    link_for: Callable[..., CreatedLink],
    org: OrgFixture,
    shared_server: ServerProcess,
    shared_engine: Engine,
) -> None:
    url = f"{shared_server.base_url}/panel/{org.name}/api/events"
    revoked, deactivated = link_for(org, "101"), link_for(org, "102")
    with Subscriber(url, revoked.token) as first, Subscriber(url, deactivated.token) as second:
        first.wait_for(1)
        second.wait_for(1)
        panel_links.revoke_link(shared_engine, org.name, revoked.link.id)
        # Inactive without the revocation deactivating does too: the stream's check of
        # the link reads the agent as well.
        oid = _oid(shared_engine, org)
        with shared_engine.begin() as conn:
            conn.execute(
                update(agents_table)
                .where(agents_table.c.user_id == "102", agents_table.c.org_id == oid)
                .values(active=False)
            )
        first.wait_ended_cleanly(10)
        second.wait_ended_cleanly(10)


def test_only_listed_origins_may_call_the_panel(
    panel: Callable[..., httpx.Client],
    link_for: Callable[..., CreatedLink],
    org: OrgFixture,
    shared_engine: Engine,
) -> None:
    client = panel(org, link_for(org))
    preflight = client.options(
        "/status",
        headers={
            "origin": CRM,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == CRM
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in preflight.headers
    allowed = client.get("/state", headers={"origin": CRM, "sec-fetch-site": "cross-site"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == CRM
    assert "origin" in allowed.headers["vary"].lower()
    for origin in (
        "https://evil.example",
        "null",
        "https://crm.example.com:8443",
        "http://crm.example.com",
    ):
        for answer in (
            client.options(
                "/status", headers={"origin": origin, "access-control-request-method": "POST"}
            ),
            client.post(
                "/status", json={"status": 1, "extension": "sip1"}, headers={"origin": origin}
            ),
            client.get("/events", headers={"origin": origin}),
        ):
            assert answer.status_code == 403, (origin, answer.request.method)
            assert "access-control-allow-origin" not in answer.headers
            assert answer.json()["reason"] == "origin"
    assert _sources(shared_engine, "101", org) == []
    embed_origins.set_embed_origins(shared_engine, org.name, ["https://evil.example"])
    time.sleep(2.1)  # the lists are cached for 2 s
    assert client.get("/state", headers={"origin": CRM}).status_code == 403


def test_the_panel_page_may_be_framed_by_listed_origins_only(
    shared_server: ServerProcess, org: OrgFixture, shared_engine: Engine
) -> None:
    page = httpx.get(f"{shared_server.base_url}/panel/{org.name}")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert f"frame-ancestors {CRM}" in policy
    assert "x-frame-options" not in page.headers
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<agentstatus-panel" in page.text
    embed_origins.set_embed_origins(shared_engine, org.name, None)
    time.sleep(2.1)
    again = httpx.get(f"{shared_server.base_url}/panel/{org.name}")
    assert "frame-ancestors 'none'" in again.headers["content-security-policy"]
    unknown = httpx.get(f"{shared_server.base_url}/panel/no-such-org")
    assert "frame-ancestors 'none'" in unknown.headers["content-security-policy"]


def test_the_script_and_style_load_from_any_page(shared_server: ServerProcess) -> None:
    for path, kind in (("/panel/embed.js", "text/javascript"), ("/panel/panel.css", "text/css")):
        answer = httpx.get(
            f"{shared_server.base_url}{path}", headers={"origin": "https://any.example"}
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(kind)
        assert answer.headers["access-control-allow-origin"] == "*"
        assert answer.headers["cross-origin-resource-policy"] == "cross-origin"
        again = httpx.get(
            f"{shared_server.base_url}{path}", headers={"if-none-match": answer.headers["etag"]}
        )
        assert again.status_code == 304


def test_unknown_panel_paths_and_methods_answer_json(shared_server: ServerProcess) -> None:
    base = shared_server.base_url
    assert httpx.get(f"{base}/panel/").status_code == 404
    assert httpx.get(f"{base}/panel/x/api/nothing").status_code == 404
    wrong = httpx.delete(f"{base}/panel/x/api/state")
    assert wrong.status_code == 405
    assert wrong.json()["reason"] == "bad_request"


def test_the_token_is_not_in_the_log(
    panel: Callable[..., httpx.Client],
    link_for: Callable[..., CreatedLink],
    org: OrgFixture,
    shared_server: ServerProcess,
) -> None:
    link = link_for(org)
    client = panel(org, link)
    client.get("/state")
    client.post("/status", json={"status": 1, "extension": "sip1"})
    client.post("/status", content=b"{")
    # The link pasted with "/" for "#", and the token in a query: redacted.
    base = shared_server.base_url
    httpx.get(f"{base}/panel/{org.name}/{link.token}")
    httpx.get(f"{base}/panel/{org.name}?t={link.token}")
    time.sleep(0.5)  # the access log is flushed a few times a second
    log = shared_server.log_path.read_text()
    assert f"/panel/{org.name}/api/state" in log
    assert link.token not in log
    assert link.token.removeprefix("asp_")[:12] not in log
    assert f"/panel/{org.name}/asp_[redacted]" in log


def test_a_resume_reads_the_agents_events_and_not_from_too_far_back(
    link_for: Callable[..., CreatedLink],
    org: OrgFixture,
    shared_server: ServerProcess,
    shared_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``Last-Event-ID: 0`` from a panel: the catch-up reads the agent's own events (never
    the organisation's whole history), and a cursor from before the resume horizon gets a
    snapshot instead of the history."""
    from agentstatus.events import fanout as fanout_module
    from agentstatus.events.fanout import EventFilter, Fanout
    from agentstatus.events.hub import EventHub

    base, sip = shared_server.base_url, org.extensions
    for n in range(30):  # the organisation's history: other agents' changes
        set_status(base, org.code, "102", sip[1], 3 if n % 2 else 1)
    set_status(base, org.code, "101", sip[0], 1)
    oid = _oid(shared_engine, org)
    with shared_engine.connect() as conn:
        last = conn.execute(select(history.c.id).order_by(history.c.id.desc()).limit(1)).scalar()
    assert last is not None
    rows_read: list[int] = []
    real = fanout_module.read_final

    def counted(*args: object) -> list[object]:
        found = real(*args)  # type: ignore[arg-type]
        rows_read.append(len(found))
        return found  # type: ignore[return-value]

    monkeypatch.setattr(fanout_module, "read_final", counted)
    fanout = Fanout(shared_engine, EventHub(), None)  # type: ignore[arg-type]

    async def catch_up() -> list[bytes]:
        wanted = EventFilter(frozenset({"101"}), None)
        return [f async for f in fanout.history(org.name, oid, 0, last, wanted)]

    frames = asyncio.run(catch_up())
    assert len(frames) == 1
    assert sum(rows_read) == 1  # not the 31 rows of the organisation
    # Everything older than the horizon: a resume from 0 is a snapshot, not the history.
    with shared_engine.begin() as conn:
        conn.execute(
            update(history).where(history.c.org_id == oid).values(at_ms=history.c.at_ms - DAY_MS)
        )
    url = f"{base}/panel/{org.name}/api/events"
    with Subscriber(url, link_for(org, "101").token, last_event_id=0) as resumed:
        first = resumed.wait_for(1)[0]
    assert first.event == "snapshot"
    with Subscriber(url, link_for(org, "101").token, last_event_id=last) as current:
        set_status(base, org.code, "101", sip[0], 3)
        assert current.wait_for(1)[0].event == "agent.status"
