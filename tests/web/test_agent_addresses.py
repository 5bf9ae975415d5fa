"""Agents whose user ids hold ``/``, ``..`` or ``.`` have pages too: the board links to
each one's day, the link works, and the supervisor's Log out reaches the right agent
(``web/agent_paths.py``)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote

import pytest
from sqlalchemy import Engine

from agentstatus.service import agents, presence
from agentstatus.web.agent_paths import agent_segment, user_id_of
from tests.support.factories import make_org
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, signed_in
from tests.support.wire import set_status

ODD = ["a/b", "..", ".", "a/../b", "../x", "~7e", "~", "x?#%"]


@pytest.mark.parametrize("user_id", [*ODD, "plain", "7"])
def test_a_segment_reads_back_as_the_id(user_id: str) -> None:
    segment = agent_segment(user_id)
    assert segment not in (".", "..")
    assert "/" not in segment
    assert user_id_of(unquote(segment)) == user_id  # as the server decodes the path


def test_odd_user_ids_have_working_pages(
    shared_server: ServerProcess, shared_engine: Engine, root_admin: WebUser
) -> None:
    org = make_org(shared_engine, agent_count=0, extension_count=len(ODD))
    for user_id, sip in zip(ODD, org.extensions, strict=True):
        agents.add_agent(shared_engine, org.name, user_id, f"Agent {user_id}")
        set_status(shared_server.base_url, org.code, user_id, sip, 1)
    with signed_in(shared_server.base_url, root_admin) as client:
        board = client.get(f"/o/{org.name}/")
        assert board.status_code == 200
        links = {
            unescape(name): unescape(href)
            for href, name in re.findall(
                r'<td class="name"><a href="([^"]+)">Agent ([^<]*)</a>', board.text
            )
        }
        assert set(links) == set(ODD)
        for user_id, href in links.items():
            day = client.get(href)
            assert day.status_code == 200, (user_id, href)
            assert f'<span class="org-name">{escape_html(user_id)}</span>' in day.text
        for user_id in ("a/b", ".."):
            out = client.post(
                f"{links[user_id]}/logout", headers={**SAME_ORIGIN, "accept": "application/json"}
            )
            assert out.status_code == 200, out.text
            assert out.json() == {"logged_out": True}
        assert client.get(f"/o/{org.name}/agents/~zz").status_code == 404
    logged_in = {
        p.user_id for p in presence.list_presence(shared_engine, org.name) if p.status == 1
    }
    assert logged_in == set(ODD) - {"a/b", ".."}


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
