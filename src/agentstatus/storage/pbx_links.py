"""Each organisation's phone system as stored: its settings (the secret sealed by the
caller), its lease, and the row ``pbx show`` reads.

The lease makes exactly one instance on a database hold each connection: every instance
renews the leases it holds and takes the ones that lapsed in one statement
(``UPDATE … WHERE holder = me OR lease_until < now``), so one instance wins each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Row, delete, insert, or_, select, update

from agentstatus.domain.pbx_config import PbxConfig, PbxKind
from agentstatus.storage.schema import organisations, pbx_calls, pbx_connections

_c = pbx_connections.c


@dataclass(frozen=True, slots=True)
class StoredTarget:
    """What a link connects with: the organisation's name, its settings, the sealed secret."""

    org: str
    config: PbxConfig
    secret_enc: str


def config_of(r: Row[Any]) -> PbxConfig:
    """The settings a ``pbx_connections`` row holds."""
    return PbxConfig(
        PbxKind(r.kind),
        r.host,
        int(r.port),
        tuple(orjson.loads(r.queues)),
        r.username,
        r.interface,
        r.state_interface,
        r.agent_name,
        r.contact,
    )


def _settings(config: PbxConfig, at_ms: int) -> dict[str, object]:
    return {
        "kind": config.kind.value,
        "host": config.host,
        "port": config.port,
        "username": config.username,
        "queues": orjson.dumps(list(config.queues)).decode(),
        "interface": config.interface,
        "state_interface": config.state_interface,
        "agent_name": config.agent,
        "contact": config.contact,
        "updated_ms": at_ms,
    }


def locked_server(conn: Connection, org_id: int) -> tuple[str, str, int] | None:
    """The stored kind, host and port of the organisation's phone system, its row locked
    until the transaction ends (PostgreSQL); None when it has none."""
    found = conn.execute(
        select(_c.kind, _c.host, _c.port).where(_c.org_id == org_id).with_for_update()
    ).first()
    return None if found is None else (found.kind, found.host, int(found.port))


def insert_settings(
    conn: Connection, org_id: int, config: PbxConfig, secret_enc: str, at_ms: int
) -> None:
    conn.execute(
        insert(pbx_connections).values(
            org_id=org_id, secret_enc=secret_enc, **_settings(config, at_ms)
        )
    )


def update_settings(
    conn: Connection, org_id: int, config: PbxConfig, secret_enc: str | None, at_ms: int
) -> None:
    """Replace the settings; ``secret_enc`` None keeps the stored secret."""
    values = _settings(config, at_ms)
    if secret_enc is not None:
        values["secret_enc"] = secret_enc
    conn.execute(update(pbx_connections).where(_c.org_id == org_id).values(**values))


def link_row(conn: Connection, org_id: int) -> Row[Any] | None:
    """The whole row: the settings and how the connection is doing."""
    return conn.execute(select(pbx_connections).where(_c.org_id == org_id)).first()


def delete_link(conn: Connection, org_id: int) -> bool:
    """Remove the organisation's phone system and its live calls; False when it had none."""
    gone = conn.execute(delete(pbx_connections).where(_c.org_id == org_id))
    if gone.rowcount == 0:
        return False
    conn.execute(delete(pbx_calls).where(pbx_calls.c.org_id == org_id))
    return True


def take_leases(conn: Connection, holder: str, now_ms: int, lease_ms: int) -> dict[int, int]:
    """Renew or take every lease that is ``holder``'s or lapsed; {org id: settings'
    updated_ms}."""
    rows = conn.execute(
        update(pbx_connections)
        .where(or_(_c.holder == holder, _c.lease_until_ms < now_ms))
        .values(holder=holder, lease_until_ms=now_ms + lease_ms)
        .returning(_c.org_id, _c.updated_ms)
    ).all()
    return {int(r.org_id): int(r.updated_ms) for r in rows}


def release_leases(conn: Connection, holder: str) -> None:
    """Give back every lease ``holder`` holds: another instance takes them at once."""
    conn.execute(
        update(pbx_connections).where(_c.holder == holder).values(lease_until_ms=0, connected=False)
    )


def stored_target(conn: Connection, org_id: int) -> StoredTarget | None:
    r = conn.execute(
        select(pbx_connections, organisations.c.name.label("org_name"))
        .join(organisations, organisations.c.id == _c.org_id)
        .where(_c.org_id == org_id)
    ).first()
    return None if r is None else StoredTarget(r.org_name, config_of(r), r.secret_enc)
