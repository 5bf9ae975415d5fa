"""Each organisation's phone system: its configuration (the secret sealed like webhook
secrets) and the state of its connection, as the instance holding it records it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from agentstatus.domain.clock import now_ms, to_iso
from agentstatus.domain.pbx_config import PbxConfig, PbxConfigError, check_secret
from agentstatus.domain.secret_box import SecretBox
from agentstatus.outbound import OutboundPolicy, OutboundRefused
from agentstatus.service.errors import InvalidInput, NotFound
from agentstatus.service.organisations import org_id
from agentstatus.storage import pbx_links
from agentstatus.storage.database import reading
from agentstatus.storage.types import Engine


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
    with engine.begin() as conn:
        oid = org_id(conn, org)
        found = pbx_links.locked_server(conn, oid)
        if found is None:
            if sealed is None:
                raise InvalidInput("a new phone system needs its secret (--secret-stdin)")
            pbx_links.insert_settings(conn, oid, config, sealed, now_ms())
        else:
            if sealed is None and _elsewhere(found, config):
                raise SecretNeeded(SECRET_NEEDED)
            pbx_links.update_settings(conn, oid, config, sealed, now_ms())
    state = pbx_state(engine, org)
    assert state is not None
    return state


def _elsewhere(stored: tuple[str, str, int], config: PbxConfig) -> bool:
    """Whether ``config`` points at another server than the stored settings."""
    kind, host, port = stored
    return (kind, host.casefold(), port) != (config.kind.value, config.host.casefold(), config.port)


def pbx_state(engine: Engine, org: str) -> PbxState | None:
    """ORG's phone system, or None when it has none; NotFound for an unknown org."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
        r = pbx_links.link_row(conn, oid)
    if r is None:
        return None
    return PbxState(
        pbx_links.config_of(r),
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
        if not pbx_links.delete_link(conn, oid):
            raise NotFound(f"{org!r} has no phone system")
