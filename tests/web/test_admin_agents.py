"""Administration of agents over HTTP against a real server: adding, renaming,
deactivating and activating, the CSV import, errors beside their fields, the roles."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import Engine

from agentstatus.domain.catalogue import LOGOUT
from agentstatus.service import agents, presence
from agentstatus.service.history import read_history
from agentstatus.service.tokens import Role
from tests.support.factories import OrgFixture, make_org
from tests.support.html_forms import field_error, value_of
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, add_user, signed_in, text_of
from tests.support.wire import set_status

# The app leaves an uploaded file to the collector unclosed (a ResourceWarning, an error
# here): the server runs in its own process.


def names(engine: Engine, org: str) -> dict[str, tuple[str, bool]]:
    return {a.user_id: (a.name, a.active) for a in agents.list_agents(engine, org)}


def upload(client: httpx.Client, org: str, content: bytes) -> httpx.Response:
    return client.post(
        f"/o/{org}/admin/agents/import",
        files={"file": ("agents.csv", content, "text/csv")},
        headers=SAME_ORIGIN,
    )


def test_a_supervisor_is_refused(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, supervisor) as client:
        assert client.get(f"/o/{org.name}/admin/agents").status_code == 403
        posted = client.post(
            f"/o/{org.name}/admin/agents", data={"user_id": "sup1"}, headers=SAME_ORIGIN
        )
        assert posted.status_code == 403
        board = client.get(f"/o/{org.name}/")
    assert "/admin/" not in board.text  # no Administration link for a supervisor
    assert "sup1" not in names(shared_engine, org.name)


def test_a_cross_site_post_is_refused(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        assert "/admin/agents" in client.get(f"/o/{org.name}/").text
        answer = client.post(
            f"/o/{org.name}/admin/agents",
            data={"user_id": "forged"},
            headers={"sec-fetch-site": "cross-site"},
        )
    assert answer.status_code == 403
    assert "forged" not in names(shared_engine, org.name)


def test_adding_an_agent(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        answer = client.post(
            f"/o/{org.name}/admin/agents",
            data={"user_id": "a-new", "name": "New <b>agent</b>"},
            headers=SAME_ORIGIN,
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/o/{org.name}/admin/agents?done=added"
        page = client.get(answer.headers["location"])
    assert page.status_code == 200
    assert "The agent was added." in text_of(page.text)
    assert "New &lt;b&gt;agent&lt;/b&gt;" in page.text
    assert names(shared_engine, org.name)["a-new"] == ("New <b>agent</b>", True)


def test_errors_are_shown_beside_their_fields_with_the_input_kept(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    url = f"/o/{org.name}/admin/agents"
    with signed_in(shared_server.base_url, admin) as client:
        spaced = client.post(url, data={"user_id": "two words", "name": "x"}, headers=SAME_ORIGIN)
        long_name = client.post(
            url, data={"user_id": "ok1", "name": "n" * 300}, headers=SAME_ORIGIN
        )
        taken = client.post(url, data={"user_id": org.agents[0]}, headers=SAME_ORIGIN)
    assert spaced.status_code == 422
    assert field_error(spaced.text, "add-user_id") == (
        "A user id is 1 to 128 characters, without spaces."
    )
    assert value_of(spaced.text, "add-user_id") == "two words"
    assert field_error(spaced.text, "add-name") is None
    assert long_name.status_code == 422
    assert field_error(long_name.text, "add-name") == (
        "A name is at most 256 characters, without control characters."
    )
    assert field_error(long_name.text, "add-user_id") is None
    assert taken.status_code == 409
    assert field_error(taken.text, "add-user_id") == "An agent with this user id exists already."
    assert {"two words", "ok1"}.isdisjoint(names(shared_engine, org.name))


def test_renaming_deactivating_and_activating(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=2, extension_count=1)
    user_id = org.agents[0]
    set_status(shared_server.base_url, org.code, user_id, org.extensions[0], 1)
    url = f"/o/{org.name}/admin/agents/change"
    with signed_in(shared_server.base_url, root_admin) as client:
        renamed = client.post(
            url, data={"user_id": user_id, "name": "Dana", "action": "rename"}, headers=SAME_ORIGIN
        )
        bad = client.post(
            url,
            data={"user_id": user_id, "name": "x\x07", "action": "rename"},
            headers=SAME_ORIGIN,
        )
        asked = client.post(
            url, data={"user_id": user_id, "action": "deactivate"}, headers=SAME_ORIGIN
        )
        assert names(shared_engine, org.name)[user_id] == ("Dana", True)  # asked first
        off = client.post(
            url,
            data={"user_id": user_id, "action": "deactivate", "confirmed": "yes"},
            headers=SAME_ORIGIN,
        )
        listed = client.get(off.headers["location"])
        missing = client.post(
            url, data={"user_id": "nobody", "action": "activate"}, headers=SAME_ORIGIN
        )
        assert names(shared_engine, org.name)[user_id] == ("Dana", False)
        on = client.post(url, data={"user_id": user_id, "action": "activate"}, headers=SAME_ORIGIN)
    assert renamed.status_code == 303
    assert renamed.headers["location"].endswith("?done=renamed")
    assert bad.status_code == 422
    assert field_error(bad.text, "agent-1-name") == (
        "A name is at most 256 characters, without control characters."
    )
    assert field_error(bad.text, "agent-2-name") is None
    assert asked.status_code == 200
    assert f"Deactivate Dana ({user_id})?" in text_of(asked.text)
    assert off.headers["location"].endswith("?done=deactivated")
    assert "The agent was deactivated and logged out." in text_of(listed.text)
    assert "Inactive" in text_of(listed.text)
    # The logout that deactivating made records who did it: the admin's e-mail.
    last = read_history(shared_engine, org.name).events[-1]
    assert (last.new_status, last.source, last.actor) == (2, "admin", root_admin.email)
    assert missing.status_code == 404
    assert "There is no such agent." in text_of(missing.text)
    assert on.status_code == 303
    assert names(shared_engine, org.name)[user_id] == ("Dana", True)
    found = {p.user_id: p for p in presence.list_presence(shared_engine, org.name)}[user_id]
    assert found.status == LOGOUT
    assert found.extension is None


def test_a_csv_import_with_bad_rows_reports_each_and_imports_nothing(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    before = names(shared_engine, org.name)
    bad = b"user_id,name\nc1,Carol\nc 2,Space\nc1,Again\n,Empty\n"
    with signed_in(shared_server.base_url, admin) as client:
        rejected = upload(client, org.name, bad)
        after_rejected = names(shared_engine, org.name)
        not_text = upload(client, org.name, b"user_id,name\n\xff\xfe,x\n")
        good = upload(client, org.name, b"\xef\xbb\xbfuser_id,name\nc1,Carol\nc2,Chen\n")
    assert rejected.status_code == 422
    page = text_of(rejected.text)
    assert "3 bad rows; nothing was imported." in page
    assert "line 3:" in page
    assert "line 4:" in page
    assert "line 5:" in page
    assert 'aria-describedby="import-file-problems"' in rejected.text
    assert after_rejected == before
    assert not_text.status_code == 422
    assert field_error(not_text.text, "import-file") == "Choose a CSV file in UTF-8."
    assert good.status_code == 303
    assert good.headers["location"].endswith("?done=imported")
    assert names(shared_engine, org.name)["c2"] == ("Chen", True)


def test_an_import_may_be_larger_than_other_forms(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=0, extension_count=0)
    rows = "".join(f"big{i},{'n' * 200}\n" for i in range(6000))
    content = f"user_id,name\n{rows}".encode()
    assert len(content) > 1024 * 1024
    with signed_in(shared_server.base_url, root_admin) as client:
        taken = upload(client, org.name, content)
        too_large = upload(client, org.name, b"user_id,name\n" + b"x" * (17 * 1024 * 1024))
        other_form = client.post(
            f"/o/{org.name}/admin/agents",
            data={"user_id": "y", "name": "n" * (2 * 1024 * 1024)},
            headers=SAME_ORIGIN,
        )
    assert taken.status_code == 303, taken.text[:500]
    assert len(agents.list_agents(shared_engine, org.name)) == 6000
    assert too_large.status_code == 413
    assert other_form.status_code == 413


def test_an_admin_of_another_organisation_is_refused(
    shared_server: ServerProcess, shared_engine: Engine, org: OrgFixture
) -> None:
    other = make_org(shared_engine, agent_count=0, extension_count=0)
    stranger = add_user(shared_engine, f"admin-{other.name}@example.com", Role.ADMIN, other.name)
    with signed_in(shared_server.base_url, stranger) as client:
        assert client.get(f"/o/{org.name}/admin/agents").status_code == 403


def test_the_pages_and_their_errors_in_hebrew(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture
) -> None:
    hebrew = {"accept-language": "he-IL,he;q=0.9"}
    with signed_in(shared_server.base_url, admin) as client:
        pages = [
            client.get(f"/o/{org.name}/admin/{area}", headers=hebrew)
            for area in (
                "agents",
                "extensions",
                "statuses",
                "users",
                "tokens",
                "webhooks",
                "settings",
            )
        ]
        refused = client.post(
            f"/o/{org.name}/admin/agents",
            data={"user_id": "a b"},
            headers={**SAME_ORIGIN, **hebrew},
        )
    for page in pages:
        assert page.status_code == 200
        assert '<html lang="he" dir="rtl">' in page.text
        # Nothing inline that the Content-Security-Policy would refuse.
        assert " style=" not in page.text
        assert "<style" not in page.text
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", page.text)
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", page.text)
        assert "ניהול" in page.text
        assert ">Administration<" not in page.text
    assert field_error(refused.text, "add-user_id") == "מזהה משתמש הוא 1 עד 128 תווים, ללא רווחים."
