"""Who an OpenID provider's verified ID token signs in, and a state used once (issue 26)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from agentstatus.service import users
from agentstatus.service.oidc_sign_in import Failure, start, take, user_of
from agentstatus.service.tokens import Role
from tests.support.factories import make_org
from tests.support.web import add_user


@pytest.fixture(scope="module")
def shared_database_url(shared_database_url_on_each_engine: str) -> str:
    return shared_database_url_on_each_engine


@pytest.fixture
def engine(shared_engine: Engine) -> Engine:
    return shared_engine


def claims(email: str, verified: Any = True, **more: Any) -> dict[str, Any]:
    return {"sub": "x", "email": email, "email_verified": verified, **more}


def test_a_state_is_taken_once(engine: Engine) -> None:
    begun = start(engine, "/o/acme/")
    pending = take(engine, begun.state)
    assert pending is not None
    assert (pending.nonce, pending.verifier, pending.next_path) == (
        begun.nonce,
        begun.verifier,
        "/o/acme/",
    )
    assert take(engine, begun.state) is None
    assert take(engine, "") is None
    assert take(engine, "x" * 1000) is None


def test_without_a_role_claim_the_user_must_be_known_and_the_email_verified(
    engine: Engine,
) -> None:
    org = make_org(engine, agent_count=1, extension_count=1)
    sue = f"sue-{org.name}@example.com"
    add_user(engine, sue.upper(), Role.SUPERVISOR, org.name, "Sue")
    found = user_of(engine, claims(sue.title(), admin="admin:*"), None)
    assert not isinstance(found, Failure)
    assert (found.email, found.role, found.org) == (sue, Role.SUPERVISOR, org.name)
    assert user_of(engine, claims("nobody@example.com"), None) is Failure.UNKNOWN_USER
    assert user_of(engine, claims(sue, "true"), None) is Failure.UNVERIFIED
    assert user_of(engine, claims(sue, False), None) is Failure.UNVERIFIED
    assert user_of(engine, {"email_verified": True}, None) is Failure.UNVERIFIED


def test_a_role_claim_creates_the_user_and_decides_the_role(engine: Engine) -> None:
    org = make_org(engine, agent_count=1, extension_count=1)
    first = user_of(engine, claims("new@example.com", role=f"supervisor:{org.name}"), "role")
    assert not isinstance(first, Failure)
    assert (first.role, first.org) == (Role.SUPERVISOR, org.name)
    # No password signs this user in.
    assert users.authenticate(engine, "new@example.com", "!oidc") is None
    again = user_of(engine, claims("new@example.com", role=["viewer:x", "admin:*"]), "role")
    assert not isinstance(again, Failure)
    assert (again.id, again.role, again.org) == (first.id, Role.ADMIN, None)
    for bad in ("supervisor:no-such-org", "owner:*", "admin", "", 7, None, ["x:y"]):
        assert user_of(engine, claims("new@example.com", role=bad), "role") is Failure.NO_ROLE
    assert user_of(engine, claims("new@example.com", False, role="admin:*"), "role") is (
        Failure.UNVERIFIED
    )
