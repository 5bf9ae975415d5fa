"""The layers of ``agentstatus``, read from the source: no package cycle, no arrow upward,
and the database (``sqlalchemy``, the schema's tables, SQL text) only in ``storage``.

The packages, from the ground up, are ``LAYERS``; a package imports only itself and the
packages below it. ``client`` is shipped to callers apart from the server: it imports only
``wire``. The composition root (``app``, ``settings``, the ``__main__`` entry point) may
import anything; a package may import a root module only when that module stands no higher
than the package itself (a root module stands as high as the highest package it imports),
so ``cli`` may build the app and ``http`` may read the settings, and no cycle runs through
them. ``agentstatus/__init__.py`` and ``package_files`` import nothing of ``agentstatus``:
every package but ``client`` may use them.

Every import counts: at module level, inside a function, under ``if TYPE_CHECKING``, relative
or absolute, and ``importlib.import_module`` of a literal name.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import agentstatus

SOURCE = Path(agentstatus.__file__).parent
TOP = "agentstatus"
LAYERS = ("wire", "domain", "storage", "outbound", "service", "events", "pbx", "http", "web", "cli")
CLIENT = "client"
CLIENT_MAY_IMPORT = frozenset({CLIENT, "wire"})
ROOT = frozenset({"app", "settings", "__main__"})
SHARED = frozenset({"__init__", "package_files"})
STORAGE = "storage"

# SQL statements as they are written in code: upper-case keywords, so prose is not caught.
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\S+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|ALTER|DROP)\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|VIEW|TRIGGER|SEQUENCE)\b"
    r"|\bON\s+CONFLICT\b|\bpg_notify\s*\(|\bLISTEN\s+\w|\bNOTIFY\s+\w"
)
SQL_CALLS = frozenset({"text", "exec_driver_sql"})


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement's arrow: ``source`` (a module) imports ``target`` (a module)."""

    path: Path
    line: int
    source: str
    target: str

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root.parent)}:{self.line}"


