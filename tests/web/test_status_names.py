"""The default catalogue's names are shown in the reader's language on every page (the
board, the agent's day, the report, the administration, the panel) until the
organisation renames a status; the API keeps answering the stored names."""

from __future__ import annotations

import json
import re

import httpx
from sqlalchemy import Engine

from agentstatus.service import panel_links, statuses
from agentstatus.service.tokens import Role, create_token
from agentstatus.web.status_names import display_name
from tests.support.factories import make_org
from tests.support.server import ServerProcess
from tests.support.web import SAME_ORIGIN, WebUser, signed_in, text_of
from tests.support.wire import set_status

HEBREW = {
    1: "לוגין",
    2: "לוג אאוט",
    3: "הפסקת צהריים",
    5: "זמן אדמיניסטרטיבי",
    7: "הפסקה פרטית",
    9: "אחר",
    11: "הדרכה",
    12: "פגישה מחלקתית",
    13: "תקציר",
}


def test_one_place_decides_the_name() -> None:
    for sid, hebrew in HEBREW.items():
        stored = {s.id: s.name for s in statuses_of_default()}[sid]
        assert display_name(sid, stored, "he") == hebrew
        assert display_name(sid, stored, "en") == stored
    assert display_name(3, "Pranzo", "he") == "Pranzo"  # renamed: the organisation's word
    assert display_name(5, "Lunch break", "he") == "Lunch break"  # another id's default name


def statuses_of_default() -> list[statuses.Status]:
    from agentstatus.domain.catalogue import DEFAULT_CATALOGUE

    return [statuses.Status(d.id, d.name, d.color, d.available, True) for d in DEFAULT_CATALOGUE]


def test_pages_show_the_readers_names_and_the_api_the_stored_ones(
    shared_server: ServerProcess, shared_engine: Engine, root_admin: WebUser
) -> None:
    org = make_org(shared_engine, agent_count=1, extension_count=1)
    statuses.update_status(shared_engine, org.name, 9, name="Back office")
    set_status(shared_server.base_url, org.code, "101", "sip1", 1)
    set_status(shared_server.base_url, org.code, "101", "sip1", 3)
    base = f"/o/{org.name}"
    with signed_in(shared_server.base_url, root_admin) as client:
        english = text_of(client.get(f"{base}/").text)
        client.post("/language", data={"language": "he", "next": "/"}, headers=SAME_ORIGIN)
        board = client.get(f"{base}/")
        day = text_of(client.get(f"{base}/agents/101").text)
        report = text_of(client.get(f"{base}/reports").text)
        admin = text_of(client.get(f"{base}/admin/statuses").text)
    assert "Lunch break" in english
    shown = text_of(board.text)
    for sid, hebrew in HEBREW.items():
        if sid != 9:
            assert hebrew in shown, hebrew
    assert "Lunch break" not in shown
    assert "Back office" in shown  # renamed: as the organisation wrote it
    assert HEBREW[9] not in shown
    # The board's script gets the same names (its live rows and replay use them).
    catalogue = re.search(
        r'<script type="application/json" id="catalogue">(.*?)</script>', board.text
    )
    assert catalogue is not None
    assert {s["id"]: s["name"] for s in json.loads(catalogue.group(1))}[3] == HEBREW[3]
    assert HEBREW[3] in day
    assert "Lunch break" not in day
    assert HEBREW[3] in report
    assert "Lunch break" not in report
    assert HEBREW[3] in admin

    token = create_token(shared_engine, Role.ADMIN, org.name).token
    api = httpx.get(
        f"{shared_server.base_url}/api/v1/orgs/{org.name}/statuses",
        headers={"authorization": f"Bearer {token}", "accept-language": "he"},
    )
    assert api.status_code == 200
    names = (
        {s["id"]: s["name"] for s in api.json()["statuses"]}
        if isinstance(api.json(), dict)
        else {s["id"]: s["name"] for s in api.json()}
    )
    assert names[3] == "Lunch break"
    assert names[9] == "Back office"

    link = panel_links.create_link(shared_engine, org.name, "101", None)
    state = httpx.get(
        f"{shared_server.base_url}/panel/{org.name}/api/state",
        params={"lang": "he"},
        headers={"authorization": f"Bearer {link.token}"},
    ).json()
    panel_names = {s["id"]: s["name"] for s in state["statuses"]}
    assert panel_names[3] == HEBREW[3]
    assert panel_names[9] == "Back office"
