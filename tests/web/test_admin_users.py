"""Administration of the web's users over HTTP against a real server: adding one (its
password shown once and working), a new password, removing, errors beside their fields,
and an organisation's admin kept to its own users."""

from __future__ import annotations

from sqlalchemy import Engine

from agentstatus.service import users
from agentstatus.service.tokens import Role
from tests.support.factories import OrgFixture, make_org
from tests.support.html_forms import elements, field_error, value_of
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, add_user, signed_in, text_of


def emails(engine: Engine) -> set[str]:
    return {u.email for u in users.list_users(engine)}


def test_a_supervisor_is_refused(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, supervisor) as client:
        assert client.get(f"/o/{org.name}/admin/users").status_code == 403
        posted = client.post(
            f"/o/{org.name}/admin/users",
            data={"email": "climb@example.com", "role": "admin", "scope": org.name},
            headers=SAME_ORIGIN,
        )
    assert posted.status_code == 403
    assert "climb@example.com" not in emails(shared_engine)


def test_a_cross_site_post_is_refused(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        posted = client.post(
            f"/o/{org.name}/admin/users",
            data={"email": "forged@example.com", "role": "admin", "scope": org.name},
            headers={"sec-fetch-site": "cross-site"},
        )
    assert posted.status_code == 403
    assert "forged@example.com" not in emails(shared_engine)


def test_adding_a_user_shows_its_password_once(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        added = client.post(
            f"/o/{org.name}/admin/users",
            data={
                "email": "New@Example.com",
                "name": "Nia",
                "role": "supervisor",
                "scope": org.name,
            },
            headers=SAME_ORIGIN,
        )
        again = client.get(f"/o/{org.name}/admin/users")
    assert added.status_code == 200  # the answer itself, not a redirect
    assert added.headers["cache-control"] == "no-store"
    password = elements(added.text)["secret-value"].text.strip()
    assert len(password) >= 20
    assert password not in again.text
    assert "new@example.com" in again.text
    with signed_in(shared_server.base_url, WebUser("new@example.com", password)) as client:
        assert client.get(f"/o/{org.name}/").status_code == 200


def test_errors_are_shown_beside_their_fields(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    url = f"/o/{org.name}/admin/users"
    with signed_in(shared_server.base_url, admin) as client:
        bad = client.post(
            url,
            data={"email": "not an address", "name": "x" * 200, "role": "owner", "scope": ""},
            headers=SAME_ORIGIN,
        )
        taken = client.post(
            url,
            data={"email": admin.email, "role": "admin", "scope": org.name},
            headers=SAME_ORIGIN,
        )
    assert bad.status_code == 422
    assert field_error(bad.text, "add-email") == "Enter an e-mail address like name@example.com."
    assert value_of(bad.text, "add-email") == "not an address"
    assert field_error(bad.text, "add-name") == (
        "A name is at most 128 characters, without control characters."
    )
    assert field_error(bad.text, "add-role") == "Choose a role."
    # A scoped admin may not make a user of every organisation.
    assert field_error(bad.text, "add-scope") == "Choose an organisation you manage."
    assert taken.status_code == 409
    assert field_error(taken.text, "add-email") == "A user with this e-mail exists already."
    assert "not an address" not in emails(shared_engine)


def test_an_admin_manages_only_its_organisations_users(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    other = make_org(shared_engine, agent_count=0, extension_count=0)
    stranger = add_user(shared_engine, f"sup-{other.name}@example.com", Role.SUPERVISOR, other.name)
    root = add_user(shared_engine, f"root2-{org.name}@example.com", Role.ADMIN, None)
    with signed_in(shared_server.base_url, admin) as client:
        listed = client.get(f"/o/{org.name}/admin/users")
        reset = client.post(
            f"/o/{org.name}/admin/users/password",
            data={"email": stranger.email},
            headers=SAME_ORIGIN,
        )
        removed = client.post(
            f"/o/{org.name}/admin/users/remove", data={"email": root.email}, headers=SAME_ORIGIN
        )
        myself = client.post(
            f"/o/{org.name}/admin/users/remove", data={"email": admin.email}, headers=SAME_ORIGIN
        )
    assert stranger.email not in listed.text
    assert root.email not in listed.text
    assert admin.email in listed.text
    assert reset.status_code == 404
    assert "There is no such user." in text_of(reset.text)
    assert removed.status_code == 404
    assert myself.status_code == 422
    assert "You cannot remove yourself." in text_of(myself.text)
    assert {stranger.email, root.email, admin.email} <= emails(shared_engine)
    with signed_in(shared_server.base_url, root) as client:
        everyone = client.get(f"/o/{org.name}/admin/users")
    assert stranger.email in everyone.text


def test_a_new_password_and_removing_a_user(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    target = add_user(shared_engine, f"temp-{org.name}@example.com", Role.SUPERVISOR, org.name)
    with (
        signed_in(shared_server.base_url, target) as theirs,
        signed_in(shared_server.base_url, admin) as client,
    ):
        reset = client.post(
            f"/o/{org.name}/admin/users/password",
            data={"email": target.email, "confirmed": "yes"},
            headers=SAME_ORIGIN,
        )
        password = elements(reset.text)["secret-value"].text.strip()
        # Their session ended with the old password.
        assert theirs.get(f"/o/{org.name}/").status_code == 303
        with signed_in(shared_server.base_url, WebUser(target.email, password)):
            pass  # signed_in asserts that the new password signs in
        removed = client.post(
            f"/o/{org.name}/admin/users/remove",
            data={"email": target.email, "confirmed": "yes"},
            headers=SAME_ORIGIN,
        )
        shown = client.get(removed.headers["location"])
    assert reset.status_code == 200
    assert removed.status_code == 303
    assert "The user was removed and signed out." in text_of(shown.text)
    assert target.email not in emails(shared_engine)
