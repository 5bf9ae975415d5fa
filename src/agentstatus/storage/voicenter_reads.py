"""What the Voicenter read endpoints read: the organisation a Code names, with its address
allow-list, and an organisation's extensions with who holds each, in which status."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, false, select

from agentstatus.storage.schema import agents, extensions, organisations, presence


@dataclass(frozen=True, slots=True)
class CodeHolder:
    """The organisation whose Code hashes to the digest looked up."""

    org_id: int
    allowlist: str | None


@dataclass(frozen=True, slots=True)
class HeldExtension:
    """One extension and its holder (``user_id`` None: nobody, ``status`` then None)."""

    extension_id: int
    sip: str
    name: str
    user_id: str | None
    agent_name: str | None
    status: int | None


def code_holder(conn: Connection, code_hash: str) -> CodeHolder | None:
    found = conn.execute(
        select(organisations.c.id, organisations.c.allowlist).where(
            organisations.c.code_hash == code_hash
        )
    ).first()
    return None if found is None else CodeHolder(int(found.id), found.allowlist)


def held_extensions(conn: Connection, org_id: int, only: str | None) -> list[HeldExtension]:
    """The organisation's extensions (or the one named ``only``) in SIP order."""
    query = (
        select(
            extensions.c.id,
            extensions.c.sip,
            extensions.c.name,
            agents.c.user_id,
            agents.c.name.label("agent_name"),
            presence.c.status,
        )
        .select_from(
            extensions.outerjoin(presence, presence.c.extension_id == extensions.c.id).outerjoin(
                agents, agents.c.id == presence.c.agent_id
            )
        )
        .where(extensions.c.org_id == org_id)
        .order_by(extensions.c.sip)
    )
    if only is not None:
        # PostgreSQL text cannot hold NUL: such a name matches no extension.
        query = query.where(extensions.c.sip == only if "\x00" not in only else false())
    return [
        HeldExtension(int(r.id), r.sip, r.name, r.user_id, r.agent_name, r.status)
        for r in conn.execute(query)
    ]
