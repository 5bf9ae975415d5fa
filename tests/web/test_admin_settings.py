"""The organisation's settings over HTTP against a real server: the address allow-list
(and the wire refused from elsewhere), the time zone, rotating the Code (shown once)."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine

from agentstatus.service import embed_origins, organisations, pbx_settings, policies, timezones
from tests.support.factories import OrgFixture, make_org
from tests.support.html_forms import elements, field_error, value_of
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, signed_in, text_of
from tests.support.wire import set_status


def wire_answer(base_url: str, code: str, user_id: str, status: int) -> str:
    """The wire request's error message (``OK`` when it was taken)."""
    answer = httpx.get(
        f"{base_url}/UserLogin/SetStatusFromAPI",
        params={"Code": code, "UserId": user_id, "ExtensionUser": "sip1", "Status": status},
        timeout=10,
    )
    return str(answer.json()["StatusErroMessage"])


def allowlist(engine: Engine, org: str) -> list[str] | None:
    return next(o.allowlist for o in organisations.list_organisations(engine) if o.name == org)


def test_a_supervisor_is_refused(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, supervisor) as client:
        assert client.get(f"/o/{org.name}/admin/settings").status_code == 403
        rotated = client.post(f"/o/{org.name}/admin/settings/code", headers=SAME_ORIGIN)
    assert rotated.status_code == 403
    set_status(shared_server.base_url, org.code, org.agents[0], org.extensions[0], 1)


