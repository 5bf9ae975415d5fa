"""Wall links on each engine: made for an organisation, verified by their token only in
that organisation, refused in the three ways links are (unknown, expired, revoked), listed
without their tokens, and their rows keep who made and who revoked them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, update

from agentstatus.app import open_database
from agentstatus.domain.codes import digest
from agentstatus.service import panel_links, wall_links
from agentstatus.service.errors import InvalidInput, NotFound, OrganisationNotFound
from agentstatus.service.links import LinkRefusal
from agentstatus.service.tokens import Role, create_token
from agentstatus.service.wall_links import WallGrant
from agentstatus.storage.schema import wall_links as wall_links_table
from tests.support.factories import OrgFixture, make_org


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    engine = open_database(any_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def org(engine: Engine) -> OrgFixture:
    return make_org(engine, agent_count=1)


def _expire(engine: Engine, link_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(wall_links_table).where(wall_links_table.c.id == link_id).values(expires_ms=0)
        )


def test_a_link_is_verified_in_its_organisation_only(engine: Engine, org: OrgFixture) -> None:
    other = make_org(engine, agent_count=0)
    made = wall_links.create_link(engine, org.name, "TV by the door", 3600, "cli:ops")
    assert made.token.startswith("asw_")
    assert made.link.label == "TV by the door"
    assert made.link.created_by == "cli:ops"
    assert made.link.expires_ms - made.link.created_ms == 3600 * 1000
    grant = wall_links.verify_link(engine, org.name, made.token)
    assert isinstance(grant, WallGrant)
    assert (grant.link_id, grant.org, grant.label) == (made.link.id, org.name, "TV by the door")
    assert wall_links.verify_link(engine, other.name, made.token) is LinkRefusal.UNKNOWN
    for wrong in ("", "asw_" + "x" * 43, made.token + "x", "y" * 5000, made.token.upper()):
        assert wall_links.verify_link(engine, org.name, wrong) is LinkRefusal.UNKNOWN, wrong


def test_only_the_digest_is_kept(engine: Engine, org: OrgFixture) -> None:
    made = wall_links.create_link(engine, org.name)
    with engine.connect() as conn:
        row = conn.execute(select(wall_links_table)).one()
    assert made.token not in [str(v) for v in row]
    assert row.token_hash == digest(made.token)


def test_tokens_of_other_kinds_are_unknown_to_walls_and_walls_to_them(
    engine: Engine, org: OrgFixture
) -> None:
    panel = panel_links.create_link(engine, org.name, org.agents[0], None)
    api = create_token(engine, Role.ADMIN, org.name)
    for token in (panel.token, api.token, org.code):
        assert wall_links.verify_link(engine, org.name, token) is LinkRefusal.UNKNOWN
    wall = wall_links.create_link(engine, org.name)
    assert panel_links.verify_link(engine, org.name, wall.token) is LinkRefusal.UNKNOWN


def test_expired_and_revoked_links_are_refused_so(engine: Engine, org: OrgFixture) -> None:
    expired = wall_links.create_link(engine, org.name)
    revoked = wall_links.create_link(engine, org.name)
    _expire(engine, expired.link.id)
    wall_links.revoke_link(engine, org.name, revoked.link.id, "boss@example.com")
    assert wall_links.verify_link(engine, org.name, expired.token) is LinkRefusal.EXPIRED
    assert wall_links.verify_link(engine, org.name, revoked.token) is LinkRefusal.REVOKED
    # Revoked wins over expired: the words say someone ended it.
    _expire(engine, revoked.link.id)
    assert wall_links.verify_link(engine, org.name, revoked.token) is LinkRefusal.REVOKED
    assert wall_links.ended_among(engine, {expired.link.id, revoked.link.id}) == {
        expired.link.id,
        revoked.link.id,
    }


def test_listing_revoking_and_the_record_of_who(engine: Engine, org: OrgFixture) -> None:
    one = wall_links.create_link(engine, org.name, "one", actor="a@example.com")
    two = wall_links.create_link(engine, org.name, "two", actor="cli:ops")
    three = wall_links.create_link(engine, org.name, "three")
    gone = wall_links.create_link(engine, org.name, "gone")
    _expire(engine, gone.link.id)
    assert [k.label for k in wall_links.list_links(engine, org.name)] == ["one", "two", "three"]
    assert wall_links.ended_among(engine, {one.link.id, gone.link.id}) == {gone.link.id}

    wall_links.revoke_link(engine, org.name, one.link.id, "boss@example.com")
    wall_links.revoke_link(engine, org.name, one.link.id, "someone-else")  # again: no change
    assert [k.label for k in wall_links.list_links(engine, org.name)] == ["two", "three"]
    assert wall_links.revoke_all(engine, org.name, "cli:ops") == 2  # not the expired one
    assert wall_links.revoke_all(engine, org.name, "cli:ops") == 0
    assert wall_links.list_links(engine, org.name) == []
    every = {k.label: k for k in wall_links.list_links(engine, org.name, ended=True)}
    assert list(every) == ["one", "two", "three", "gone"]
    assert (every["one"].created_by, every["one"].revoked_by) == (
        "a@example.com",
        "boss@example.com",
    )
    assert every["two"].revoked_by == "cli:ops"
    assert every["two"].revoked_ms is not None
    assert (every["gone"].revoked_ms, every["gone"].revoked_by) == (None, None)
    assert every["three"].as_json()["revoked_at"].endswith("Z")
    assert wall_links.verify_link(engine, org.name, two.token) is LinkRefusal.REVOKED
    assert wall_links.verify_link(engine, org.name, three.token) is LinkRefusal.REVOKED


def test_refusals_in_words(engine: Engine, org: OrgFixture) -> None:
    other = make_org(engine, agent_count=0)
    theirs = wall_links.create_link(engine, other.name)
    for bad in (0, -1, 2**63, theirs.link.id, 424242):
        with pytest.raises(NotFound, match="no wall link"):
            wall_links.revoke_link(engine, org.name, bad)
    assert isinstance(wall_links.verify_link(engine, other.name, theirs.token), WallGrant)
    for ttl in (59, 365 * 86400 + 1, 0, -5):
        with pytest.raises(InvalidInput, match="a wall link lasts from 60 seconds to 365d"):
            wall_links.create_link(engine, org.name, ttl=ttl)
    with pytest.raises(InvalidInput):
        wall_links.create_link(engine, org.name, "x" * 129)
    with pytest.raises(InvalidInput):
        wall_links.create_link(engine, org.name, "bad\x00label")
    with pytest.raises(OrganisationNotFound):
        wall_links.create_link(engine, "no-such-org")
    with pytest.raises(OrganisationNotFound):
        wall_links.list_links(engine, "no-such-org")
    assert wall_links.create_link(engine, org.name, ttl=365 * 86400).link.label == ""
