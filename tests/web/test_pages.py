"""The pages over HTTP against a real server: security headers, cross-site requests,
escaping, roles and organisations, languages, static files, malformed requests."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.service import agents, presence
from agentstatus.service.tokens import Role
from tests.support.factories import OrgFixture, make_org
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, add_user, signed_in, text_of
from tests.support.wire import set_status

CSP = re.compile(r"script-src 'self';.*frame-ancestors 'none'")


def test_every_page_is_sent_with_a_strict_policy(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture
) -> None:
    with signed_in(shared_server.base_url, supervisor) as client:
        board = client.get("/")
        static = re.search(r'src="(/static/board\.[0-9a-f]{10}\.js)"', board.text)
        assert static is not None
        answers = [
            board,
            client.get("/sign-in"),
            client.get("/o/no-such-org/"),
            client.get(static.group(1)),
        ]
    for answer in answers:
        policy = answer.headers["content-security-policy"]
        assert CSP.search(policy), policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
    # No inline script or style anywhere: only JSON data blocks and files of our origin.
    assert "<style" not in board.text
    assert " style=" not in board.text
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", board.text)  # no inline handlers
    scripts = re.findall(r"<script([^>]*)>", board.text)
    assert scripts
    for attributes in scripts:
        assert 'type="application/json"' in attributes or 'src="/static/' in attributes


def test_static_files_are_cache_busted(shared_server: ServerProcess) -> None:
    page = httpx.get(f"{shared_server.base_url}/sign-in").text
    css = re.search(r'href="(/static/app\.[0-9a-f]{10}\.css)"', page)
    assert css is not None
    hashed = httpx.get(shared_server.base_url + css.group(1))
    assert hashed.status_code == 200
    assert "immutable" in hashed.headers["cache-control"]
    assert hashed.headers["content-type"].startswith("text/css")
    plain = httpx.get(f"{shared_server.base_url}/static/app.css")
    assert plain.headers["cache-control"] == "no-cache"
    assert plain.content == hashed.content
    assert httpx.get(f"{shared_server.base_url}/static/nothing.js").status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
        {"origin": "null"},
    ],
)
def test_cross_site_posts_are_refused(
    shared_server: ServerProcess,
    shared_engine: Engine,
    supervisor: WebUser,
    org: OrgFixture,
    headers: dict[str, str],
) -> None:
    set_status(shared_server.base_url, org.code, org.agents[0], org.extensions[0], 1)
    with signed_in(shared_server.base_url, supervisor) as client:
        refused = client.post(f"/o/{org.name}/agents/{org.agents[0]}/logout", headers=headers)
        sign_out = client.post("/sign-out", headers=headers)
        still_in = client.get("/")
    assert refused.status_code == sign_out.status_code == 403
    assert still_in.status_code == 200  # still signed in
    states = {p.user_id: p.status for p in presence.list_presence(shared_engine, org.name)}
    assert states[org.agents[0]] == 1  # not logged out


def test_a_same_origin_post_by_origin_alone_passes(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    set_status(shared_server.base_url, org.code, org.agents[0], org.extensions[0], 1)
    with signed_in(shared_server.base_url, supervisor) as client:
        answer = client.post(
            f"/o/{org.name}/agents/{org.agents[0]}/logout",
            headers={"origin": shared_server.base_url, "accept": "application/json"},
        )
    assert answer.status_code == 200
    assert answer.json() == {"logged_out": True}
    states = {p.user_id: p.status for p in presence.list_presence(shared_engine, org.name)}
    assert states[org.agents[0]] == 2


def test_logging_everyone_out_is_for_admins(
    shared_server: ServerProcess,
    supervisor: WebUser,
    admin: WebUser,
    org: OrgFixture,
    shared_engine: Engine,
) -> None:
    for user_id, sip in zip(org.agents, org.extensions, strict=True):
        set_status(shared_server.base_url, org.code, user_id, sip, 1)
    with signed_in(shared_server.base_url, supervisor) as client:
        assert "Log everyone out" not in client.get("/").text
        refused = client.post(f"/o/{org.name}/logout-all", headers=SAME_ORIGIN)
    assert refused.status_code == 403
    with signed_in(shared_server.base_url, admin) as client:
        assert "Log everyone out" in client.get("/").text
        done = client.post(
            f"/o/{org.name}/logout-all", headers={**SAME_ORIGIN, "accept": "application/json"}
        )
    assert done.json() == {"logged_out": 3}
    assert {p.status for p in presence.list_presence(shared_engine, org.name)} == {2}


def test_agent_names_are_shown_as_text(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    agents.add_agent(shared_engine, org.name, "666", hostile)
    with signed_in(shared_server.base_url, supervisor) as client:
        board = client.get("/").text
    assert hostile not in board
    assert "&lt;img src=x onerror=alert(1)&gt;" in board


def test_a_scoped_user_sees_only_its_organisation(
    shared_server: ServerProcess, supervisor: WebUser, shared_engine: Engine
) -> None:
    other = make_org(shared_engine)
    with signed_in(shared_server.base_url, supervisor) as client:
        assert client.get(f"/o/{other.name}/").status_code == 403
        assert client.get("/o/no-such-org/").status_code == 403
        assert client.get(f"/o/{other.name}/events").status_code == 403
        refused = client.post(f"/o/{other.name}/agents/101/logout", headers=SAME_ORIGIN)
        assert refused.status_code == 403


def test_a_user_of_every_organisation_can_switch(
    shared_server: ServerProcess, shared_engine: Engine, org: OrgFixture
) -> None:
    other = make_org(shared_engine)
    everyone = add_user(shared_engine, "all@example.com", Role.SUPERVISOR, None)
    with signed_in(shared_server.base_url, everyone) as client:
        first = client.get("/")
        chosen = client.get("/", params={"org": other.name})
        missing = client.get("/o/no-such-org/")
    assert f'<option value="{other.name}"' in first.text
    assert f"Board {other.name}" in text_of(chosen.text)
    assert missing.status_code == 404


def test_hebrew_from_accept_language_and_the_remembered_switch(
    shared_server: ServerProcess, supervisor: WebUser
) -> None:
    base = shared_server.base_url
    hebrew = httpx.get(f"{base}/sign-in", headers={"accept-language": "he-IL,he;q=0.9"})
    assert '<html lang="he" dir="rtl">' in hebrew.text
    assert "כניסה" in hebrew.text
    english = httpx.get(f"{base}/sign-in", headers={"accept-language": "fr, en;q=0.5"})
    assert '<html lang="en" dir="ltr">' in english.text
    with signed_in(base, supervisor) as client:
        switched = client.post(
            "/language", data={"language": "he", "next": "/"}, headers=SAME_ORIGIN
        )
        assert switched.status_code == 303
        assert "Max-Age=31536000" in switched.headers["set-cookie"]
        board = client.get("/", headers={"accept-language": "en"})
        assert '<html lang="he" dir="rtl">' in board.text
        assert "זמן בסטטוס" in board.text
        unknown = client.post(
            "/language", data={"language": "xx", "next": "//evil"}, headers=SAME_ORIGIN
        )
        assert unknown.headers["location"] == "/"
        assert "set-cookie" not in unknown.headers


@pytest.mark.parametrize(
    "path",
    [
        "/o/%00/",
        "/o/x%0d%0ay/",
        "/o/" + "x" * 5000 + "/",
        "/o/{org}/agents/%ff%fe/logout",
        "/o/{org}/events?after=-1",
        "/o/{org}/events?after=99999999999999999999999",
        "/o/{org}/nothing-here",
        "/static/../../etc/passwd",
    ],
)
def test_malformed_requests_get_a_page_never_a_500(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, path: str
) -> None:
    with signed_in(shared_server.base_url, supervisor) as client:
        target = path.replace("{org}", org.name)
        method = "POST" if target.endswith("/logout") else "GET"
        answer = client.request(method, target, headers=SAME_ORIGIN)
    assert 300 <= answer.status_code < 500, (path, answer.status_code, answer.text[:200])


def test_the_board_stream_needs_a_session(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture
) -> None:
    base = shared_server.base_url
    assert httpx.get(f"{base}/o/{org.name}/events").status_code == 401
    with (
        signed_in(base, supervisor) as client,
        client.stream("GET", f"/o/{org.name}/events", params={"after": "0"}) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        set_status(base, org.code, org.agents[1], org.extensions[1], 1)
        seen = ""
        for chunk in stream.iter_text():
            seen += chunk
            if f'"user_id":"{org.agents[1]}"' in seen:
                break
    assert f'"user_id":"{org.agents[1]}"' in seen


def test_signing_out_ends_the_boards_open_stream(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture
) -> None:
    base = shared_server.base_url
    with signed_in(base, supervisor) as board:
        cookie = dict(board.cookies)
        with board.stream("GET", f"/o/{org.name}/events") as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(lines).startswith(("event: snapshot", "retry:", "id:", "data:"))
            # The same session signed out from another request: the stream ends.
            out = board.post("/sign-out", headers=SAME_ORIGIN)
            assert out.status_code == 303
            ended = time.monotonic()
            for _ in lines:  # read until the server closes the stream
                assert time.monotonic() - ended < 15
            took = time.monotonic() - ended
        assert took < 10
    again = httpx.get(f"{base}/o/{org.name}/events", cookies=cookie)
    assert again.status_code == 401
