"""Importing a checked CSV in bounded batches (``storage.batches``): every row is checked
before anything is written, then the rows are written a few thousand per transaction so
that other tenants' status changes never wait long for the SQLite writer.

Idempotent: a row whose key is present is updated (its name set), so importing the same
file again after a failure part-way, or after the process died, finishes the import (the
rows already written are then counted as updated).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from agentstatus.domain.clock import now_ms
from agentstatus.service.errors import ImportIncomplete
from agentstatus.service.organisations import org_id
from agentstatus.storage.batches import PartialWrite, write_in_batches
from agentstatus.storage.database import reading
from agentstatus.storage.types import Connection, Engine

Pair = tuple[str, str]
Existing = AbstractSet[str]
"""The keys (user ids, extensions) of the organisation when the import began."""
BatchWriter = Callable[[Connection, int, Sequence[Pair], Existing, int], tuple[int, int]]
"""``(conn, org id, rows, existing, at ms)`` -> (created, updated) of that batch."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int
    updated: int


def import_pairs(
    engine: Engine,
    org: str,
    pairs: list[Pair],
    existing: Callable[[Connection, int], Existing],
    write: BatchWriter,
) -> ImportSummary:
    """Write ``pairs`` into ``org`` in batches. What is present is read once, up front
    (a lookup per batch on PostgreSQL was planned as a scan of the whole organisation);
    ``write`` must also cope with a key created since (``storage.batches.insert_new``)."""
    with reading(engine) as conn:
        oid = org_id(conn, org)
        present = existing(conn, oid)
    at = now_ms()
    try:
        counts = write_in_batches(
            engine, pairs, lambda conn, batch: write(conn, oid, batch, present, at)
        )
    except PartialWrite as exc:
        raise ImportIncomplete(
            f"the database failed after {exc.written} of {exc.total} rows were imported; "
            "import the same file again to finish (rows already imported are updated)"
        ) from None
    return ImportSummary(sum(c for c, _ in counts), sum(u for _, u in counts))
