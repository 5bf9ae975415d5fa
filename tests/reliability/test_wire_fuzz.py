"""Fuzzing the Voicenter-compatible endpoints with hostile raw requests (SPEC.md 3, 4).

Hypothesis writes requests byte by byte: random methods, case variants of the four paths,
query strings with repeated, unicode, enormous and badly percent-encoded parameters,
random content types and headers, and bodies of random bytes, random JSON or oversized
values, framed by Content-Length or chunked. They go over a raw socket to a real server
(on SQLite and on PostgreSQL), and every answer must be one the contract allows: never a
5xx, never a traceback, and always the documented shape — the outcomes table's object,
``{"Statuses": [...]}``, or Comet's ``{"ERR": .., "DESC": ..}`` — or else uvicorn's own
400 for a request that is not HTTP.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from agentstatus.app import open_database
from tests.reliability.figures import record, size
from tests.reliability.rawhttp import HTTP_REFUSALS, RawAnswer, build, exchange
from tests.support.compat import SPEC_OUTCOMES
from tests.support.factories import OrgFixture, make_org
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess

SET_STATUS, STATUSES_LIST = "/UserLogin/SetStatusFromAPI", "/UserLogin/GetStatusesList"
GET_EXTENSIONS, EXTENSIONS_CALLS = "/Comet/api/GetExtensions", "/comet/API/GetExtensionsCalls"
QUEUES_CALLERS = "/comet/API/GetQueuesCallers"
PATHS = [SET_STATUS, SET_STATUS, STATUSES_LIST, GET_EXTENSIONS, EXTENSIONS_CALLS, QUEUES_CALLERS]
TRIPLE_HTTP = {
    triple: {http for http, body in SPEC_OUTCOMES.values() if tuple(body.values()) == triple}
    for triple in {tuple(body.values()) for _, body in SPEC_OUTCOMES.values()}
}
JUNK = ["%zz", "%", "%C3%28", "%00", "%FF%FE", "+", "&&", "==", "%25", "a%2", "%u0041"]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "text/plain",
    "application/vnd.api+json",
    "multipart/form-data; boundary=x",
    "text/csv",
    "application/xml",
    "",
    "\x7f/\x01",
]

HOSTILE = ["", "\x00", "10\x001", "u" * 129, "9" * 40, "z" * 6000, "-1", "\u202e"]
strings = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from([*HOSTILE, "z" * 70_000]),  # rarely, a head over 64 KiB
    st.text(max_size=30),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    strings,
)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
VARIANTS = {
    "Code": ["Code", "code", "CODE", "c%6Fde", " Code"],
    "UserId": ["UserId", "userid", "USERID"],
    "ExtensionUser": ["ExtensionUser", "extensionuser", "sipid", "extension", "EXTENSION", "queue"],
    "Status": ["Status", "status"],
}


@st.composite
def parameters(
    draw: st.DrawFn, code: str, values: st.SearchStrategy[object]
) -> list[tuple[str, object]]:
    """A valid request's parameters, each kept, dropped, renamed or made hostile, plus
    random extra ones, in any order (names repeat)."""
    valid = {"Code": code, "UserId": "101", "ExtensionUser": "sip1", "Status": "1"}
    pairs: list[tuple[str, object]] = []
    for name, value in valid.items():
        fate = draw(st.sampled_from(["keep"] * 5 + ["drop", "hostile", "hostile", "twice"]))
        if fate == "drop":
            continue
        shown = draw(st.sampled_from(VARIANTS[name]))
        pairs.append((shown, draw(values) if fate == "hostile" else value))
        if fate == "twice":
            pairs.append((shown, draw(values)))
    pairs += draw(st.lists(st.tuples(st.text(max_size=8), values), max_size=3))
    return list(draw(st.permutations(pairs)))


def _query(pairs: list[tuple[str, object]]) -> list[str]:
    return [f"{quote(k, safe='%')}={quote(str(v), safe='')}" for k, v in pairs]


JSON_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain", ""]
BODY_KINDS = {
    "json": [*JSON_TYPES, "application/vnd.api+json", None],
    "form": ["application/x-www-form-urlencoded"],
    "document": JSON_TYPES,
    "bytes": CONTENT_TYPES,
    "huge": JSON_TYPES,
}


@st.composite
def wire_requests(draw: st.DrawFn, code: str) -> tuple[str, str, bytes, bool]:
    """(endpoint, method, raw request bytes, HEAD?)."""
    endpoint = draw(st.sampled_from(PATHS))
    cased = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in endpoint)
    path = draw(st.sampled_from([endpoint, cased, endpoint.lower(), endpoint + "/"]))
    methods = ["GET"] * 5 + ["POST"] * 6 + ["PUT", "DELETE", "PATCH", "HEAD"]
    method = draw(st.sampled_from(methods))
    in_query = method != "POST" or draw(st.integers(0, 3)) == 0
    parts = _query(draw(parameters(code, strings))) if in_query else []
    if draw(st.integers(0, 3)) == 0:
        parts += draw(st.lists(st.sampled_from(JUNK), min_size=1, max_size=2))
    query = "&".join(draw(st.permutations(parts)))
    headers: list[tuple[str, str]] = []
    if draw(st.booleans()):
        hops = ["203.0.113.7", "::1", "1.2.3.4.5", ",,", "x" * 300, "fe80::1%" + "e" * 80]
        forwarded = st.sampled_from(hops)
        headers.append(("X-Forwarded-For", draw(forwarded)))
    latin1 = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"))
    token = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
    headers += draw(st.lists(st.tuples(token, latin1), max_size=2))
    body: bytes | None = None
    content_type = draw(st.sampled_from([None, *CONTENT_TYPES]))
    if method not in ("GET", "HEAD") or draw(st.integers(0, 9)) == 0:
        kind = draw(st.sampled_from(["json"] * 6 + ["form", "form", "document", "bytes", "huge"]))
        if draw(st.integers(0, 4)) > 0:  # mostly, the content type that fits the body
            content_type = draw(st.sampled_from(BODY_KINDS[kind]))
        if kind == "json":
            values = st.one_of(strings, strings, st.integers(-(2**70), 2**70), json_values)
            body = json.dumps(dict(draw(parameters(code, values))), allow_nan=True).encode()
        elif kind == "document":
            body = json.dumps(draw(json_values), allow_nan=True).encode()
        elif kind == "form":
            body = "&".join(_query(draw(parameters(code, strings)))).encode()
        elif kind == "bytes":
            body = draw(st.binary(max_size=300))
        else:
            body = json.dumps({"Code": code, "UserId": "101", "Pad": "p" * 17_000}).encode()
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    chunked = body is not None and draw(st.booleans())
    target = path + (f"?{query}" if query else "")
    return endpoint, method, build(method, target, headers, body, chunked=chunked), method == "HEAD"


def check_shape(endpoint: str, method: str, answer: RawAnswer) -> str:
    """The answer is one the contract allows for this endpoint and method; returns its kind."""
    assert answer.status is not None, "the connection closed without an answer"
    assert answer.status < 500, answer
    assert b"Traceback" not in answer.body
    plain = answer.headers.get("content-type", "").startswith("text/plain")
    if answer.status in (400, 431) and plain and answer.body in (*HTTP_REFUSALS, b""):
        return f"HTTP {answer.status}"  # not HTTP at all, or too long: refused by the server
    assert answer.headers.get("content-type") == "application/json", answer
    if method == "HEAD":
        assert answer.status == 405
        return "405"
    document = json.loads(answer.body)
    assert isinstance(document, dict), answer
    if method not in ("GET", "POST"):
        assert answer.status == 405, answer
    if endpoint in (GET_EXTENSIONS, EXTENSIONS_CALLS):
        return check_comet(endpoint, answer.status, document)
    if endpoint == QUEUES_CALLERS:
        return check_queues(answer.status, document)
    if "Statuses" in document and endpoint == STATUSES_LIST:
        assert answer.status == 200
        assert list(document) == ["Statuses"]
        for status in document["Statuses"]:
            assert sorted(status) == ["Color", "ID", "Name"]
            assert isinstance(status["ID"], int)
        return "Statuses"
    assert list(document) == ["Status", "StatusError", "StatusErroMessage"], document
    triple = tuple(document.values())
    assert triple in TRIPLE_HTTP, document
    allowed = TRIPLE_HTTP[triple] | ({405} if triple == (2, 0, "Authorization Failed") else set())
    assert answer.status in allowed, answer
    return f"{answer.status} {triple[0]}/{triple[1]} {triple[2]}"


def check_queues(status: int, document: dict[str, object]) -> str:
    """GetQueuesCallers: Voicenter's ERR 1 (unreadable) / ERR 2 (refused Code) family."""
    if document["ERR"] == 1:
        assert document == {"ERR": 1, "DESC": "Invalid request"}, document
        assert status in (200, 405)
        return f"{status} queues malformed"
    if document["ERR"] == 2:
        assert document == {"ERR": 2, "DESC": "Unauthorized"}, document
        assert status in (200, 403, 429)
        return f"{status} queues unauthorized"
    assert status == 200
    assert list(document) == ["ERR", "DESC", "QUEUES"]
    queues = document["QUEUES"]
    assert isinstance(queues, list)
    for queue in queues:
        assert sorted(queue) == ["Callers", "ID", "Name", "Weight"], queue
    return "queues OK"