def test_a_cross_site_post_is_refused(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        rotated = client.post(
            f"/o/{org.name}/admin/settings/code", headers={"sec-fetch-site": "cross-site"}
        )
    assert rotated.status_code == 403
    set_status(shared_server.base_url, org.code, org.agents[1], org.extensions[1], 1)


def test_the_allowlist(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    url = f"/o/{org.name}/admin/settings/allowlist"
    with signed_in(shared_server.base_url, root_admin) as client:
        bad = client.post(url, data={"entries": "10.0.0.0/8\nnot-an-address"}, headers=SAME_ORIGIN)
        saved = client.post(url, data={"entries": "192.0.2.0/24, 10.1.2.3"}, headers=SAME_ORIGIN)
        shown = client.get(saved.headers["location"])
        refused = wire_answer(shared_server.base_url, org.code, org.agents[0], 1)
        cleared = client.post(url, data={"entries": " "}, headers=SAME_ORIGIN)
    assert bad.status_code == 422
    error = field_error(bad.text, "allowlist-entries")
    assert error is not None
    assert "not-an-address" in error  # the service says which entry
    assert value_of(bad.text, "allowlist-entries") == "10.0.0.0/8\nnot-an-address"
    assert saved.headers["location"].endswith("?done=allowlist")
    assert "The allow-list was saved." in text_of(shown.text)
    assert "192.0.2.0/24" in value_of(shown.text, "allowlist-entries")
    assert refused != "OK"  # the tests' loopback address is not on the list
    assert cleared.status_code == 303
    assert allowlist(shared_engine, org.name) is None


def test_the_embed_origins(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=0, extension_count=0)
    url = f"/o/{org.name}/admin/settings/embed"
    with signed_in(shared_server.base_url, root_admin) as client:
        page = client.get(f"/o/{org.name}/admin/settings")
        bad = client.post(
            url,
            data={"origins": "https://crm.example.com\ncrm.example.com/app"},
            headers=SAME_ORIGIN,
        )
        saved = client.post(
            url,
            data={"origins": "https://CRM.example.com, http://localhost:3000"},
            headers=SAME_ORIGIN,
        )
        shown = client.get(saved.headers["location"])
        cleared = client.post(url, data={"origins": ""}, headers=SAME_ORIGIN)
    assert value_of(page.text, "embed-origins") == ""
    assert bad.status_code == 422
    error = field_error(bad.text, "embed-origins")
    assert error is not None
    assert "crm.example.com/app" in error
    assert embed_origins.embed_origins(shared_engine, org.name) == []  # nothing half-saved
    assert "The embed origins were saved." in text_of(shown.text)
    assert value_of(shown.text, "embed-origins") == "http://localhost:3000\nhttps://crm.example.com"
    assert cleared.status_code == 303
    assert embed_origins.embed_origins(shared_engine, org.name) == []


def test_the_end_of_the_shift(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=0, extension_count=0)
    url = f"/o/{org.name}/admin/settings/shift"
    with signed_in(shared_server.base_url, root_admin) as client:
        page = client.get(f"/o/{org.name}/admin/settings")
        bad = client.post(url, data={"time": "18:00"}, headers=SAME_ORIGIN)  # no day
        saved = client.post(
            url, data={"time": "18:30", "mon": "on", "fri": "on"}, headers=SAME_ORIGIN
        )
        shown = client.get(saved.headers["location"])
        kept = policies.get_shift_end(shared_engine, org.name)
        off = client.post(url, data={"time": "", "mon": "on"}, headers=SAME_ORIGIN)
    assert elements(page.text)["shift-time"].attrs["type"] == "time"
    assert bad.status_code == 422
    assert field_error(bad.text, "shift-time") is not None
    assert "The end of the shift was saved." in text_of(shown.text)
    assert value_of(shown.text, "shift-time") == "18:30"
    assert kept.shift is not None
    assert kept.shift.day_names == ["mon", "fri"]
    assert off.status_code == 303
    assert policies.get_shift_end(shared_engine, org.name).shift is None


def test_the_time_zone(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=0, extension_count=0)
    url = f"/o/{org.name}/admin/settings/timezone"
    with signed_in(shared_server.base_url, root_admin) as client:
        page = client.get(f"/o/{org.name}/admin/settings")
        bad = client.post(url, data={"zone": "Mars/Olympus"}, headers=SAME_ORIGIN)
        saved = client.post(url, data={"zone": "Asia/Jerusalem"}, headers=SAME_ORIGIN)
        shown = client.get(saved.headers["location"])
    assert elements(page.text)["timezone-zone"].tag == "select"
    assert "<option selected>UTC</option>" in page.text
    assert bad.status_code == 422
    assert field_error(bad.text, "timezone-zone") == "Choose a time zone from the list."
    assert '<option value="Mars/Olympus" selected>' in bad.text  # the input is kept
    assert "The time zone was saved." in text_of(shown.text)
    assert "<option selected>Asia/Jerusalem</option>" in shown.text
    assert timezones.get_timezone(shared_engine, org.name).key == "Asia/Jerusalem"


def test_rotating_the_code_shows_the_new_one_once(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    with signed_in(shared_server.base_url, root_admin) as client:
        rotated = client.post(
            f"/o/{org.name}/admin/settings/code", data={"confirmed": "yes"}, headers=SAME_ORIGIN
        )
        again = client.get(f"/o/{org.name}/admin/settings")
    assert rotated.status_code == 200
    assert rotated.headers["cache-control"] == "no-store"
    code = elements(rotated.text)["secret-value"].text.strip()
    assert code
    assert code != org.code
    assert "update the CRM" in text_of(rotated.text)
    assert code not in again.text
    assert wire_answer(shared_server.base_url, org.code, org.agents[0], 1) != "OK"
    set_status(shared_server.base_url, code, org.agents[0], "sip1", 1)


def test_the_phone_system_form(
    shared_server: ServerProcess,
    root_admin: WebUser,
    shared_engine: Engine,
    shared_database_url: str,
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    url = f"/o/{org.name}/admin/settings/pbx"
    form = {
        "kind": "asterisk",
        "host": "pbx.example.com",
        "port": "",
        "username": "agentstatus",
        "secret": "form-secret-1234",
        "queues": "support\nsales",
    }
    with signed_in(shared_server.base_url, root_admin) as client:
        bad = client.post(url, data={**form, "username": ""}, headers=SAME_ORIGIN)
        assert bad.status_code == 422
        assert "username" in (field_error(bad.text, "pbx-host") or "")
        saved = client.post(url, data=form, headers=SAME_ORIGIN)
        if shared_database_url.startswith("postgresql"):
            # Without AGENTSTATUS_SECRET_KEY no secret can be sealed: said beside the form.
            assert saved.status_code == 422
            assert "AGENTSTATUS_SECRET_KEY" in (field_error(saved.text, "pbx-host") or "")
            return
        assert saved.status_code == 303, saved.text
        shown = client.get(saved.headers["location"])
        assert "The phone system was saved" in text_of(shown.text)
        assert "Not connected." in text_of(shown.text)
        assert value_of(shown.text, "pbx-host") == "pbx.example.com"
        assert "form-secret-1234" not in shown.text
        state = pbx_settings.pbx_state(shared_engine, org.name)
        assert state is not None
        assert state.config.queues == ("support", "sales")
        # Another host with the secret left empty: refused beside the secret, nothing saved.
        moved = client.post(
            url, data={**form, "host": "evil.example.net", "secret": ""}, headers=SAME_ORIGIN
        )
        assert moved.status_code == 422
        assert "enter the secret again" in (field_error(moved.text, "pbx-secret") or "")
        state = pbx_settings.pbx_state(shared_engine, org.name)
        assert state is not None
        assert state.config.host == "pbx.example.com"
        kept = client.post(url, data={**form, "secret": "", "queues": "q"}, headers=SAME_ORIGIN)
        assert kept.status_code == 303  # the same server keeps its stored secret
        off = client.post(f"{url}/off", data={}, headers=SAME_ORIGIN)
        assert off.status_code == 303
    assert pbx_settings.pbx_state(shared_engine, org.name) is None
