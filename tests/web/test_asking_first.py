"""Every form that changes an agent, or that is hard to take back, asks first, also
without the pages' script (or on a click before it ran): the server answers an
unconfirmed form with a page asking the question (naming the agent or the thing), whose
form carries the same fields and the confirmation. Replay never treats a call's event as
a change of status."""

from __future__ import annotations

import re

from sqlalchemy import Engine, insert, select

from agentstatus.domain.clock import now_ms
from agentstatus.service import agents, extensions, presence, tokens, wall_links
from agentstatus.service import webhooks as webhook_endpoints
from agentstatus.service.organisations import org_id
from agentstatus.service.tokens import Role
from agentstatus.storage.schema import agents as agents_table
from agentstatus.storage.schema import history
from tests.support.factories import make_org
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, add_user, signed_in, text_of
from tests.support.wire import set_status


def statuses(engine: Engine, org: str) -> dict[str, int]:
    return {p.user_id: p.status for p in presence.list_presence(engine, org)}


def hidden_fields(html: str) -> dict[str, str]:
    form = re.search(
        r'<form method="post" action="[^"]*" class="confirm-actions">.*?</form>', html, re.S
    )
    assert form is not None, html
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))


def test_a_logout_form_asks_first_naming_the_agent(
    shared_server: ServerProcess, shared_engine: Engine, root_admin: WebUser
) -> None:
    org = make_org(shared_engine, agent_count=2, extension_count=2)
    agents.rename_agent(shared_engine, org.name, "101", "Dana Levi")
    set_status(shared_server.base_url, org.code, "101", "sip1", 1)
    set_status(shared_server.base_url, org.code, "102", "sip2", 1)
    with signed_in(shared_server.base_url, root_admin) as client:
        board = client.get(f"/o/{org.name}/").text
        assert f'action="/o/{org.name}/agents/101/logout"' in board  # a form, also without JS
        asked = client.post(f"/o/{org.name}/agents/101/logout", headers=SAME_ORIGIN)
        assert asked.status_code == 200
        assert "Log out Dana Levi (101)?" in text_of(asked.text)
        assert statuses(shared_engine, org.name)["101"] == 1
        assert hidden_fields(asked.text) == {"confirmed": "yes"}
        assert f'action="/o/{org.name}/agents/101/logout"' in asked.text
        done = client.post(
            f"/o/{org.name}/agents/101/logout", data={"confirmed": "yes"}, headers=SAME_ORIGIN
        )
        assert done.status_code == 303
        assert statuses(shared_engine, org.name)["101"] == 2

        everyone = client.post(f"/o/{org.name}/logout-all", headers=SAME_ORIGIN)
        assert everyone.status_code == 200
        assert f"Log out every agent of {org.name}?" in text_of(everyone.text)
        assert statuses(shared_engine, org.name)["102"] == 1
        client.post(f"/o/{org.name}/logout-all", data={"confirmed": "yes"}, headers=SAME_ORIGIN)
        assert statuses(shared_engine, org.name)["102"] == 2


