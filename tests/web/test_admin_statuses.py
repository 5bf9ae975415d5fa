"""Administration of the status catalogue over HTTP against a real server: adding and
editing (name, colour, takes calls, enabled), errors beside their fields, the roles."""

from __future__ import annotations

from sqlalchemy import Engine

from agentstatus.service import statuses
from agentstatus.service.statuses import Status
from tests.support.factories import OrgFixture, make_org
from tests.support.html_forms import elements, field_error, value_of
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, signed_in, text_of


def catalogue(engine: Engine, org: str) -> dict[int, Status]:
    return {s.id: s for s in statuses.list_statuses(engine, org)}


def test_a_supervisor_is_refused(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, supervisor) as client:
        assert client.get(f"/o/{org.name}/admin/statuses").status_code == 403
        posted = client.post(
            f"/o/{org.name}/admin/statuses",
            data={"status_id": "90", "name": "Sup"},
            headers=SAME_ORIGIN,
        )
    assert posted.status_code == 403
    assert 90 not in catalogue(shared_engine, org.name)


def test_a_cross_site_post_is_refused(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        posted = client.post(
            f"/o/{org.name}/admin/statuses",
            data={"status_id": "91", "name": "Forged"},
            headers={"sec-fetch-site": "same-site"},
        )
    assert posted.status_code == 403
    assert 91 not in catalogue(shared_engine, org.name)


def test_the_list_shows_each_field(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        page = client.get(f"/o/{org.name}/admin/statuses")
    found = elements(page.text)
    for status in catalogue(shared_engine, org.name).values():
        prefix = f"status-{status.id}"
        assert found[f"{prefix}-color"].attrs["type"] == "color"
        assert value_of(page.text, f"{prefix}-color") == status.color
        assert value_of(page.text, f"{prefix}-name") == status.name
        assert ("checked" in found[f"{prefix}-available"].attrs) == status.available
        assert ("checked" in found[f"{prefix}-enabled"].attrs) == status.enabled


def test_adding_a_status_and_its_errors(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    url = f"/o/{org.name}/admin/statuses"
    good = {"status_id": "42", "name": "Training", "color": "#336699", "available": "on"}
    with signed_in(shared_server.base_url, admin) as client:
        added = client.post(url, data=good, headers=SAME_ORIGIN)
        shown = client.get(added.headers["location"])
        taken = client.post(url, data=good, headers=SAME_ORIGIN)
        bad = client.post(
            url, data={"status_id": "x", "name": "", "color": "red"}, headers=SAME_ORIGIN
        )
    assert added.status_code == 303
    assert "The status was added." in text_of(shown.text)
    assert catalogue(shared_engine, org.name)[42] == Status(42, "Training", "#336699", True, True)
    assert taken.status_code == 409
    assert field_error(taken.text, "add-status_id") == "A status with this id exists already."
    assert bad.status_code == 422
    assert field_error(bad.text, "add-status_id") == (
        "A status id is a whole number from 1 to 2147483647."
    )
    assert field_error(bad.text, "add-name") == "A status needs a name of at most 128 characters."
    assert field_error(bad.text, "add-color") == "Choose a colour as #RRGGBB."
    assert value_of(bad.text, "add-status_id") == "x"


def test_editing_a_status_and_its_errors(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=0, extension_count=0)
    url = f"/o/{org.name}/admin/statuses/edit"
    with signed_in(shared_server.base_url, root_admin) as client:
        saved = client.post(
            url,
            data={"status_id": "3", "name": "Lunch <break>", "color": "#AA0000"},
            headers=SAME_ORIGIN,
        )
        built_in = client.post(
            url,
            data={"status_id": "2", "name": "Logout", "color": "#000000"},
            headers=SAME_ORIGIN,
        )
        empty = client.post(
            url,
            data={"status_id": "3", "name": " ", "color": "#aa0000", "enabled": "on"},
            headers=SAME_ORIGIN,
        )
        missing = client.post(
            url, data={"status_id": "77", "name": "x", "color": "#aa0000"}, headers=SAME_ORIGIN
        )
    assert saved.status_code == 303
    assert catalogue(shared_engine, org.name)[3] == Status(
        3, "Lunch <break>", "#aa0000", False, False
    )
    assert built_in.status_code == 422
    assert field_error(built_in.text, "status-2-enabled") == (
        "This status is built in and cannot be disabled."
    )
    assert catalogue(shared_engine, org.name)[2].enabled
    assert empty.status_code == 422
    assert field_error(empty.text, "status-3-name") == (
        "A status needs a name of at most 128 characters."
    )
    assert value_of(empty.text, "status-3-name") == " "
    assert field_error(empty.text, "status-5-name") is None
    assert missing.status_code == 404
    assert "There is no such status." in text_of(missing.text)
    assert "Lunch &lt;break&gt;" in empty.text


def test_a_status_limit_from_the_page(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=0, extension_count=0)
    url = f"/o/{org.name}/admin/statuses/edit"
    base = {"status_id": "3", "name": "Lunch break", "color": "#f39c12", "enabled": "on"}
    with signed_in(shared_server.base_url, root_admin) as client:
        page = client.get(f"/o/{org.name}/admin/statuses")
        saved = client.post(
            url, data={**base, "limit": "15m", "then": "login"}, headers=SAME_ORIGIN
        )
        shown = client.get(f"/o/{org.name}/admin/statuses")
        limited = catalogue(shared_engine, org.name)[3]
        bad = client.post(url, data={**base, "limit": "soon", "then": "warn"}, headers=SAME_ORIGIN)
        cleared = client.post(url, data={**base, "limit": "", "then": "warn"}, headers=SAME_ORIGIN)
    assert "status-2-limit" not in elements(page.text)  # Logout has none
    assert elements(page.text)["status-3-then"].tag == "select"
    assert saved.status_code == 303
    assert (limited.limit_seconds, limited.limit_action) == (900, "login")
    assert value_of(shown.text, "status-3-limit") == "15m"
    assert '<option value="login" selected>' in shown.text
    assert bad.status_code == 422
    assert field_error(bad.text, "status-3-limit") is not None
    assert cleared.status_code == 303
    assert catalogue(shared_engine, org.name)[3].limit_seconds is None
