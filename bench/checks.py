"""Targets as data: each check names a figure of the results and the bound it must meet,
written once, so the verdicts (``MET``/``NOT MET``) and any table that shows the figure
beside its bound read the same threshold."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

R = TypeVar("R")

Op = Literal["<", "<=", ">="]
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Check(Generic[R]):
    """``figure(results) op limit``; a figure of None means the part did not run (no
    verdict), and a figure that could not be measured should be ``math.inf`` (or ``-inf``
    for a ``>=`` bound), which fails."""

    name: str
    figure: Callable[[R], float | None]
    op: Op
    limit: float
    unit: str = ""
    describe: Callable[[R], str] | None = None
    """The name for these results, when it depends on them (a size of the run)."""

    def title(self, results: R) -> str:
        return self.name if self.describe is None else self.describe(results)

    def value(self, results: R) -> float | None:
        return self.figure(results)

    def met(self, value: float) -> bool:
        return not math.isnan(value) and _OPS[self.op](value, self.limit)

    def bound(self) -> str:
        return f"{self.op} {self.limit:g}{' ' + self.unit if self.unit else ''}"


def verdicts(checks: Iterable[Check[R]], results: R) -> list[tuple[str, bool]]:
    """(name, met) of every check whose part ran, in the order of ``checks``."""
    out = []
    for check in checks:
        value = check.value(results)
        if value is not None:
            out.append((check.title(results), check.met(value)))
    return out
