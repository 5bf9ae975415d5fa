"""Copying organisations, with their whole state and history, between databases.

Rows keep their relative order and are renumbered by a fixed offset per table (the
target's highest id), so every reference can be mapped without a lookup table and the
history keeps its commit order. The target is written in one transaction, and the copy
is verified by counting rows on both sides before it commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Table, func, insert, select, text

from agentstatus.storage.database import reading
from agentstatus.storage.schema import (
    agents,
    api_tokens,
    audit,
    deadlines,
    extensions,
    history,
    organisations,
    presence,
    queue_days,
    queue_settings,
    statuses,
    webhook_deliveries,
    webhook_endpoints,
)

CHUNK = 5000
# auth_failures (the limiter's shared counts) is not copied: it is about client addresses,
# not organisations, and every row of it lapses within a minute. Nor are the web's users and
# sessions, the panel links and the Voicenter monitor's logins: people sign in again, and
# the CRM makes new links and logs in again. Nor is the phone system's connection (its
# secret is sealed with the source's key; set it again with `agentstatus pbx set`) or its
# live calls (the new connection finds them), nor the
# callers waiting in its queues (queue_callers: live like the calls; the new connection reads
# them again). The queues' settings (renumbered: their ID is GetQueuesCallers') and their
# days' figures are copied, as the queue.caller_* events of the history are.
_RENUMBERED = (
    organisations,
    agents,
    extensions,
    history,
    audit,
    api_tokens,
    webhook_endpoints,
    webhook_deliveries,
    deadlines,
    queue_settings,
)
# References to renumber: column -> the table it points at.
_REFERENCES: dict[str, dict[str, Table]] = {
    "agents": {"org_id": organisations},
    "extensions": {"org_id": organisations},
    "statuses": {"org_id": organisations},
    "presence": {"agent_id": agents, "org_id": organisations, "extension_id": extensions},
    "history": {"org_id": organisations, "agent_id": agents},
    "audit": {"org_id": organisations},
    "api_tokens": {"org_id": organisations},
    "webhook_endpoints": {"org_id": organisations},
    "webhook_deliveries": {"endpoint_id": webhook_endpoints, "history_id": history},
    "deadlines": {"org_id": organisations, "agent_id": agents},
    "queue_settings": {"org_id": organisations},
    "queue_days": {"org_id": organisations},
}


class CopyError(Exception):
    """The copy was refused or abandoned; nothing was committed to the target."""


class NotInSource(CopyError):
    """An organisation asked for is not in the source database."""


class AlreadyInTarget(CopyError):
    """An organisation of that name is already in the target database."""


class CountMismatch(CopyError):
    """The rows counted on the two sides differ from the rows copied."""


@dataclass
class CopyReport:
    organisations: list[str]
    counts: dict[str, int] = field(default_factory=dict)


def _max_id(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def _selection(table: Table, org_ids: list[int], include_global: bool) -> ColumnElement[bool]:
    """The rows of ``table`` that belong to the copied organisations."""
    if table is organisations:
        return organisations.c.id.in_(org_ids)
    if table is webhook_deliveries:
        return webhook_deliveries.c.endpoint_id.in_(
            select(webhook_endpoints.c.id).where(webhook_endpoints.c.org_id.in_(org_ids))
        )
    if table is api_tokens and include_global:
        return api_tokens.c.org_id.in_(org_ids) | api_tokens.c.org_id.is_(None)
    if table is audit and include_global:
        return audit.c.org_id.in_(org_ids) | audit.c.org_id.is_(None)
    return table.c.org_id.in_(org_ids)


def _chunks(
    conn: Connection, table: Table, where: ColumnElement[bool]
) -> Iterator[list[dict[str, Any]]]:
    order = table.c.id if "id" in table.c else next(iter(table.primary_key.columns))
    result = conn.execution_options(yield_per=CHUNK).execute(
        select(table).where(where).order_by(order)
    )
    for partition in result.mappings().partitions(CHUNK):
        yield [dict(row) for row in partition]


_ORDER = (
    organisations,
    statuses,
    agents,
    extensions,
    presence,
    history,
    audit,
    api_tokens,
    webhook_endpoints,
    webhook_deliveries,
    deadlines,
    queue_settings,
    queue_days,
)
"""The tables in the order they are written: each after those it points at."""


@dataclass(frozen=True)
class _Copy:
    """What every table's copy needs: the rows to take and how to renumber them."""

    org_ids: list[int]
    include_global: bool
    offsets: dict[str, int]
    reseal: Callable[[str], str]

    def renumber(self, table: Table, row: dict[str, Any]) -> None:
        if table.name in self.offsets:
            row["id"] += self.offsets[table.name]
        for column, points_at in _REFERENCES.get(table.name, {}).items():
            if row[column] is not None:
                row[column] += self.offsets[points_at.name]
        if table is webhook_endpoints:
            row["secret_enc"] = self.reseal(str(row["secret_enc"]))


