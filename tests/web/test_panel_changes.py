"""The panel's script knows which events change an agent's presence: the same kinds as
the server (a missed call, a warning and a call's events change nothing)."""

from __future__ import annotations

import re
from pathlib import Path

import agentstatus.web.panel
from agentstatus.domain.event_types import CHANGE_KINDS

PANEL_JS = Path(agentstatus.web.panel.__file__).parent / "assets" / "panel.js"


def test_the_panel_takes_the_servers_change_kinds_for_changes() -> None:
    found = re.search(r"const CHANGES = new Set\(\[(.*?)\]\);", PANEL_JS.read_text(), re.S)
    assert found is not None
    assert set(re.findall(r'"([^"]+)"', found.group(1))) == set(CHANGE_KINDS)
