"""``monitor-logins list|revoke``: the Voicenter monitor's logins of an organisation,
never their tokens; revoking one ends it; refusals are one line."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from agentstatus.service import monitor_login
from agentstatus.service.tokens import Role, create_token
from tests.cli.helpers import assert_user_error, invoke, ok
from tests.conftest import OrgFactory


def test_list_and_revoke(
    shared_database_url: str, shared_org_factory: OrgFactory, shared_engine: Engine
) -> None:
    org = shared_org_factory()
    made = create_token(shared_engine, Role.SUPERVISOR, org.name, label="CRM")
    login = monitor_login.login_with_token(shared_engine, made.token)
    assert isinstance(login, monitor_login.MonitorLogin)
    listed = ok(shared_database_url, "monitor-logins", "list", org.name)
    assert f"token:{made.info.id}" in listed.stdout
    assert login.token not in listed.stdout
    assert login.refresh_token not in listed.stdout
    [row] = json.loads(ok(shared_database_url, "monitor-logins", "list", org.name, "--json").stdout)
    assert (row["id"], row["label"]) == (login.identity.grant_id, "CRM")
    grant = str(login.identity.grant_id)
    revoked = ok(shared_database_url, "monitor-logins", "revoke", org.name, grant)
    assert f"revoked monitor login {grant}" in revoked.stdout
    assert monitor_login.socket_identity(shared_engine, login.token) is None
    assert (
        json.loads(ok(shared_database_url, "monitor-logins", "list", org.name, "--json").stdout)
        == []
    )
    assert_user_error(
        invoke(shared_database_url, "monitor-logins", "revoke", org.name, "999999"),
        "no monitor login",
    )
    assert_user_error(
        invoke(shared_database_url, "monitor-logins", "list", "no-such-org"), "no-such-org"
    )
