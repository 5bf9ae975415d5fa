"""Each organisation's phone system: its configuration (the secret sealed like webhook
secrets) and the state of its connection, as the instance holding it records it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, Row, delete, insert, select, update

from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.secret_box import SecretBox
from agentstatus.outbound import OutboundPolicy, OutboundRefused
from agentstatus.pbx.config import PbxConfig, PbxConfigError, PbxKind, check_secret
from agentstatus.service.errors import InvalidInput, NotFound
from agentstatus.service.organisations import org_id
from agentstatus.storage.database import reading
from agentstatus.storage.schema import pbx_calls, pbx_connections


class SecretNeeded(InvalidInput):
    """The settings name another phone system (kind, host or port) and no secret was
    given: the stored one was given for the old one and is never sent elsewhere."""


SECRET_NEEDED = (
    "the kind, host or port changed: give the secret again (the stored secret is only "  # noqa: S105
    "ever sent to the phone system it was given for)"
)


@dataclass(frozen=True, slots=True)
class PbxState:
    """The configuration and how its connection is doing (``pbx show``)."""

    config: PbxConfig
    connected: bool
    holder: str | None
    lease_until_ms: int
    connected_ms: int | None
    last_error: str | None
    last_error_ms: int | None
    reconcile_ms: int | None
    reconcile_checked: int
    reconcile_repaired: int
    repaired_total: int
    commands_total: int

    def as_json(self, now: int | None = None) -> dict[str, object]:
        held = self.holder is not None and self.lease_until_ms > (now or now_ms())
        return {
            **self.config.as_json(),
            "connected": self.connected and held,
            "held_by": self.holder if held else None,
            "connected_since": _iso(self.connected_ms) if self.connected and held else None,
            "last_error": self.last_error,
            "last_error_at": _iso(self.last_error_ms),
            "last_reconcile": None
            if self.reconcile_ms is None
            else {
                "at": to_iso(self.reconcile_ms),
                "checked": self.reconcile_checked,
                "repaired": self.reconcile_repaired,
            },
            "repaired_total": self.repaired_total,
            "commands_total": self.commands_total,
        }


def _iso(ms: int | None) -> str | None:
    return None if ms is None else to_iso(ms)


def config_of(r: Row[Any]) -> PbxConfig:
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


def check_host(host: str, outbound: OutboundPolicy) -> None:
    """A literal address is judged now; a name on every connection, on each address it
    resolves to then, except ``localhost`` (and ``*.localhost``, RFC 6761), which is
    loopback wherever it is resolved: judged now as 127.0.0.1 and ::1."""
    name = host.strip("[]").removesuffix(".").casefold()
    if name == "localhost" or name.endswith(".localhost"):
        literals = ["127.0.0.1", "::1"]
    else:
        try:
            literals = [str(ipaddress.ip_address(name))]
        except ValueError:
            return
    try:
        for literal in literals:
            outbound.check_address(literal)
    except OutboundRefused as exc:
        raise InvalidInput(f"host: {exc}") from None


def set_pbx(
    engine: Engine,
    box: SecretBox,
    org: str,
    config: PbxConfig,
    secret: str | None,
    *,
    outbound: OutboundPolicy,
) -> PbxState:
    """Save ORG's phone system (replacing any); ``secret`` None keeps the stored one, for
    the same kind, host and port only (SecretNeeded else: the stored secret must never
    reach another server). The instance holding the connection reconnects with the new
    settings."""
    check_host(config.host, outbound)
    try:
        sealed = None if secret is None else box.seal(check_secret(secret))
    except PbxConfigError as exc:
        raise InvalidInput(str(exc)) from None
    values: dict[str, object] = {
        "kind": config.kind.value,
        "host": config.host,
        "port": config.port,
        "username": config.username,
        "queues": orjson.dumps(list(config.queues)).decode(),
        "interface": config.interface,
        "state_interface": config.state_interface,
        "agent_name": config.agent,
        "contact": config.contact,
        "updated_ms": now_ms(),
    }
    with engine.begin() as conn:
        oid = org_id(conn, org)
        found = conn.execute(
            select(pbx_connections.c.kind, pbx_connections.c.host, pbx_connections.c.port)
            .where(pbx_connections.c.org_id == oid)
            .with_for_update()
        ).first()
        if found is None:
            if sealed is None:
                raise InvalidInput("a new phone system needs its secret (--secret-stdin)")
            conn.execute(insert(pbx_connections).values(org_id=oid, secret_enc=sealed, **values))
        else:
            if sealed is None and _elsewhere(found, config):
                raise SecretNeeded(SECRET_NEEDED)
            if sealed is not None:
                values["secret_enc"] = sealed
            conn.execute(
                update(pbx_connections).where(pbx_connections.c.org_id == oid).values(**values)
            )
    state = pbx_state(engine, org)
    assert state is not None
    return state


def _elsewhere(stored: Row[Any, Any, Any], config: PbxConfig) -> bool:
    """Whether ``config`` points at another server than the stored settings."""
    return (stored.kind, stored.host.casefold(), int(stored.port)) != (
        config.kind.value,
        config.host.casefold(),
        config.port,
    )


def pbx_state(engine: Engine, org: str) -> PbxState | None:
    """ORG's phone system, or None when it has none; NotFound for an unknown org."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
        r = conn.execute(select(pbx_connections).where(pbx_connections.c.org_id == oid)).first()
    if r is None:
        return None
    return PbxState(
        config_of(r),
        bool(r.connected),
        r.holder,
        int(r.lease_until_ms),
        r.connected_ms,
        r.last_error,
        r.last_error_ms,
        r.reconcile_ms,
        int(r.reconcile_checked),
        int(r.reconcile_repaired),
        int(r.repaired_total),
        int(r.commands_total),
    )


def remove_pbx(engine: Engine, org: str) -> None:
    """Disconnect ORG from its phone system (the holder drops the connection within one
    lease check); the phone system's queues are left as they are."""
    with engine.begin() as conn:
        oid = org_id(conn, org)
        gone = conn.execute(delete(pbx_connections).where(pbx_connections.c.org_id == oid))
        if gone.rowcount == 0:
            raise NotFound(f"{org!r} has no phone system")
        conn.execute(delete(pbx_calls).where(pbx_calls.c.org_id == oid))