def check_comet(endpoint: str, status: int, document: dict[str, object]) -> str:
    if document["ERR"] != 0:
        assert document == {"ERR": 1, "DESC": "Unauthorized"}, document
        assert status in (200, 403, 405, 429)
        return f"{status} comet unauthorized"
    assert status == 200
    assert list(document) == ["ERR", "DESC", "EXTENSIONS"]
    keys = ["Name", "SIP", "peerStatus"] if endpoint == GET_EXTENSIONS else None
    calls = sorted(
        [
            "calls",
            "extensionID",
            "name",
            "onlineUserID",
            "onlineUserStatus",
            "representative",
            "userID",
            "username",
        ]
    )
    extensions = document["EXTENSIONS"]
    assert isinstance(extensions, list)
    for extension in extensions:
        assert sorted(extension) == (keys or calls), extension
    return "comet OK"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_databases: PostgresDatabases,
) -> Iterator[tuple[str, ServerProcess, OrgFixture]]:
    base = tmp_path_factory.mktemp(f"wire-{request.param}")
    url = (
        f"sqlite:///{base / 'agentstatus.db'}"
        if request.param == "sqlite"
        else postgres_databases.create()
    )
    engine = open_database(url)
    org = make_org(engine)
    engine.dispose()
    env = {"AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": "0", "AGENTSTATUS_TRUSTED_PROXIES": "127.0.0.1"}
    with ServerProcess(url, base / "server.log", env=env) as server:
        yield request.param, server, org


