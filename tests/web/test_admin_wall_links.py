"""Wall links on the Organisation page against a real server: made with a label and a
lifetime (the address shown once, with the token in its fragment only), listed with who
made them, revoked one by one or all at once; refusals beside their fields."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import Engine

from agentstatus.service import wall_links
from agentstatus.service.links import LinkRefusal
from agentstatus.service.wall_links import WallGrant
from tests.support.factories import OrgFixture, make_org
from tests.support.html_forms import elements, field_error
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, signed_in, text_of

URL = re.compile(r"http://127\.0\.0\.1:\d+/o/(?P<org>[\w-]+)/wall#token=(?P<token>asw_[\w-]{43})")


def test_a_supervisor_may_not_make_or_revoke(
    shared_server: ServerProcess, supervisor: WebUser, org: OrgFixture, shared_engine: Engine
) -> None:
    made = wall_links.create_link(shared_engine, org.name)
    with signed_in(shared_server.base_url, supervisor) as client:
        create = client.post(
            f"/o/{org.name}/admin/settings/wall-links", data={"days": "1"}, headers=SAME_ORIGIN
        )
        revoke = client.post(
            f"/o/{org.name}/admin/settings/wall-links/revoke",
            data={"every": "1"},
            headers=SAME_ORIGIN,
        )
    assert (create.status_code, revoke.status_code) == (403, 403)
    assert isinstance(wall_links.verify_link(shared_engine, org.name, made.token), WallGrant)
    wall_links.revoke_link(shared_engine, org.name, made.link.id)


def test_a_link_is_shown_once_listed_and_revoked(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=0, extension_count=0)
    base = f"/o/{org.name}/admin/settings"
    with signed_in(shared_server.base_url, root_admin) as client:
        empty = client.get(base)
        made = client.post(
            f"{base}/wall-links", data={"label": "TV by the door", "days": "7"}, headers=SAME_ORIGIN
        )
        second = client.post(f"{base}/wall-links", data={"days": "30"}, headers=SAME_ORIGIN)
        listed = client.get(base)
        url = elements(made.text)["secret-value"].text.strip()
        other = elements(second.text)["secret-value"].text.strip()
        found = URL.fullmatch(url)
        assert found, url
        grant = wall_links.verify_link(shared_engine, org.name, found["token"])
        link_id = wall_links.list_links(shared_engine, org.name)[0].id
        revoked = client.post(
            f"{base}/wall-links/revoke",
            data={"link_id": str(link_id), "confirmed": "yes"},
            headers=SAME_ORIGIN,
        )
        after_one = client.get(revoked.headers["location"])
        second_token = URL.fullmatch(other)
        assert second_token, other
        still = wall_links.verify_link(shared_engine, org.name, second_token["token"])
        every = client.post(
            f"{base}/wall-links/revoke",
            data={"every": "1", "confirmed": "yes"},
            headers=SAME_ORIGIN,
        )
        after_all = client.get(every.headers["location"])
    assert "No wall link yet." in text_of(empty.text)
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    assert found["org"] == org.name
    assert org.code not in made.text
    assert isinstance(grant, WallGrant)
    assert grant.label == "TV by the door"
    assert "shown only this once" in text_of(made.text)
    # Listed without their tokens, with who made them.
    assert found["token"] not in listed.text
    assert len(re.findall(r"<tr data-wall-link-id=", listed.text)) == 2
    assert "TV by the door" in text_of(listed.text)
    assert root_admin.email in text_of(listed.text)
    links = wall_links.list_links(shared_engine, org.name, ended=True)
    assert links[0].expires_ms - links[0].created_ms == timedelta(days=7).total_seconds() * 1000
    assert links[1].expires_ms - links[1].created_ms == timedelta(days=30).total_seconds() * 1000
    assert links[0].created_by == root_admin.email
    # Revoked one, then every one.
    assert revoked.headers["location"].endswith("?done=wall-revoked")
    assert "The wall link was revoked." in text_of(after_one.text)
    assert wall_links.verify_link(shared_engine, org.name, found["token"]) is LinkRefusal.REVOKED
    assert isinstance(still, WallGrant)
    assert "Every wall link was revoked." in text_of(after_all.text)
    assert "No wall link yet." in text_of(after_all.text)
    ended = wall_links.verify_link(shared_engine, org.name, second_token["token"])
    assert ended is LinkRefusal.REVOKED
    assert {k.revoked_by for k in wall_links.list_links(shared_engine, org.name, ended=True)} == {
        root_admin.email
    }


def test_refusals_beside_their_fields(
    shared_server: ServerProcess, root_admin: WebUser, shared_engine: Engine
) -> None:
    org = make_org(shared_engine, agent_count=0, extension_count=0)
    other = make_org(shared_engine, agent_count=0, extension_count=0)
    theirs = wall_links.create_link(shared_engine, other.name)
    base = f"/o/{org.name}/admin/settings"
    with signed_in(shared_server.base_url, root_admin) as client:
        long_label = client.post(
            f"{base}/wall-links", data={"label": "x" * 200, "days": "1"}, headers=SAME_ORIGIN
        )
        bad_days = client.post(f"{base}/wall-links", data={"days": "2"}, headers=SAME_ORIGIN)
        not_ours = client.post(
            f"{base}/wall-links/revoke",
            data={"link_id": str(theirs.link.id)},
            headers=SAME_ORIGIN,
        )
        nonsense = client.post(
            f"{base}/wall-links/revoke", data={"link_id": "x"}, headers=SAME_ORIGIN
        )
    assert long_label.status_code == 422
    assert field_error(long_label.text, "wall-label") == (
        "A label is at most 128 characters, without control characters."
    )
    assert bad_days.status_code == 422
    assert field_error(bad_days.text, "wall-days") == "Choose how long the link lasts."
    assert not_ours.status_code == 404
    assert "There is no such wall link." in text_of(not_ours.text)
    assert nonsense.status_code == 422
    assert isinstance(wall_links.verify_link(shared_engine, other.name, theirs.token), WallGrant)
    assert wall_links.list_links(shared_engine, org.name) == []


def test_the_section_in_hebrew(
    shared_server: ServerProcess, admin: WebUser, org: OrgFixture
) -> None:
    with signed_in(shared_server.base_url, admin) as client:
        client.cookies.set("agentstatus_lang", "he")
        shown = client.get(f"/o/{org.name}/admin/settings")
    assert shown.status_code == 200
    assert 'dir="rtl"' in shown.text
    assert "Wall links" not in text_of(shown.text)
    assert "קישורי מסך קיר" in text_of(shown.text)
