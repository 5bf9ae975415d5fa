"""Administration of extensions over HTTP against a real server: adding, removing (the
agent holding it logged out), the CSV import, errors beside their fields, the roles."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.service import extensions, presence
from tests.support.factories import OrgFixture, make_org
from tests.support.html_forms import field_error, value_of
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, signed_in, text_of
from tests.support.wire import set_status

# The app leaves an uploaded file to the collector unclosed (a ResourceWarning, an error
# here): the server runs in its own process.


def sips(engine: Engine, org: str) -> dict[str, str]:
    return {e.extension: e.name for e in extensions.list_extensions(engine, org)}


def upload(client: httpx.Client, org: str, content: bytes) -> httpx.Response:
    return client.post(
        f"/o/{org}/admin/extensions/import",
        files={"file": ("extensions.csv", content, "text/csv")},
        headers=SAME_ORIGIN,
    )


def test_a_supervisor_is_refused(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, supervisor) as client:
        assert client.get(f"/o/{org.name}/admin/extensions").status_code == 403
        removed = client.post(
            f"/o/{org.name}/admin/extensions/remove",
            data={"extension": org.extensions[0]},
            headers=SAME_ORIGIN,
        )
    assert removed.status_code == 403
    assert org.extensions[0] in sips(shared_engine, org.name)


def test_a_cross_site_post_is_refused(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        answer = client.post(
            f"/o/{org.name}/admin/extensions/remove",
            data={"extension": org.extensions[0]},
            headers={"origin": "http://evil.example"},
        )
    assert answer.status_code == 403
    assert org.extensions[0] in sips(shared_engine, org.name)


def test_adding_an_extension_and_its_errors(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    url = f"/o/{org.name}/admin/extensions"
    with signed_in(shared_server.base_url, admin) as client:
        added = client.post(url, data={"extension": "7001", "name": "Desk"}, headers=SAME_ORIGIN)
        shown = client.get(added.headers["location"])
        empty = client.post(url, data={"extension": " ", "name": "Kept"}, headers=SAME_ORIGIN)
        taken = client.post(url, data={"extension": "7001"}, headers=SAME_ORIGIN)
        bad_name = client.post(url, data={"extension": "7002", "name": "a\nb"}, headers=SAME_ORIGIN)
    assert added.status_code == 303
    assert "The extension was added." in text_of(shown.text)
    assert sips(shared_engine, org.name)["7001"] == "Desk"
    assert empty.status_code == 422
    assert field_error(empty.text, "add-extension") == (
        "An extension is 1 to 128 characters, without spaces."
    )
    assert value_of(empty.text, "add-name") == "Kept"
    assert taken.status_code == 409
    assert field_error(taken.text, "add-extension") == "This extension exists already."
    assert bad_name.status_code == 422
    assert field_error(bad_name.text, "add-name") is not None
    assert "7002" not in sips(shared_engine, org.name)


def test_removing_an_extension_logs_its_agent_out(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    set_status(shared_server.base_url, org.code, org.agents[0], org.extensions[0], 1)
    url = f"/o/{org.name}/admin/extensions/remove"
    with signed_in(shared_server.base_url, root_admin) as client:
        held = client.get(f"/o/{org.name}/admin/extensions")
        confirmed = {"extension": org.extensions[0], "confirmed": "yes"}
        removed = client.post(url, data=confirmed, headers=SAME_ORIGIN)
        again = client.post(url, data=confirmed, headers=SAME_ORIGIN)
    assert org.agents[0] in text_of(held.text)  # the agent logged in at it is shown
    assert removed.status_code == 303
    assert removed.headers["location"].endswith("?done=removed")
    assert sips(shared_engine, org.name) == {}
    agent = presence.list_presence(shared_engine, org.name)[0]
    assert agent.status == LOGOUT
    assert again.status_code == 404
    assert "There is no such extension." in text_of(again.text)


def test_a_csv_import_with_bad_rows_reports_each_and_imports_nothing(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    before = sips(shared_engine, org.name)
    with signed_in(shared_server.base_url, admin) as client:
        rejected = upload(client, org.name, b"extension,name\n8001,A\n8 2,B\n8003,C,extra\n")
        after_rejected = sips(shared_engine, org.name)
        header = upload(client, org.name, b"sip,name\n8001,A\n")
        good = upload(client, org.name, b"extension,name\n8001,A\n8002,B\n")
    assert rejected.status_code == 422
    page = text_of(rejected.text)
    assert "2 bad rows; nothing was imported." in page
    assert "line 3:" in page
    assert "line 4: 3 columns, expected 2" in page
    assert after_rejected == before
    assert "1 bad row; nothing was imported." in text_of(header.text)
    assert good.status_code == 303
    assert sips(shared_engine, org.name)["8002"] == "B"
