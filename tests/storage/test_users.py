"""``storage.users``, ``storage.web_sessions`` and ``storage.tokens`` on each engine."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from agentstatus.storage import tokens, users, web_sessions
from tests.storage.conftest import Tenant


def test_users_and_their_sessions(tenant: Tenant) -> None:
    with tenant.engine.begin() as conn:
        uid = users.insert_user(conn, "a@example.com", "A", "admin", None, "hash-1", 1_000)
        other = users.insert_user(conn, "b@example.com", "B", "supervisor", tenant.oid, "h", 1)
        assert users.find_id(conn, "a@example.com") == uid
        assert users.find_id(conn, "c@example.com") is None
        web_sessions.insert_session(conn, "secret-1", uid, 2_000)
        web_sessions.insert_session(conn, "secret-2", other, 2_000)
        users.set_password_hash(conn, uid, "hash-2")
        found = users.find_with_hash(conn, "a@example.com")
        assert found is not None
        assert found.password_hash == "hash-2"
        assert found.org is None
        shown = users.find(conn, other)
        assert shown is not None
        assert (shown.email, shown.role, shown.org) == (
            "b@example.com",
            "supervisor",
            "acme",
        )
        assert [r.email for r in users.rows(conn)] == ["a@example.com", "b@example.com"]
        session = web_sessions.find(conn, "secret-1")
        assert session is not None
        assert (session.user_id, session.seen_ms) == (uid, 2_000)
        web_sessions.touch(conn, session.id, 3_000)
        touched = web_sessions.find(conn, "secret-1")
        assert touched is not None
        assert touched.seen_ms == 3_000
        both = {session.id, session.id + 1_000}
        assert web_sessions.existing_among(conn, both) == {session.id}
        web_sessions.delete_of_user(conn, uid)
        users.delete_user(conn, uid)
        assert web_sessions.find(conn, "secret-1") is None
        web_sessions.delete_by_hash(conn, "secret-2")
        assert web_sessions.find(conn, "secret-2") is None
        assert users.find(conn, uid) is None
    with pytest.raises(IntegrityError), tenant.engine.begin() as conn:
        users.insert_user(conn, "b@example.com", "", "admin", None, "h", 1)


def test_tokens(tenant: Tenant) -> None:
    with tenant.engine.begin() as conn:
        first = tokens.insert_token(conn, "digest-1", "admin", None, "ops", 1_000)
        second = tokens.insert_token(conn, "digest-2", "supervisor", tenant.oid, "", 1_000)
        found = tokens.find_active(conn, "digest-2")
        assert found is not None
        assert (found.id, found.role, found.name) == (
            second,
            "supervisor",
            "acme",
        )
        assert tokens.revoke(conn, first)
        assert not tokens.revoke(conn, first)
        assert tokens.find_active(conn, "digest-1") is None
        assert [r.id for r in tokens.active_rows(conn)] == [second]
        assert tokens.active_among(conn, {first, second, second + 1}) == {second}
