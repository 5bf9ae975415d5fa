"""Issue 11 item 3: a custom Code through the API is strong, limited, and no oracle; the
command line keeps accepting any Code, with a warning when it is weak.

The ``guarded`` server trusts 127.0.0.1 as a proxy, so each test speaks for its own client
address through ``X-Forwarded-For`` and the limiter's state never leaks between tests.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.app import open_database
from agentstatus.domain.codes import STRONG_RULE
from agentstatus.http.api.custom_codes import REFUSED
from agentstatus.service import organisations
from agentstatus.service.tokens import Role, create_token
from tests.cli.helpers import run_cli
from tests.support.compat import GET_STATUSES_LIST, assert_row
from tests.support.factories import make_org
from tests.support.inprocess import InProcessServer
from tests.support.server import ServerProcess

LIMIT = 4
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


class Guarded:
    def __init__(self, server: ServerProcess, engine: Engine, url: str, token: str) -> None:
        self.server = server
        self.engine = engine
        self.url = url
        self.api = httpx.Client(
            base_url=f"{server.base_url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        self.wire = httpx.Client(base_url=server.base_url, timeout=30)

    def rotate(self, org: str, code: str | None, address: str) -> httpx.Response:
        body = {} if code is None else {"code": code}
        return self.api.post(
            f"/orgs/{org}/rotate-code", json=body, headers={"X-Forwarded-For": address}
        )

    def works(self, code: str, address: str) -> bool:
        answer = self.wire.get(
            GET_STATUSES_LIST, params={"code": code}, headers={"X-Forwarded-For": address}
        )
        return "Statuses" in answer.json()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    base = tmp_path_factory.mktemp("custom-codes")
    url = f"sqlite:///{base / 'agentstatus.db'}"
    engine = open_database(url)
    env = {
        "AGENTSTATUS_AUTH_FAILURES_PER_MINUTE": str(LIMIT),
        "AGENTSTATUS_TRUSTED_PROXIES": "127.0.0.1",
    }
    token = create_token(engine, Role.ADMIN, None).token
    try:
        with InProcessServer(url, base / "server.log", env=env) as server:
            guarded = Guarded(server, engine, url, token)
            with guarded.api, guarded.wire:
                yield guarded
    finally:
        engine.dispose()


def strong() -> str:
    return secrets.token_urlsafe(24)  # 32 characters


@pytest.mark.parametrize(
    "weak",
    [
        "x",
        "chosen-1",
        # 23 characters; written out, not drawn, so that every xdist worker collects the
        # same test ids
        "5f0c9e2b7a41d8366be05c1",
        "a" * 40,
        "abcabcabcabcabcabcabcabcabc",  # 3 different characters
        "correct&horse+battery/staple=1",  # characters a query string must escape
        "Pässwörd-mit-Umlauten-1234567",
    ],
)
def test_a_weak_custom_code_is_422_naming_the_rule(guarded: Guarded, weak: str) -> None:
    org = make_org(guarded.engine, agent_count=0, extension_count=0)
    address = next(_addresses)
    answer = guarded.rotate(org.name, weak, address)
    assert answer.status_code == 422
    assert STRONG_RULE in answer.json()["detail"]
    assert weak not in answer.text
    assert guarded.works(org.code, address)  # nothing changed
    created = guarded.api.post(
        "/orgs", json={"name": f"{org.name}-b", "code": weak}, headers={"X-Forwarded-For": address}
    )
    assert created.status_code == 422
    assert STRONG_RULE in created.json()["detail"]


def test_a_strong_custom_code_replaces_the_code(guarded: Guarded) -> None:
    org = make_org(guarded.engine, agent_count=0, extension_count=0)
    address, chosen = next(_addresses), strong()
    answer = guarded.rotate(org.name, chosen, address)
    assert answer.status_code == 200
    assert answer.json() == {"name": org.name, "code": chosen}
    assert answer.headers["Cache-Control"] == "no-store"
    assert guarded.works(chosen, address)
    assert not guarded.works(org.code, next(_addresses))


def test_another_organisations_code_is_refused_without_saying_why(guarded: Guarded) -> None:
    """The store keeps Codes unique (the wire knows an organisation by its Code alone): the
    answer is the generic refusal, never "taken", and neither organisation changes."""
    mine = make_org(guarded.engine, agent_count=0, extension_count=0)
    theirs_code = strong()
    theirs = organisations.create_organisation(guarded.engine, f"{mine.name}-t", theirs_code)
    address = next(_addresses)
    answer = guarded.rotate(mine.name, theirs_code, address)
    assert answer.status_code == 409
    assert answer.json() == {"detail": REFUSED, "code": "conflict"}
    for word in ("taken", "in use", "exists", "organisation", theirs.name, theirs_code):
        assert word not in answer.text
    created = guarded.api.post(
        "/orgs",
        json={"name": f"{mine.name}-n", "code": theirs_code},
        headers={"X-Forwarded-For": address},
    )
    assert (created.status_code, created.json()) == (409, {"detail": REFUSED, "code": "conflict"})
    assert guarded.works(mine.code, address)
    assert guarded.works(theirs_code, address)
    with guarded.engine.connect() as conn:
        assert organisations.org_id_for_code(conn, theirs_code) is not None
    assert f"{mine.name}-n" not in {
        o.name for o in organisations.list_organisations(guarded.engine)
    }


def test_custom_codes_draw_on_the_wires_allowance_then_429(guarded: Guarded) -> None:
    """Every custom Code counts, accepted or not (an accepted one told that it was nobody's):
    after LIMIT of them the address is answered 429 with Retry-After, here and on the wire;
    a generated Code tells nothing and is not limited."""
    org = make_org(guarded.engine, agent_count=0, extension_count=0)
    address = next(_addresses)
    outcomes = [guarded.rotate(org.name, strong(), address).status_code for _ in range(LIMIT)]
    assert outcomes == [200] * LIMIT
    refused = guarded.rotate(org.name, strong(), address)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "try again" in refused.json()["detail"]
    weak_too = guarded.rotate(org.name, "x", address)
    assert weak_too.status_code == 429  # refused before the rule is even looked at
    wire = guarded.wire.get(
        GET_STATUSES_LIST, params={"code": org.code}, headers={"X-Forwarded-For": address}
    )
    assert_row(wire, 5)
    generated = guarded.rotate(org.name, None, address)
    assert generated.status_code == 200
    assert guarded.works(generated.json()["code"], next(_addresses))
    assert guarded.rotate(org.name, strong(), next(_addresses)).status_code == 200


def test_the_openapi_document_states_the_rule(guarded: Guarded) -> None:
    document = httpx.get(f"{guarded.server.base_url}/openapi.json").json()
    rotation = document["components"]["schemas"]["CodeRotation"]["properties"]["code"]
    assert STRONG_RULE in rotation["description"]
    responses = document["paths"]["/api/v1/orgs/{org}/rotate-code"]["post"]["responses"]
    assert "429" in responses


def test_the_command_line_sets_a_weak_code_with_a_warning(guarded: Guarded) -> None:
    org = make_org(guarded.engine, agent_count=0, extension_count=0)
    done = run_cli(guarded.url, "org", "rotate-code", org.name, "--code", "vc-1234")
    assert done.code == 0, done.stderr
    assert done.last_line == "vc-1234"
    assert "warning: this Code is weak" in done.stderr
    assert STRONG_RULE in done.stderr
    assert "vc-1234" not in done.stderr
    assert guarded.works("vc-1234", next(_addresses))
    chosen = strong()
    quiet = run_cli(guarded.url, "org", "rotate-code", org.name, "--code", chosen)
    assert quiet.code == 0, quiet.stderr
    assert quiet.stderr == ""
    created = run_cli(guarded.url, "org", "create", f"{org.name}-w", "--code", "w")
    assert created.code == 0, created.stderr
    assert "warning: this Code is weak" in created.stderr