def copy_organisations(
    source: Engine,
    target: Engine,
    names: list[str] | None,
    reseal: Callable[[str], str],
) -> CopyReport:
    """Copy the named organisations (all when None) from source to target.

    ``reseal`` re-encrypts a webhook secret from the source's key to the target's.
    Copying everything also copies the tokens scoped to all organisations and the failed
    authentications that matched no organisation.
    """
    with reading(source) as src:
        if src.dialect.name == "postgresql":
            src = src.execution_options(isolation_level="REPEATABLE READ")
        wanted, org_ids = _source_organisations(src, names)
        report = CopyReport(wanted)
        with target.begin() as dst:
            _claim_names(dst, wanted)
            offsets = {t.name: _max_id(dst, t) for t in _RENUMBERED}
            plan = _Copy(org_ids, names is None, offsets, reseal)
            for table in _ORDER:
                report.counts[table.name] = _copy_table(src, dst, table, plan)
            if dst.dialect.name == "postgresql":
                _advance_sequences(dst)
    return report


def _source_organisations(src: Connection, names: list[str] | None) -> tuple[list[str], list[int]]:
    """The names to copy (all, sorted, when None) and their ids in the source."""
    rows = src.execute(select(organisations.c.id, organisations.c.name)).all()
    by_name = {r.name: int(r.id) for r in rows}
    wanted = sorted(by_name) if names is None else names
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise NotInSource(f"not in the source database: {', '.join(missing)}")
    return wanted, [by_name[n] for n in wanted]


def _claim_names(dst: Connection, wanted: list[str]) -> None:
    """Refuse names the target has; on PostgreSQL, first keep other writers out of the
    renumbered tables until the copy commits (the offsets are their highest ids)."""
    if dst.dialect.name == "postgresql":
        names_sql = ", ".join(t.name for t in (*_RENUMBERED, statuses, presence))
        dst.execute(text(f"LOCK TABLE {names_sql} IN EXCLUSIVE MODE"))
    taken = (
        dst.execute(select(organisations.c.name).where(organisations.c.name.in_(wanted)))
        .scalars()
        .all()
    )
    if taken:
        raise AlreadyInTarget(f"already in the target database: {', '.join(taken)}")


def _copy_table(src: Connection, dst: Connection, table: Table, plan: _Copy) -> int:
    """Copy one table's selected rows, renumbered; the count of rows copied, checked
    against both sides."""
    where = _selection(table, plan.org_ids, plan.include_global)
    copied = 0
    for chunk in _chunks(src, table, where):
        for row in chunk:
            plan.renumber(table, row)
        dst.execute(insert(table), chunk)
        copied += len(chunk)
    target_count = dst.execute(
        select(func.count())
        .select_from(table)
        .where(_shifted_selection(table, plan.org_ids, plan.offsets, plan.include_global))
    ).scalar_one()
    source_count = src.execute(select(func.count()).select_from(table).where(where)).scalar_one()
    if not source_count == target_count == copied:
        raise CountMismatch(
            f"{table.name}: copied {copied}, source has {source_count}, "
            f"target has {target_count}; nothing was committed"
        )
    return copied


def _advance_sequences(dst: Connection) -> None:
    """PostgreSQL's sequences past the ids written by hand (SQLite needs nothing)."""
    for table in _RENUMBERED:
        dst.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
            )
        )


def _shifted_selection(
    table: Table, org_ids: list[int], offsets: dict[str, int], include_global: bool
) -> ColumnElement[bool]:
    shifted = [i + offsets["organisations"] for i in org_ids]
    base = _selection(table, shifted, False)
    if table is webhook_deliveries:
        return webhook_deliveries.c.endpoint_id.in_(
            select(webhook_endpoints.c.id).where(webhook_endpoints.c.org_id.in_(shifted))
        )
    if include_global and table in (api_tokens, audit):
        return base | (table.c.org_id.is_(None) & (table.c.id > offsets[table.name]))
    return base
