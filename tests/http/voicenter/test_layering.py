"""The Voicenter endpoints parse and render only: their SQL is the service layer's
(``agentstatus.service.voicenter``), so no module here reaches for the database itself."""

from __future__ import annotations

import ast
from pathlib import Path

import agentstatus.http.voicenter

PACKAGE = Path(agentstatus.http.voicenter.__file__).parent
DATABASE = ("sqlalchemy", "psycopg", "sqlite3", "agentstatus.storage")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
    return names


def test_no_voicenter_endpoint_module_imports_the_database() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert {p.stem for p in modules} >= {"pipeline", "set_status", "get_statuses_list"}
    for path in modules:
        reached = {name for name in imported(path) if name.startswith(DATABASE)}
        assert not reached, (path.name, sorted(reached))