def test_every_admin_form_that_is_hard_to_take_back_asks_first(
    shared_server: ServerProcess, shared_engine: Engine, root_admin: WebUser
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    admin = f"/o/{org.name}/admin"
    other = add_user(shared_engine, f"asked-{org.name}@example.com", Role.SUPERVISOR, org.name)
    token = tokens.create_token(shared_engine, Role.SUPERVISOR, org.name, "CRM").info
    link = wall_links.create_link(shared_engine, org.name, "TV").link
    with signed_in(shared_server.base_url, root_admin) as client:
        client.post(
            f"{admin}/webhooks", data={"url": "https://crm.example.com/h"}, headers=SAME_ORIGIN
        )
        endpoint = webhook_endpoints.list_endpoints(shared_engine, org.name)[0].id
        forms = [
            ("extensions/remove", {"extension": "sip1"}, "Remove extension sip1?", "extensions"),
            (
                "users/password",
                {"email": other.email},
                f"Give {other.email} a new password? Their sessions end.",
                "users",
            ),
            ("users/remove", {"email": other.email}, f"Remove {other.email}?", "users"),
            (
                "webhooks/change",
                {"endpoint_id": str(endpoint), "action": "remove"},
                f"Remove endpoint {endpoint} and its deliveries?",
                "webhooks",
            ),
            (
                "tokens/revoke",
                {"token_id": str(token.id)},
                f"Revoke token {token.id}? Programs using it stop working.",
                "tokens",
            ),
            (
                "settings/wall-links/revoke",
                {"link_id": str(link.id)},
                f"Revoke wall link {link.id}? Its screen stops showing the wall.",
                "settings",
            ),
            (
                "settings/wall-links/revoke",
                {"every": "1"},
                f"Revoke every wall link of {org.name}? Every screen stops showing the wall.",
                "settings",
            ),
            ("settings/code", {}, f"Make a new Code for {org.name}?", "settings"),
        ]
        for path, fields, question, area in forms:
            asked = client.post(f"{admin}/{path}", data=fields, headers=SAME_ORIGIN)
            assert asked.status_code == 200, path
            assert question in text_of(asked.text), path
            assert hidden_fields(asked.text) == {**fields, "confirmed": "yes"}, path
            assert f'action="{admin}/{path}"' in asked.text, path
            assert f'href="{admin}/{area}"' in asked.text, path  # "Cancel" goes back
        # Nothing was changed by the unconfirmed forms.
        assert [e.extension for e in extensions.list_extensions(shared_engine, org.name)] == [
            "sip1"
        ]
        with signed_in(shared_server.base_url, other):
            pass  # their password and their account are as they were
        assert [e.id for e in webhook_endpoints.list_endpoints(shared_engine, org.name)] == [
            endpoint
        ]
        assert token.id in {t.id for t in tokens.list_tokens(shared_engine)}
        assert [k.id for k in wall_links.list_links(shared_engine, org.name)] == [link.id]
        set_status(shared_server.base_url, org.code, "101", "sip1", 1)  # the same Code

        # Confirmed, each is carried out.
        confirmed = client.post(
            f"{admin}/tokens/revoke",
            data={"token_id": str(token.id), "confirmed": "yes"},
            headers=SAME_ORIGIN,
        )
        assert confirmed.status_code == 303
        assert token.id not in {t.id for t in tokens.list_tokens(shared_engine)}

        # A thing of another organisation, or none, gets its "no such" answer, not a question.
        stranger = make_org(shared_engine, agent_count=0, extension_count=0)
        theirs = wall_links.create_link(shared_engine, stranger.name).link
        for path, fields in (
            ("settings/wall-links/revoke", {"link_id": str(theirs.id)}),
            ("webhooks/change", {"endpoint_id": str(endpoint + 1000), "action": "remove"}),
            ("tokens/revoke", {"token_id": "999999"}),
            ("users/remove", {"email": "nobody@example.com"}),
        ):
            refused = client.post(f"{admin}/{path}", data=fields, headers=SAME_ORIGIN)
            assert refused.status_code == 404, path
            assert 'class="confirm-page"' not in refused.text, path


def test_the_confirmation_page_is_in_hebrew_too(
    shared_server: ServerProcess, shared_engine: Engine, root_admin: WebUser
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    with signed_in(shared_server.base_url, root_admin) as client:
        client.post("/language", data={"language": "he", "next": "/"}, headers=SAME_ORIGIN)
        asked = client.post(
            f"/o/{org.name}/admin/agents/change",
            data={"user_id": "101", "action": "deactivate"},
            headers=SAME_ORIGIN,
        )
    assert asked.status_code == 200
    assert 'dir="rtl"' in asked.text
    assert "Are you sure?" not in asked.text
    assert hidden_fields(asked.text) == {
        "user_id": "101",
        "action": "deactivate",
        "confirmed": "yes",
    }
    # The language switch of that page goes back to the agents' page, not the POST address.
    assert f'name="next" value="/o/{org.name}/admin/agents"' in asked.text


def test_replay_leaves_call_events_and_warnings_out(
    shared_server: ServerProcess, shared_engine: Engine, root_admin: WebUser
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    set_status(shared_server.base_url, org.code, "101", "sip1", 1)
    with shared_engine.begin() as conn:
        oid = org_id(conn, org.name)
        agent_id = conn.execute(
            select(agents_table.c.id).where(
                agents_table.c.org_id == oid, agents_table.c.user_id == "101"
            )
        ).scalar_one()
        for n, what in enumerate(("started", "answered", "ended")):
            conn.execute(
                insert(history).values(
                    org_id=oid,
                    agent_id=agent_id,
                    user_id="101",
                    prev_extension="sip1",
                    new_extension="sip1",
                    prev_status=1,
                    new_status=1,
                    at_ms=now_ms() + n,
                    source="pbx",
                    policy=f"call:{what}",
                    kind=f"call.{what}",
                    call='{"id": "c1", "state": "Talking"}',
                )
            )
        conn.execute(  # a limit's warning, as the deadline runner writes it
            insert(history).values(
                org_id=oid,
                agent_id=agent_id,
                user_id="101",
                prev_extension="sip1",
                new_extension="sip1",
                prev_status=1,
                new_status=1,
                at_ms=now_ms() + 5,
                kind="agent.overdue",
                source="system",
                policy="limit:warn",
                due_ms=now_ms(),
            )
        )
    with signed_in(shared_server.base_url, root_admin) as client:
        page = client.get(
            f"/o/{org.name}/replay/events", params={"after": "0", "until": str(now_ms() + 1000)}
        ).json()
    assert [e["new"]["status"] for e in page["events"]] == [1]  # the login alone
