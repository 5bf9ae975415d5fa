"""The Voicenter reads of the service layer, on SQLite and on PostgreSQL: a Code is looked
up and its allow-list applied in one place, and every refusal leaves one audit row."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from agentstatus.app import open_database
from agentstatus.domain.catalogue import LOGOUT
from agentstatus.domain.commands import Source
from agentstatus.service.organisations import set_allowlist
from agentstatus.service.statuses import update_status
from agentstatus.service.voicenter import ExtensionState, read_extensions, read_statuses
from agentstatus.storage.schema import audit, extensions, organisations
from agentstatus.wire.outcomes import Row
from tests.support.factories import OrgFixture, make_org

HERE = "192.0.2.7"
GET = Source.GET


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def org(engine: Engine) -> OrgFixture:
    return make_org(engine, agent_count=1, extension_count=2)


def extension_ids(engine: Engine) -> dict[str, int]:
    """The database's id of each extension, by SIP name (GetExtensions' ``extensionID``)."""
    with engine.connect() as conn:
        rows = conn.execute(select(extensions.c.sip, extensions.c.id))
        return {row.sip: int(row.id) for row in rows}


def audited(engine: Engine) -> list[tuple[object, ...]]:
    """``(org_id, user_id, outcome_row, endpoint, source, client_addr)`` in order."""
    columns = (audit.c.org_id, audit.c.user_id, audit.c.outcome_row, audit.c.endpoint)
    with engine.connect() as conn:
        query = select(*columns, audit.c.source, audit.c.client_addr).order_by(audit.c.id)
        rows = conn.execute(query)
        return [tuple(r) for r in rows]


def only_org_id(engine: Engine) -> int:
    with engine.connect() as conn:
        (found,) = conn.execute(select(organisations.c.id)).scalars().all()
        return int(found)


def test_a_read_returns_the_enabled_statuses_and_audits_nothing(
    engine: Engine, org: OrgFixture
) -> None:
    update_status(engine, org.name, 11, enabled=False)
    found = read_statuses(engine, org.code, HERE, "GetStatusesList", source=GET)
    assert not isinstance(found, Row)
    assert [s.id for s in found] == [1, 2, 3, 5, 7, 9, 12, 13]
    assert audited(engine) == []


def test_an_unknown_code_is_row_6_audited_without_the_code(engine: Engine, org: OrgFixture) -> None:
    assert read_statuses(engine, "not-" + org.code, HERE, "GetStatusesList", source=GET) is (
        Row.AUTHENTICATION_FAILED
    )
    assert read_extensions(engine, "nope", None, "GetExtensions", None, source=GET) is (
        Row.AUTHENTICATION_FAILED
    )
    assert audited(engine) == [
        (None, None, 6, "GetStatusesList", "GET", HERE),
        (None, None, 6, "GetExtensions", "GET", None),
    ]
    with engine.connect() as conn:
        stored = " ".join(str(v) for r in conn.execute(select(audit)) for v in r)
    assert org.code not in stored


def test_a_refused_post_is_audited_as_post(engine: Engine, org: OrgFixture) -> None:
    """The audit row names the request's method: a refused POST is not written as a GET."""
    assert read_statuses(engine, "nope", HERE, "GetStatusesList", source=Source.POST) is (
        Row.AUTHENTICATION_FAILED
    )
    assert read_extensions(engine, "nope", HERE, "GetExtensions", None, source=Source.POST) is (
        Row.AUTHENTICATION_FAILED
    )
    assert audited(engine) == [
        (None, None, 6, "GetStatusesList", "POST", HERE),
        (None, None, 6, "GetExtensions", "POST", HERE),
    ]


def test_an_address_off_the_allow_list_is_row_7_audited_with_the_organisation(
    engine: Engine, org: OrgFixture
) -> None:
    set_allowlist(engine, org.name, ["10.0.0.0/8"])
    assert read_extensions(engine, org.code, HERE, "GetExtensionsCalls", None, source=GET) is (
        Row.ADDRESS_NOT_ALLOWED
    )
    assert audited(engine) == [(only_org_id(engine), None, 7, "GetExtensionsCalls", "GET", HERE)]
    assert not isinstance(
        read_statuses(engine, org.code, "10.1.2.3", "GetStatusesList", source=GET), Row
    )


def test_extensions_nobody_holds_are_in_logout(engine: Engine, org: OrgFixture) -> None:
    ids = extension_ids(engine)
    assert read_extensions(engine, org.code, HERE, "GetExtensions", None, source=GET) == [
        ExtensionState("sip1", "Desk 1", None, LOGOUT, extension_id=ids["sip1"]),
        ExtensionState("sip2", "Desk 2", None, LOGOUT, extension_id=ids["sip2"]),
    ]
    only = read_extensions(engine, org.code, HERE, "GetExtensions", "sip2", source=GET)
    assert only == [ExtensionState("sip2", "Desk 2", None, LOGOUT, extension_id=ids["sip2"])]
    assert read_extensions(engine, org.code, HERE, "GetExtensions", "sip\x00", source=GET) == []
    assert audited(engine) == []