def module_name(path: Path, root: Path) -> str:
    """The dotted name of the module at ``path`` in the package at ``root``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit(module: str) -> str:
    """The package (or top-level module) a module belongs to, for the layering:
    ``agentstatus.pbx.link`` -> ``pbx``; ``agentstatus.app`` -> ``app``;
    ``agentstatus`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module name a ``from … import`` names (relative ones resolved)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    # A package's ``.`` is the package itself; a module's is the package holding it.
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _targets(node: ast.AST, module: str, is_package: bool, root: Path) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = _resolve(node, module, is_package)
        for alias in node.names:
            # ``from agentstatus import pbx`` imports the package pbx, not agentstatus.
            sub = f"{base}.{alias.name}"
            inside = root.parent / Path(*sub.split("."))
            yield sub if inside.is_dir() or inside.with_suffix(".py").exists() else base
    elif (
        isinstance(node, ast.Call)
        and _called(node) in {"import_module", "__import__"}
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        yield node.args[0].value


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    """Every import in the module at ``path``, wherever in the module it is written."""
    module = module_name(path, root)
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        # ``from a.b import c, d`` is one arrow to a.b, not two.
        for target in dict.fromkeys(_targets(node, module, is_package, root)):
            yield Import(path, getattr(node, "lineno", 0), module, target)


def all_imports(root: Path) -> list[Import]:
    return [i for path in sorted(root.rglob("*.py")) for i in imports_of(path, root)]


def _called(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def internal(imports: list[Import], top: str) -> list[Import]:
    """The arrows between two different units of the package ``top``."""
    return [
        i
        for i in imports
        if (i.target == top or i.target.startswith(f"{top}.")) and unit(i.source) != unit(i.target)
    ]


def heights(arrows: list[Import]) -> dict[str, int]:
    """Each unit's height: its index in LAYERS; a root module's is that of the highest
    package it reaches (through other root modules too); client stands on wire; a shared
    module stands below everything."""
    height = {name: index for index, name in enumerate(LAYERS)}
    height[CLIENT] = LAYERS.index("wire")
    height |= dict.fromkeys(SHARED, -1)
    for _ in ROOT:  # a root module may import another: settle in as many rounds
        for name in ROOT:
            reached = [height.get(unit(a.target), -1) for a in arrows if unit(a.source) == name]
            height[name] = max(reached, default=-1)
    return height


def upward(arrows: list[Import]) -> list[Import]:
    """The arrows a unit may not draw: to a higher unit, or for client to anything but
    wire, or from a shared module to anything."""
    height = heights(arrows)
    wrong = []
    for a in arrows:
        source, target = unit(a.source), unit(a.target)
        if source in ROOT:
            continue
        if source in SHARED:
            wrong.append(a)
        elif source == CLIENT:
            if target not in CLIENT_MAY_IMPORT:
                wrong.append(a)
        elif source not in height or target not in height or height[target] > height[source]:
            wrong.append(a)
    return wrong


def cycles(arrows: list[Import]) -> list[list[Import]]:
    """The arrows inside each strongly connected set of units (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for a in arrows:
        graph.setdefault(unit(a.source), set()).add(unit(a.target))
        graph.setdefault(unit(a.target), set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for after in sorted(graph[node]):
            if after not in index:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in stack:
                low[node] = min(low[node], index[after])
        if low[node] == index[node]:
            members = set()
            while True:
                member = stack.pop()
                members.add(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(members)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [
        [a for a in arrows if unit(a.source) in members and unit(a.target) in members]
        for members in found
    ]


def database_imports(imports: list[Import], top: str) -> list[Import]:
    """Imports of the SQL toolkit, or of the tables statements are built on, outside
    storage."""
    database = ("sqlalchemy", f"{top}.storage.schema")
    return [
        i
        for i in imports
        if not _in_storage(i.source)
        and any(i.target == m or i.target.startswith(f"{m}.") for m in database)
    ]


def _in_storage(module: str) -> bool:
    return unit(module) == STORAGE


def _not_alone(tree: ast.AST) -> set[int]:
    """The ids of the string constants not to read on their own: those that stand alone as
    statements (docstrings, and the attribute docstrings under a field: prose about SQL is
    not SQL), and the parts of an f-string (read whole)."""
    prose = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    parts = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    return prose | parts


def sql_text(path: Path) -> Iterator[tuple[int, str]]:
    """Where the module at ``path`` holds SQL: a string that reads as a statement (the
    literal parts of an f-string joined) or a ``text(…)`` / ``exec_driver_sql(…)`` call."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _not_alone(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in skip and SQL.search(node.value):
                yield node.lineno, _excerpt(node.value)
        elif isinstance(node, ast.JoinedStr):
            literal = " ".join(
                v.value
                for v in node.values
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if SQL.search(literal):
                yield node.lineno, _excerpt(literal)
        elif isinstance(node, ast.Call) and _called(node) in SQL_CALLS:
            yield node.lineno, f"{_called(node)}(…)"


def _excerpt(text: str) -> str:
    return " ".join(text.split())[:60]


def sql_outside_storage(root: Path) -> list[str]:
    return [
        f"{path.relative_to(root.parent)}:{line}: {what}"
        for path in sorted(root.rglob("*.py"))
        if not _in_storage(module_name(path, root))
        for line, what in sorted(sql_text(path))
    ]


def _listed(arrows: list[Import], root: Path) -> str:
    return "\n".join(
        f"  {a.where(root)}: {unit(a.source)} -> {unit(a.target)} ({a.source} imports {a.target})"
        for a in arrows
    )


# -- the checks, on agentstatus


@pytest.fixture(scope="module")
def arrows() -> list[Import]:
    return internal(all_imports(SOURCE), TOP)


def test_every_package_is_placed(arrows: list[Import]) -> None:
    """A new package must be given its place in the layers before it is used."""
    placed = set(LAYERS) | ROOT | SHARED | {CLIENT}
    found = {unit(module_name(p, SOURCE)) for p in SOURCE.rglob("*.py")}
    assert found <= placed, f"not placed in LAYERS: {sorted(found - placed)}"


def test_no_package_cycle(arrows: list[Import]) -> None:
    found = cycles(arrows)
    assert not found, (
        "package cycles (the arrows within each; test_no_import_upward names the upward ones):\n"
        + "\n\n".join(_listed(c, SOURCE) for c in found)
    )


def test_no_import_upward(arrows: list[Import]) -> None:
    wrong = upward(arrows)
    assert not wrong, (
        f"imports against the layers {' < '.join(LAYERS)} (client: wire only):\n"
        + _listed(wrong, SOURCE)
    )


def test_no_database_import_outside_storage() -> None:
    wrong = database_imports(all_imports(SOURCE), TOP)
    assert not wrong, "the database is storage's alone:\n" + "\n".join(
        f"  {i.where(SOURCE)}: {i.source} imports {i.target}" for i in wrong
    )


def test_no_sql_text_outside_storage() -> None:
    found = sql_outside_storage(SOURCE)
    assert not found, "SQL outside storage:\n" + "\n".join(f"  {f}" for f in found)


# -- the checks check: a small package written for them


def _package(root: Path, files: dict[str, str]) -> Path:
    top = root / "pkg"
    for name, text in files.items():
        path = top / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            init = root / parent / "__init__.py"
            if parent != Path() and not init.exists():
                init.write_text("")
        path.write_text(text)
    return top


def test_every_kind_of_import_is_read(tmp_path: Path) -> None:
    top = _package(
        tmp_path,
        {
            "wire/a.py": "",
            "domain/b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from pkg.service import x\n"
                "def f() -> None:\n"
                "    import pkg.http.y\n"
                "    from ..web import z\n"
                "    from . import c\n"
                "    from pkg import cli\n"
                "    importlib.import_module('pkg.events.w')\n"
            ),
            "domain/c.py": "",
            "service/x.py": "",
            "http/y.py": "",
            "web/z.py": "",
            "events/w.py": "",
            "cli/__init__.py": "from .. import wire\n",
        },
    )
    found = {(unit(i.source), unit(i.target), i.line) for i in internal(all_imports(top), "pkg")}
    assert found == {
        ("domain", "service", 3),
        ("domain", "http", 5),
        ("domain", "web", 6),
        ("domain", "cli", 8),
        ("domain", "events", 9),
        ("cli", "wire", 1),
    }
    wrong = upward(internal(all_imports(top), "pkg"))
    assert {(unit(a.source), unit(a.target)) for a in wrong} == {
        ("domain", t) for t in ("service", "http", "web", "cli", "events")
    }


def test_a_cycle_is_found_with_its_arrows(tmp_path: Path) -> None:
    top = _package(
        tmp_path,
        {
            "http/a.py": "from pkg.web.b import B\n",
            "web/b.py": "B = 1\n",
            "web/c.py": "\n\nfrom pkg.http import a\n",
            "wire/d.py": "",
        },
    )
    (found,) = cycles(internal(all_imports(top), "pkg"))
    assert {(a.where(top), unit(a.source), unit(a.target)) for a in found} == {
        ("pkg/http/a.py:1", "http", "web"),
        ("pkg/web/c.py:3", "web", "http"),
    }


def test_the_root_stands_as_high_as_what_it_imports(tmp_path: Path) -> None:
    top = _package(
        tmp_path,
        {
            "settings.py": "from pkg.outbound import p\n",
            "app.py": "from pkg.web import w\nfrom pkg import settings\n",
            "outbound/p.py": "",
            "web/w.py": "",
            "http/h.py": "from pkg.settings import S\n",
            "storage/s.py": "from pkg.settings import S\n",
            "cli/c.py": "from pkg.app import create\n",
            "service/v.py": "from pkg.app import create\n",
            "client/k.py": "from pkg.wire import x\nfrom pkg.domain import y\n",
            "wire/x.py": "",
            "domain/y.py": "",
        },
    )
    wrong = upward(internal(all_imports(top), "pkg"))
    assert {(unit(a.source), unit(a.target)) for a in wrong} == {
        ("storage", "settings"),
        ("service", "app"),
        ("client", "domain"),
    }


def test_the_database_outside_storage_is_found(tmp_path: Path) -> None:
    top = _package(
        tmp_path,
        {
            "storage/ok.py": ("import sqlalchemy\nfrom .schema import t\nQ = 'SELECT a FROM t'\n"),
            "storage/schema.py": "",
            "service/bad.py": (
                '"""Reads ``SELECT … FROM`` in prose: not SQL."""\n'
                "from sqlalchemy import text\n"
                "from pkg.storage.schema import agents\n"
                "def f(conn, t):\n"
                "    conn.execute(text('x'))\n"
                "    q = f'DELETE FROM {t} WHERE id = 1'\n"
                "    return 'UPDATE agents SET name = 1', 'insert into nothing'\n"
            ),
        },
    )
    wrong = [(i.where(top), i.target) for i in database_imports(all_imports(top), "pkg")]
    assert wrong == [
        ("pkg/service/bad.py:2", "sqlalchemy"),
        ("pkg/service/bad.py:3", "pkg.storage.schema"),
    ]
    assert [f.split(": ")[0] for f in sql_outside_storage(top)] == [
        "pkg/service/bad.py:5",
        "pkg/service/bad.py:6",
        "pkg/service/bad.py:7",
    ]
