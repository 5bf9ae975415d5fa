"""Model-based testing of ``SetStatusFromAPI`` (SPEC.md 3) against a real server.

A Hypothesis state machine sends random sequences of GET and POST-JSON requests from the
agents of two organisations that share agent and extension names (both have agents
101-104 and extensions sip1-sip3; B also has agent 105 and extension sip4, and its agent
104 is inactive; A has status 13 disabled, B has 12 disabled and an extra status 20), with
unknown agents, extensions and statuses, missing parameters, and the other organisation's
Code. Every answer (HTTP status and exact JSON body), every organisation's presence after
every step, and the history at the end of each example are checked against a reference
model written from SPEC.md alone. Each example starts from two fresh organisations.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.service.agents import add_agent
from agentstatus.service.extensions import add_extension
from agentstatus.service.history import read_history
from agentstatus.service.presence import list_presence
from agentstatus.service.statuses import add_status, update_status
from tests.reliability.figures import record, size
from tests.support.changes import deactivate
from tests.support.compat import SPEC_OUTCOMES
from tests.support.factories import make_org
from tests.support.postgres import PostgresDatabases
from tests.support.server import ServerProcess

LOGIN, LOGOUT = 1, 2
DEFAULT_STATUSES = {1, 2, 3, 5, 7, 9, 11, 12, 13}
USERS = ["101", "102", "103", "104", "105", "999"]
EXTENSIONS = ["sip1", "sip2", "sip3", "sip4", "nope"]
STATUSES: list[object] = [1, 2, 2, 3, 5, 7, 9, 11, 12, 13, 20, 4, "03", " 7 ", "abc", "+1", "-1"]
Placement = tuple[str | None, int]  # (extension held or None, status)


@dataclass
class OrgModel:
    """What SPEC.md says one organisation looks like after the requests so far."""

    name: str
    code: str
    agents: set[str]
    extensions: set[str]
    enabled: set[int]
    presence: dict[str, Placement] = field(default_factory=dict)
    events: list[tuple[object, ...]] = field(default_factory=list)

    def holder(self, extension: str) -> str | None:
        return next((u for u, (ext, _) in self.presence.items() if ext == extension), None)


@dataclass(frozen=True)
class Request:
    org: str  # "A", "B", "unknown" or "missing"
    user: str | None
    extension: str | None
    status: object
    via: str  # "GET" or "POST"
    numeric: bool  # POST-JSON sends digit strings as JSON numbers
    names: tuple[str, str, str, str]
    path: str


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def expected_row(models: dict[str, OrgModel], req: Request) -> int:
    """Walk the outcomes table of SPEC.md 3.1, applying row 12 to the model."""
    if req.org == "missing" or _blank(req.user):
        return 2
    if _blank(req.extension):
        return 3
    if _blank(req.status):
        return 4
    org = models.get(req.org)
    user, extension, text = str(req.user).strip(), str(req.extension).strip(), str(req.status)
    if org is None or user not in org.agents:
        return 6
    if extension not in org.extensions:
        return 8
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text) not in org.enabled:
        return 9
    status = int(text)
    target: Placement = (None, LOGOUT) if status == LOGOUT else (extension, status)
    holder = org.holder(extension)
    if status != LOGOUT and holder not in (None, user):
        return 10
    current = org.presence[user]
    if current != target:
        org.events.append((user, current[0], target[0], current[1], target[1], req.via))
        org.presence[user] = target
    return 12


def _value(value: object, numeric: bool) -> object:
    if numeric and isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


requests = st.builds(
    Request,
    org=st.sampled_from(["A", "A", "B", "B", "unknown", "missing"]),
    user=st.sampled_from([*USERS, *USERS, " 102 ", "", None]),
    extension=st.sampled_from([*EXTENSIONS, *EXTENSIONS, " sip2", "", None]),
    status=st.sampled_from([*STATUSES, *STATUSES, "", None]),
    via=st.sampled_from(["GET", "POST"]),
    numeric=st.booleans(),
    names=st.tuples(
        st.sampled_from(["Code", "code", "CODE"]),
        st.sampled_from(["UserId", "userid", "USERID"]),
        st.sampled_from(["ExtensionUser", "extensionuser", "sipid"]),
        st.sampled_from(["Status", "status"]),
    ),
    path=st.sampled_from(["/UserLogin/SetStatusFromAPI", "/userlogin/setstatusfromapi/"]),
)

RUN = {"examples": 0, "steps": 0, "ok": 0}


class StatusMachine(RuleBasedStateMachine):
    client: ClassVar[httpx.Client]
    engine: ClassVar[Engine]

    def __init__(self) -> None:
        super().__init__()
        RUN["examples"] += 1
        tag = secrets.token_hex(5)
        a = make_org(self.engine, agent_count=4, extension_count=3, name=f"sm-{tag}-a")
        b = make_org(self.engine, agent_count=4, extension_count=3, name=f"sm-{tag}-b")
        add_agent(self.engine, b.name, "105", "Agent 5")
        add_extension(self.engine, b.name, "sip4", "Desk 4")
        deactivate(self.engine, b.name, "104")
        update_status(self.engine, a.name, 13, enabled=False)
        update_status(self.engine, b.name, 12, enabled=False)
        add_status(self.engine, b.name, 20, "Coaching")
        self.models = {
            "A": OrgModel(
                a.name,
                a.code,
                {"101", "102", "103", "104"},
                {"sip1", "sip2", "sip3"},
                DEFAULT_STATUSES - {13},
            ),
            "B": OrgModel(
                b.name,
                b.code,
                {"101", "102", "103", "105"},
                {"sip1", "sip2", "sip3", "sip4"},
                (DEFAULT_STATUSES - {12}) | {20},
            ),
        }
        for model in self.models.values():
            model.presence = dict.fromkeys(model.agents, (None, LOGOUT))
        self.last: Request | None = None

    def _send(self, req: Request) -> None:
        RUN["steps"] += 1
        code = {"A": self.models["A"].code, "B": self.models["B"].code, "missing": None}.get(
            req.org, secrets.token_hex(24)
        )
        values = [code, req.user, req.extension, req.status]
        given = {n: v for n, v in zip(req.names, values, strict=True) if v is not None}
        if req.via == "GET":
            answer = self.client.get(req.path, params={k: str(v) for k, v in given.items()})
        else:
            body: dict[str, Any] = {k: _value(v, req.numeric) for k, v in given.items()}
            answer = self.client.post(req.path, json=body)
        row = expected_row(self.models, req)
        RUN["ok"] += row == 12
        http_status, body_expected = SPEC_OUTCOMES[row]
        assert (answer.status_code, answer.json()) == (http_status, body_expected), (req, row)
        assert answer.headers["content-type"] == "application/json"
        self.last = req
        self._check_presence()

    def _check_presence(self) -> None:
        for model in self.models.values():
            found = {
                p.user_id: (p.extension, p.status) for p in list_presence(self.engine, model.name)
            }
            assert found == model.presence, model.name

    @rule(req=requests)
    def send(self, req: Request) -> None:
        self._send(req)

    @precondition(lambda self: self.last is not None)
    @rule()
    def repeat(self) -> None:
        """The same request again: an applied change repeated is OK and records nothing."""
        assert self.last is not None
        self._send(self.last)

    def teardown(self) -> None:
        for model in self.models.values():
            events = read_history(self.engine, model.name, limit=1000).events
            recorded = [
                (
                    e.user_id,
                    e.prev_extension,
                    e.new_extension,
                    e.prev_status,
                    e.new_status,
                    e.source,
                )
                for e in events
            ]
            assert recorded == model.events, model.name
            assert all(e.client_addr == "127.0.0.1" for e in events)


@pytest.fixture(params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_databases: PostgresDatabases
) -> Iterator[tuple[str, ServerProcess, Engine]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'agentstatus.db'}"
    else:
        url = postgres_databases.create()
    engine = open_database(url)
    env = {"AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": "0"}  # wrong Codes are part of the game
    try:
        with ServerProcess(url, tmp_path / "server.log", env=env) as server:
            yield request.param, server, engine
    finally:
        engine.dispose()


def test_the_service_behaves_like_the_spec_model(
    served: tuple[str, ServerProcess, Engine],
) -> None:
    backend, server, engine = served
    RUN.update(examples=0, steps=0, ok=0)
    examples = size("state_machine_examples", 15, 80)
    steps = size("state_machine_steps", 25, 50)
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        StatusMachine.client = client
        StatusMachine.engine = engine
        run_state_machine_as_test(
            StatusMachine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    record(f"state_machine_{backend}", examples=RUN["examples"], steps=RUN["steps"], ok=RUN["ok"])
    assert RUN["examples"] >= examples
    assert RUN["ok"] > 0
