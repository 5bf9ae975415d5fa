"""The language switch returns to a page that can be shown: after a refused form (shown
at its POST address) it goes to the form's page, never to a 405."""

from __future__ import annotations

import re

from sqlalchemy import Engine

from tests.support.factories import make_org
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, signed_in


def switch_target(html: str) -> str:
    form = re.search(r'<form class="language-switch".*?</form>', html, re.S)
    assert form is not None
    found = re.search(r'name="next" value="([^"]*)"', form.group(0))
    assert found is not None
    return found.group(1).replace("&amp;", "&")


def test_switching_language_after_a_refused_form_shows_the_form_page(
    shared_server: ServerProcess, shared_engine: Engine, root_admin: WebUser
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    with signed_in(shared_server.base_url, root_admin) as client:
        refused = client.post(
            f"/o/{org.name}/admin/agents/change",
            data={"user_id": org.agents[0], "name": "x\x07", "action": "rename"},
            headers=SAME_ORIGIN,
        )
        assert refused.status_code == 422
        target = switch_target(refused.text)
        assert target == f"/o/{org.name}/admin/agents"
        switched = client.post(
            "/language", data={"language": "he", "next": target}, headers=SAME_ORIGIN
        )
        assert switched.status_code == 303
        shown = client.get(switched.headers["location"])
        assert shown.status_code == 200
        assert 'dir="rtl"' in shown.text
        # A page still holding the POST address (an old tab) is sent to the form's page too.
        stale = client.post(
            "/language",
            data={"language": "en", "next": f"/o/{org.name}/admin/agents/change"},
            headers=SAME_ORIGIN,
        )
        assert stale.headers["location"] == f"/o/{org.name}/admin/agents"
        assert client.get(stale.headers["location"]).status_code == 200
        for posted, back in [
            (f"/o/{org.name}/logout-all", f"/o/{org.name}/"),
            ("/nowhere/at/all", "/"),
            ("//evil.example/", "/"),
        ]:
            answer = client.post(
                "/language", data={"language": "en", "next": posted}, headers=SAME_ORIGIN
            )
            assert answer.headers["location"] == back, posted


def test_the_switch_keeps_the_query_of_a_page(
    shared_server: ServerProcess, shared_engine: Engine, root_admin: WebUser
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    with signed_in(shared_server.base_url, root_admin) as client:
        report = client.get(f"/o/{org.name}/reports?from=2026-01-01&to=2026-01-02")
        assert switch_target(report.text) == f"/o/{org.name}/reports?from=2026-01-01&to=2026-01-02"
        sign_in = client.get("/sign-in?next=%2Fo%2Fx%2Freports")
    # Signed in, the sign-in page sends on; a visitor's sign-in page keeps its next.
    assert sign_in.status_code == 303
