"""``/api/v1/orgs/{org}/pbx``: set, show and turn off the phone system; the secret is
never answered; bad settings are 422, an unknown organisation 404, a supervisor 403."""

from __future__ import annotations

import httpx

from agentstatus.service.tokens import Role
from tests.http.api.conftest import ClientFactory
from tests.support.factories import OrgFixture

SECRET = "ClueCon-api-secret"


def test_set_show_and_remove(
    admin: httpx.Client, org: OrgFixture, shared_database_url: str
) -> None:
    url = f"/orgs/{org.name}/pbx"
    assert admin.get(url).status_code == 404
    body = {"kind": "freeswitch", "host": "pbx.example.com", "secret": SECRET, "queues": ["q@d"]}
    saved = admin.put(url, json=body)
    if shared_database_url.startswith("postgresql"):
        # Without AGENTSTATUS_SECRET_KEY no secret can be sealed (tests/pbx set one).
        assert saved.status_code == 503
        assert "AGENTSTATUS_SECRET_KEY" in saved.json()["detail"]
        return
    assert saved.status_code == 200, saved.text
    assert saved.json()["agent"] == "{user_id}"
    assert saved.json()["contact"] == "user/{extension}"
    shown = admin.get(url)
    assert shown.json()["connected"] is False
    assert SECRET not in saved.text + shown.text
    kept = admin.put(url, json={**body, "secret": None, "queues": ["q2@d"]})
    assert kept.status_code == 200, kept.text  # the same server: the stored secret is kept
    assert admin.put(url, json={**body, "port": 8022}).json()["port"] == 8022
    assert admin.delete(url).status_code == 204
    assert admin.get(url).status_code == 404


def test_another_server_needs_the_secret_again(
    admin: httpx.Client, org: OrgFixture, shared_database_url: str
) -> None:
    """The stored secret is never sent to another host, port or kind of server: a change
    of any of them without the secret is 422 and changes nothing."""
    if shared_database_url.startswith("postgresql"):
        return  # no secret can be sealed there (see above)
    url = f"/orgs/{org.name}/pbx"
    body = {"kind": "asterisk", "host": "pbx.example.com", "username": "u", "queues": ["q"]}
    assert admin.put(url, json={**body, "secret": SECRET}).status_code == 200
    for elsewhere in (
        {"host": "evil.example.net"},
        {"host": "pbx.example.com.evil.example.net"},
        {"port": 5039},
        {"kind": "freeswitch", "username": None, "port": 5038},
    ):
        for secret in ({"secret": None}, {}):
            answer = admin.put(url, json={**body, **elsewhere, **secret})
            assert answer.status_code == 422, (elsewhere, answer.text)
            assert "secret again" in answer.json()["detail"]
    shown = admin.get(url).json()
    assert (shown["kind"], shown["host"], shown["port"]) == ("asterisk", "pbx.example.com", 5038)
    assert admin.put(url, json={**body, "host": "PBX.example.com"}).status_code == 200
    moved = admin.put(url, json={**body, "host": "pbx2.example.com", "secret": "new-secret"})
    assert moved.status_code == 200, moved.text
    assert admin.delete(url).status_code == 204


def test_bad_settings_are_422(
    admin: httpx.Client, org: OrgFixture, shared_database_url: str
) -> None:
    url = f"/orgs/{org.name}/pbx"
    good = {"kind": "asterisk", "host": "h", "username": "u", "secret": "s", "queues": ["q"]}
    if shared_database_url.startswith("postgresql"):
        # Without the key the answer is 503 before any setting is looked at.
        assert admin.put(url, json={**good, "kind": "sip"}).status_code == 503
        assert admin.get(url).status_code == 404
        return
    for bad in (
        {**good, "kind": "sip"},
        {**good, "username": None},
        {**good, "queues": []},
        {**good, "queues": ["a\r\nb"]},
        {**good, "interface": "SIP/{nope}"},
        {**good, "port": 70000},
        {**good, "host": "127.0.0.1"},  # the outbound address policy
        {k: v for k, v in good.items() if k != "secret"},  # a new one needs its secret
    ):
        answer = admin.put(url, json=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert "detail" in answer.json()
    assert admin.put("/orgs/nosuchorg/pbx", json=good).status_code in (403, 404)


def test_a_supervisor_may_not(client_for: ClientFactory, org: OrgFixture) -> None:
    supervisor = client_for(Role.SUPERVISOR, org.name)
    assert supervisor.get(f"/orgs/{org.name}/pbx").status_code == 403
