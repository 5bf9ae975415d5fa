"""Hostile content and oversized requests (SPEC.md 5, 6), against a real server (in-process).

Agent, status and extension names carrying markup (``<script>``, ``"><img onerror>``) and
spreadsheet formulas (``=HYPERLINK(…)``, ``+…``, ``-…``, ``@…``) must come back as data
wherever they are shown: JSON bodies typed ``application/json`` (never HTML), a CSV report
whose formula-like cells are neutralised with a leading ``'``, and CLI tables that print
them literally. Bodies and heads beyond sane sizes are refused early, never with a 5xx.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.cli.main import cli
from agentstatus.service.agents import add_agent
from agentstatus.service.extensions import add_extension
from agentstatus.service.presence import list_presence
from agentstatus.service.statuses import add_status, update_status
from agentstatus.service.tokens import Role, create_token
from tests.reliability.rawhttp import build, exchange
from tests.support.compat import GET_STATUSES_LIST, SET_STATUS, SPEC_OUTCOMES, assert_row
from tests.support.factories import OrgFixture, make_org
from tests.support.inprocess import InProcessServer
from tests.support.server import ServerProcess

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
AGENTS = {
    "=1+1": '=HYPERLINK("http://evil.example/","click")',
    "+44": "+SUM(1)",
    "-5": "-2+3",
    "@me": "@SUM(A1)",
    "700": SCRIPT,
}
STATUS_30 = "=cmd|' /C calc'!A0"
MiB = 1024 * 1024


@dataclass
class Stage:
    server: ServerProcess
    engine: Engine
    url: str
    org: OrgFixture
    api: httpx.Client


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    base = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{base / 'agentstatus.db'}"
    engine = open_database(url)
    org = make_org(engine)
    for user_id, name in AGENTS.items():
        add_agent(engine, org.name, user_id, name)
    add_extension(engine, org.name, "desk9", "<b>desk</b>")
    update_status(engine, org.name, 3, name=IMG)
    add_status(engine, org.name, 30, STATUS_30)
    token = create_token(engine, Role.ADMIN).token
    try:
        with (
            InProcessServer(url, base / "server.log") as server,
            httpx.Client(
                base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as api,
        ):
            for user_id, ext, status in (("700", "desk9", 3), ("=1+1", "sip1", 30)):
                query = {
                    "Code": org.code,
                    "UserId": user_id,
                    "ExtensionUser": ext,
                    "Status": status,
                }
                assert api.get(SET_STATUS, params=query).json() == SPEC_OUTCOMES[12][1]
            yield Stage(server, engine, url, org, api)
    finally:
        engine.dispose()


def json_of(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    return answer.json()


def test_markup_in_names_comes_back_as_json_data(stage: Stage) -> None:
    org, code = f"/api/v1/orgs/{stage.org.name}", {"code": stage.org.code}
    agents = json_of(stage.api.get(f"{org}/agents"))
    assert {a["user_id"]: a["name"] for a in agents}.items() >= AGENTS.items()
    presence = {p["user_id"]: p for p in json_of(stage.api.get(f"{org}/presence"))["agents"]}
    assert (presence["700"]["name"], presence["700"]["status_name"]) == (SCRIPT, IMG)
    statuses = {s["id"]: s["name"] for s in json_of(stage.api.get(f"{org}/statuses"))}
    assert (statuses[3], statuses[30]) == (IMG, STATUS_30)
    extensions = json_of(stage.api.get(f"{org}/extensions"))
    assert {"extension": "desk9", "name": "<b>desk</b>", "held_by": "700"} in extensions
    report = json_of(stage.api.get(f"{org}/reports/time-in-status"))
    shown = {(r["name"], r["status_name"]) for r in report}
    assert {(SCRIPT, IMG), (AGENTS["=1+1"], STATUS_30)} <= shown
    listed = json_of(stage.api.get(GET_STATUSES_LIST, params=code))
    assert {"ID": 3, "Name": IMG, "Color": "#f39c12"} in listed["Statuses"]
    comet = json_of(stage.api.get("/Comet/api/GetExtensions", params=code))
    assert {"SIP": "desk9", "Name": "<b>desk</b>", "peerStatus": None} in comet["EXTENSIONS"]
    missing = stage.api.get(f"{org}/agents/{SCRIPT}", params={"x": IMG})
    assert missing.status_code >= 400
    assert missing.headers["content-type"] == "application/json"  # an error is JSON too


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def assert_neutralised(rows: list[dict[str, str]]) -> None:
    names = {r["user_id"].removeprefix("'"): r for r in rows}
    assert set(AGENTS) <= set(names)
    for user_id, name in AGENTS.items():
        row = names[user_id]
        formula = ("=", "+", "-", "@")
        assert row["user_id"] == ("'" + user_id if user_id.startswith(formula) else user_id)
        assert row["name"] == ("'" + name if name.startswith(formula) else name)
    for row in rows:
        for cell in (row["user_id"], row["name"], row["status_name"]):
            assert not cell.startswith(("=", "+", "-", "@")), row
    assert {"'" + STATUS_30, IMG} <= {r["status_name"] for r in rows}


def test_the_csv_report_neutralises_formulas(stage: Stage) -> None:
    answer = stage.api.get(
        f"/api/v1/orgs/{stage.org.name}/reports/time-in-status", params={"format": "csv"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert_neutralised(csv_rows(answer.text))
    printed = CliRunner().invoke(
        cli, ["--database", stage.url, "report", stage.org.name, "--format", "csv"]
    )
    assert printed.exit_code == 0, printed.output
    assert_neutralised(csv_rows(printed.output))


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["agent", "list"], [SCRIPT, *AGENTS.values()]),
        (["status", "list"], [IMG, STATUS_30]),
        (["extension", "list"], ["<b>desk</b>"]),
        (["presence"], [SCRIPT, IMG]),
        (["report"], [SCRIPT, IMG, STATUS_30]),
    ],
)
def test_cli_tables_print_names_literally(
    stage: Stage, command: list[str], shown: list[str]
) -> None:
    printed = CliRunner().invoke(cli, ["--database", stage.url, *command, stage.org.name])
    assert printed.exit_code == 0, printed.output
    for text in shown:
        assert text in printed.output


def test_a_body_over_16_kib_is_row_1(stage: Stage) -> None:
    values = {"Code": stage.org.code, "UserId": "101", "ExtensionUser": "sip2", "Status": 1}
    padded = json.dumps({**values, "Pad": "x" * 17 * 1024}).encode()
    assert len(padded) > 16 * 1024
    headers = {"Content-Type": "application/json"}
    assert_row(stage.api.post(SET_STATUS, content=padded, headers=headers), 1)
    streamed = stage.api.post(
        SET_STATUS, content=iter([padded[:9000], padded[9000:]]), headers=headers
    )
    assert_row(streamed, 1)  # chunked: no Content-Length to refuse it by
    assert [
        p.extension for p in list_presence(stage.engine, stage.org.name) if p.user_id == "101"
    ] == [None]
    assert_row(stage.api.post(SET_STATUS, json=values), 12)  # the same, small, is fine


def test_a_huge_content_length_without_a_body_is_row_1_at_once(stage: Stage) -> None:
    for length in (16 * 1024 + 1, 10**12):
        raw = build(
            "POST",
            SET_STATUS,
            [("Content-Type", "application/json"), ("Content-Length", str(length))],
        )
        answer = exchange(stage.server.port, raw, timeout=10)
        assert answer.status == 200
        assert json.loads(answer.body) == SPEC_OUTCOMES[1][1]
        assert answer.seconds < 5


def test_a_2_mib_body_to_the_native_api_is_413(stage: Stage) -> None:
    body = json.dumps({"user_id": "big", "name": "n" * 2 * MiB}).encode()
    path = f"/api/v1/orgs/{stage.org.name}/agents"
    headers = {"Content-Type": "application/json"}
    assert stage.api.post(path, content=body, headers=headers).status_code == 413
    chunks = iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
    assert stage.api.post(path, content=chunks, headers=headers).status_code == 413
    assert "big" not in [a["user_id"] for a in stage.api.get(path).json()]


@pytest.mark.parametrize("path", [SET_STATUS, "/api/v1/orgs", "/healthz"])
def test_100_kib_of_headers_are_refused_without_a_5xx(stage: Stage, path: str) -> None:
    many = [(f"X-Padding-{i}", "p" * 1000) for i in range(100)]
    answer = exchange(stage.server.port, build("GET", path, many), timeout=10)
    assert answer.status in (None, 431)  # refused, or the connection closed
    one = exchange(stage.server.port, build("GET", path, [("X-Big", "b" * 100 * 1024)]), timeout=10)
    assert one.status in (None, 431)
    usual = exchange(
        stage.server.port, build("GET", path, [("X-Cookie", "c" * 16 * 1024)]), timeout=10
    )
    assert usual.status is not None
    assert usual.status < 500  # 16 KiB of headers are still served
    assert httpx.get(f"{stage.server.base_url}/healthz").status_code == 200
