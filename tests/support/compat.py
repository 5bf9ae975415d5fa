"""Talking to the Voicenter-compatible endpoints of a real server, and reading what they
did straight from the SQLite file.

``SPEC_OUTCOMES`` is the outcomes table of SPEC.md 3.1 written out again from the spec,
so the tests check the server against the contract, not against its own table.
"""

from __future__ import annotations

import sqlite3
import ssl
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from agentstatus.storage.database import create_sql_engine
from tests.support.factories import OrgFixture
from tests.support.tables import refusing_history

SET_STATUS = "/UserLogin/SetStatusFromAPI"
GET_STATUSES_LIST = "/UserLogin/GetStatusesList"

AUTH_FAILED = "Authorization Failed"
NO_EXTENSION = "No extension found"
NOT_SUPPORTED = "Status not support"


def _body(status: int, error: int, message: str) -> dict[str, object]:
    return {"Status": status, "StatusError": error, "StatusErroMessage": message}


SPEC_OUTCOMES: dict[int, tuple[int, dict[str, object]]] = {
    1: (200, _body(2, 0, AUTH_FAILED)),
    2: (200, _body(2, 6, AUTH_FAILED)),
    3: (200, _body(3, 6, NO_EXTENSION)),
    4: (200, _body(4, 6, NOT_SUPPORTED)),
    5: (429, _body(2, 0, AUTH_FAILED)),
    6: (200, _body(2, 0, AUTH_FAILED)),
    7: (403, _body(2, 0, AUTH_FAILED)),
    8: (200, _body(3, 3, NO_EXTENSION)),
    9: (200, _body(4, 0, NOT_SUPPORTED)),
    10: (200, _body(3, 3, "Extension is already in use")),
    11: (503, _body(0, 4, "Error on update")),
    12: (200, _body(1, 1, "OK")),
}
RETRY_AFTER_ROWS = frozenset({5, 11})
OK_BODY = SPEC_OUTCOMES[12][1]
IN_USE_BODY = SPEC_OUTCOMES[10][1]


class Via(StrEnum):
    """The three ways a CRM sends ``SetStatusFromAPI``."""

    GET = "GET"
    JSON = "POST-JSON"
    FORM = "POST-form"


def params(
    org: OrgFixture | str, user_id: str | None, extension: str | None, status: object
) -> dict[str, object]:
    """Request parameters; a None value leaves the parameter out."""
    code = org if isinstance(org, str) else org.code
    given = {"Code": code, "UserId": user_id, "ExtensionUser": extension, "Status": status}
    return {k: v for k, v in given.items() if v is not None}


def send(
    client: httpx.Client,
    via: Via,
    values: Mapping[str, object],
    *,
    path: str = SET_STATUS,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    if via is Via.GET:
        query = {k: str(v) for k, v in values.items()}
        return client.get(path, params=query, headers=headers)
    if via is Via.JSON:
        return client.post(path, json=dict(values), headers=headers)
    form = {k: str(v) for k, v in values.items()}
    return client.post(path, data=form, headers=headers)


def assert_row(response: httpx.Response, row: int) -> None:
    """The answer is exactly row ``row`` of the outcomes table, headers included."""
    http_status, body = SPEC_OUTCOMES[row]
    assert response.status_code == http_status, (row, response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body, (row, response.text)
    if row in RETRY_AFTER_ROWS:
        assert response.headers["retry-after"].isdigit()
        assert 1 <= int(response.headers["retry-after"]) <= 60
    else:
        assert "retry-after" not in response.headers


# -- the database, read directly ---------------------------------------------------------


def db_path(database_url: str) -> Path:
    database = make_url(database_url).database
    assert database is not None
    return Path(database)


def query(path: Path, sql: str, args: Sequence[object] = ()) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path, timeout=30)) as conn:
        return list(conn.execute(sql, tuple(args)).fetchall())


def org_row_id(path: Path, org_name: str) -> int:
    (found,) = query(path, "SELECT id FROM organisations WHERE name = ?", (org_name,))
    return int(str(found[0]))


def audit_rows(path: Path, org_name: str) -> list[tuple[object, ...]]:
    """``(outcome_row, user_id, endpoint, source, client_addr)`` in order."""
    return query(
        path,
        "SELECT outcome_row, user_id, endpoint, source, client_addr FROM audit "
        "WHERE org_id = ? ORDER BY id",
        (org_row_id(path, org_name),),
    )


def database_bytes(path: Path) -> bytes:
    """The database file with its WAL and shared-memory files: everything on disk."""
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


@contextmanager
def history_refused(path: Path, org_name: str) -> Iterator[None]:
    """Make SQLite itself refuse every history insert of one organisation (a trigger that
    aborts), so the server's write transaction really fails; undone afterwards. On either
    engine: :func:`tests.support.tables.refusing_history`."""
    engine = create_sql_engine(f"sqlite:///{path}")
    try:
        with refusing_history(engine, org_name):
            yield
    finally:
        engine.dispose()


# -- racing requests ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: dict[str, object]


def race(base_urls: Sequence[str], requests: Sequence[Mapping[str, object]]) -> list[Answer]:
    """Send every request at the same instant, each from its own thread and connection.

    Connections are opened (and a first request answered) before a barrier releases all
    threads together; request ``i`` goes to ``base_urls[i % len(base_urls)]``.
    """
    barrier = threading.Barrier(len(requests))
    tls = ssl.create_default_context()  # built once: loading CA certificates is slow

    def one(i: int) -> Answer:
        base_url = base_urls[i % len(base_urls)]
        with httpx.Client(base_url=base_url, timeout=60, verify=tls) as client:
            client.get("/healthz").raise_for_status()
            barrier.wait(timeout=60)
            response = send(client, Via.GET, requests[i])
            return Answer(response.status_code, response.json())

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(one, range(len(requests))))
