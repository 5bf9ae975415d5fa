"""A refused embed helps its integrator: the service says to any origin whether it may
embed the panel (in words naming the origin and the command that adds it), remembers the
origins it refused (by frame or by script) and shows them on the settings page."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from agentstatus.service import embed_origins
from agentstatus.service.tokens import Role
from tests.support.factories import make_org
from tests.support.server import ServerProcess
from tests.support.web import add_user, signed_in, text_of

CRM = "https://crm.example.com"
STRANGER = "https://stranger.example"


def test_any_origin_may_ask_whether_it_may_embed(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    embed_origins.set_embed_origins(shared_engine, org.name, [CRM])
    url = f"{shared_server.base_url}/panel/{org.name}/api/embedding"
    refused = httpx.get(url, headers={"origin": STRANGER})
    assert refused.status_code == 200
    assert refused.headers["access-control-allow-origin"] == "*"
    body = refused.json()
    assert body["allowed"] is False
    assert body["origin"] == STRANGER
    assert body["command"] == f"agentstatus org embed-origins {org.name} … {STRANGER}"
    assert f"This site ({STRANGER}) may not show the status panel of {org.name}" in body["detail"]
    hebrew = httpx.get(url, params={"lang": "he"}, headers={"origin": STRANGER}).json()
    assert STRANGER in hebrew["detail"]
    assert "may not show" not in hebrew["detail"]
    allowed = httpx.get(url, headers={"origin": CRM}).json()
    assert allowed == {"allowed": True, "origin": CRM}
    # Nothing of the organisation's beyond what the panel page's policy says already.
    assert "access-control-allow-credentials" not in refused.headers


def test_refused_origins_are_remembered_and_shown_to_the_admin(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    embed_origins.set_embed_origins(shared_engine, org.name, [CRM])
    base = shared_server.base_url
    framed = {"sec-fetch-dest": "iframe", "sec-fetch-site": "cross-site"}
    # A frame of a page of the stranger (its origin in the Referer, as browsers send it).
    page = httpx.get(f"{base}/panel/{org.name}", headers={**framed, "referer": f"{STRANGER}/x"})
    assert page.status_code == 200
    assert "frame-ancestors https://crm.example.com" in page.headers["content-security-policy"]
    # A script of another site calling the API.
    other = "http://other.example:8080"
    script = httpx.get(f"{base}/panel/{org.name}/api/state", headers={"origin": other})
    assert script.status_code == 403
    # Not remembered: the listed origin, junk, and an organisation that does not exist.
    httpx.get(f"{base}/panel/{org.name}", headers={**framed, "referer": f"{CRM}/ok"})
    httpx.get(f"{base}/panel/{org.name}", headers={**framed, "referer": "javascript:alert(1)"})
    httpx.get(f"{base}/panel/no-such-org", headers={**framed, "referer": f"{STRANGER}/"})
    admin = add_user(shared_engine, f"adm-{org.name}@example.com", Role.ADMIN, org.name)
    with signed_in(base, admin) as client:
        settings = client.get(f"/o/{org.name}/admin/settings").text
    shown = text_of(settings)
    assert "Refused lately" in shown
    assert f'data-refused-origin="{STRANGER}"' in settings
    assert f'data-refused-origin="{other}"' in settings
    assert f'data-refused-origin="{CRM}"' not in settings
    assert "javascript" not in settings
    assert f"{STRANGER} in a frame" in shown
    assert f"{other} from a script" in shown
    # Its button adds it to the list (keeping the ones listed).
    assert f'name="origins" value="{CRM} {STRANGER}"' in settings
    assert f"Add {STRANGER}" in shown
