"""The databases' integer limits are written once, in ``domain/integers.py``: a test that
fails when one is typed again anywhere else in ``src/`` or ``bench/`` (as ``2**63 - 1``,
``9223372036854775807``, ``2**31`` or any such form)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOME = REPO / "src" / "agentstatus" / "domain" / "integers.py"
LIMITS = {2**31 - 1, 2**31, 2**63 - 1, 2**63}
"""The limits and their neighbours; negative forms are these under a unary minus."""
# Not a column's range: PostgreSQL's 32-bit transaction ids wrap around, and widening one
# to 64 bits is arithmetic modulo 2**32 (``_widen``, today in events/feed.py). Functions by
# name, wherever they live.
ALLOWED = {"_widen"}


def _retyped(tree: ast.AST) -> list[tuple[int, str | None]]:
    """(line, enclosing function) of every literal limit: a number, or ``2 ** 31``/``2**63``."""
    found: list[tuple[int, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if _is_limit(node):
            found.append((getattr(node, "lineno", 0), function))
            return
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, None)
    return found


def _is_limit(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value in LIMITS
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        base, exponent = node.left, node.right
        return (
            isinstance(base, ast.Constant)
            and base.value == 2
            and isinstance(exponent, ast.Constant)
            and exponent.value in (31, 63)
        )
    return False


def _sources() -> list[Path]:
    paths = sorted((REPO / "src").rglob("*.py")) + sorted((REPO / "bench").rglob("*.py"))
    return [p for p in paths if p != HOME]


def test_the_limits_are_typed_only_in_domain_integers() -> None:
    found = [
        (str(path.relative_to(REPO)), line, function)
        for path in _sources()
        for line, function in _retyped(ast.parse(path.read_text(), str(path)))
    ]
    retyped = [f"{path}:{line}" for path, line, function in found if function not in ALLOWED]
    assert not retyped, f"use INT32_MAX/INT64_MAX of agentstatus.domain.integers: {retyped}"
    # An exception that no longer matches anything is removed, not kept "just in case".
    assert {function for _, _, function in found} >= ALLOWED


@pytest.mark.parametrize(
    "source",
    [
        "LIMIT = 2**63 - 1",
        "x = 9223372036854775807",
        "le = 2 ** 31",
        "y = -(2**63)",
        "z = 2147483648",
    ],
)
def test_the_guard_sees_each_form(source: str) -> None:
    assert _retyped(ast.parse(source))


def test_the_guard_lets_other_powers_pass() -> None:
    assert not _retyped(ast.parse("MAX_MS = 2**62\nMIB = 2**20\nn = 2**32 - 2**30"))