def test_hostile_requests_get_documented_answers(
    target: tuple[str, ServerProcess, OrgFixture],
) -> None:
    backend, server, org = target
    kinds: Counter[str] = Counter()

    @settings(
        max_examples=size("wire_fuzz_examples", 200, 2000),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=wire_requests(org.code))
    def one(case: tuple[str, str, bytes, bool]) -> None:
        endpoint, method, raw, head_only = case
        note(repr(raw[:2000]))
        answer = exchange(server.port, raw, head_only=head_only)
        kinds[check_shape(endpoint, method, answer)] += 1

    one()
    record(f"wire_fuzz_{backend}", cases=kinds.total(), kinds=dict(kinds.most_common()))
    assert kinds.total() >= 100
    assert kinds["200 1/1 OK"] > 0  # valid requests got through the noise
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
    log = Path(server.log_path).read_text()
    assert "Traceback" not in log
    assert "Exception in ASGI application" not in log


@pytest.mark.parametrize(
    ("values", "forwarded", "row"),
    [
        ({"UserId": "u" * 129}, None, 6),
        ({"UserId": "10\x001"}, None, 6),
        ({"ExtensionUser": "si\x00p1"}, None, 8),
        ({"Status": "9" * 40}, None, 9),
        ({}, "fe80::1%" + "e" * 80, 12),  # a scoped address is no client address
    ],
)
def test_values_postgresql_cannot_store_get_their_row(
    target: tuple[str, ServerProcess, OrgFixture],
    values: dict[str, str],
    forwarded: str | None,
    row: int,
) -> None:
    """Found by this fuzzer: on PostgreSQL these answered 503 (row 11)."""
    _, server, org = target
    query = {"Code": org.code, "UserId": "102", "ExtensionUser": "sip2", "Status": "1", **values}
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    answer = httpx.get(f"{server.base_url}{SET_STATUS}", params=query, headers=headers)
    assert (answer.status_code, answer.json()) == SPEC_OUTCOMES[row]
    calls = httpx.get(
        f"{server.base_url}{EXTENSIONS_CALLS}", params={"code": org.code, "extension": "\x00"}
    )
    assert calls.json() == {"ERR": 0, "DESC": "OK", "EXTENSIONS": []}
