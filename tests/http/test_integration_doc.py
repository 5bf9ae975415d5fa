"""The integration guide's server code for the panel, run as written against a real
server: the link it returns opens that agent's panel."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from sqlalchemy import Engine

from agentstatus.service.tokens import Role, create_token
from tests.support.factories import make_org
from tests.support.server import ServerProcess

GUIDE = Path(__file__).parents[2] / "docs" / "integration.md"
MARKER = "tests/http/test_integration_doc.py"


def _server_block() -> str:
    text = GUIDE.read_text()
    after = text[text.index(MARKER) :]
    found = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert found, "the guide's panel block is gone"
    return found.group(1)


def test_the_guides_panel_code_is_under_ten_lines_and_works(
    shared_server: ServerProcess, shared_engine: Engine
) -> None:
    code = _server_block()
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    org = make_org(shared_engine)
    namespace = {
        "AGENTSTATUS_URL": shared_server.base_url,
        "ORG": org.name,
        "ADMIN_TOKEN": create_token(shared_engine, Role.ADMIN, org.name).token,
    }
    exec(compile(code, str(GUIDE), "exec"), namespace)  # noqa: S102 - our own guide's code
    url = namespace["panel_link"]("102")  # type: ignore[operator]
    assert isinstance(url, str)
    assert url.startswith(f"{shared_server.base_url}/panel/{org.name}#asp_")
    assert org.code not in url
    token = url.partition("#")[2]
    state = httpx.get(
        f"{shared_server.base_url}/panel/{org.name}/api/state",
        headers={"authorization": f"Bearer {token}"},
    )
    assert state.json()["agent"] == {"user_id": "102", "name": "Agent 2"}
