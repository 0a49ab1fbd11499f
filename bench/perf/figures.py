"""Figures (a ratio, its goal, met or not) and sections: what perf.md is made of.

Examples
--------
>>> f = Figure("embed() vs raw forward", "minilm-l6", 0.93, Goal(">=", 0.9, "x"))
>>> f.met, f.goal.text
(True, '>= 0.9x')
>>> Figure("warm / cold", "suite", None, Goal("<=", 0.05), error="ValueError: boom").cells()[2:]
['failed: ValueError: boom', '<= 0.05', '—']
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bench.report import md_table

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Goal:
    """A threshold a ratio must reach (``>=``) or stay under (``<=``)."""

    op: str
    value: float
    unit: str = ""

    def __post_init__(self) -> None:
        if self.op not in (">=", "<="):
            raise ValueError(f"goal operator must be '>=' or '<=', got {self.op!r}")

    @property
    def text(self) -> str:
        return f"{self.op} {self.value:g}{self.unit}"

    def met(self, value: float) -> bool:
        return value >= self.value if self.op == ">=" else value <= self.value


@dataclass(frozen=True)
class Figure:
    """One headline number: a ratio against a baseline measured in the same run."""

    comparison: str
    model: str
    value: float | None
    goal: Goal | None = None
    detail: str = ""
    error: str | None = None
    unit: str | None = None  # default: the goal's unit

    @property
    def met(self) -> bool | None:
        if self.value is None or self.goal is None:
            return None
        return self.goal.met(self.value)

    def cells(self) -> list[str]:
        if self.error is not None or self.value is None:
            value = f"failed: {self.error}" if self.error else "—"
        else:
            unit = self.unit if self.unit is not None else (self.goal.unit if self.goal else "")
            value = f"{self.value:#.3g}{unit}"
        met = {True: "**yes**", False: "**no**", None: "—"}[self.met]
        return [self.comparison, self.model, value, self.goal.text if self.goal else "—", met]


@dataclass
class Section:
    """A part of perf.md: a title, what was measured and how, a table, the headline figures."""

    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    others: float | None = None  # other processes' share of the CPU while the section ran

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.lines.extend(["", md_table(header, rows), ""])

    def guard(self, label: str, comparisons: list[tuple[str, Goal | None]], fn: Callable[[], T]) -> T | None:
        """Run one model's measurement; if it raises, its rows say so and the section goes on."""
        n_figures, n_lines = len(self.figures), len(self.lines)
        try:
            return fn()
        except Exception as e:  # one model failing must not hide the others
            logger.warning("%s failed", label, exc_info=True)
            err = f"{type(e).__name__}: {str(e)[:200]}"
            del self.figures[n_figures:], self.lines[n_lines:]
            self.figures += [Figure(c, label, None, g, error=err) for c, g in comparisons]
            self.add(f"### {label}", "", f"Failed: {err}", "")
            return None

    def markdown(self) -> str:
        body = "\n".join(self.lines).strip()
        others = "" if self.others is None else f"; other processes used {self.others:.0%} of the CPU meanwhile"
        return f"## {self.title}\n\n{body}\n\n_({self.seconds:.0f} s{others})_\n"


def figures_table(figures: list[Figure]) -> str:
    """The summary table: every headline ratio with its goal and whether it is met."""
    return md_table(["comparison", "model", "ratio", "goal", "met"], [f.cells() for f in figures])
