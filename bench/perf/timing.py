"""Interleaved timing: every side of a comparison once per repeat, in alternating order.

A background load that comes and goes then hits all sides alike, and a ratio is taken per
repeat (the sides saw the same sentences and about the same machine), then summarised by
its median. A side that fails keeps its error and is not run again; the others go on.

Examples
--------
>>> t = interleave({"a": lambda r: None, "b": lambda r: 0.5}, repeats=2)
>>> t["b"].seconds, t["a"].ok
([0.5, 0.5], True)
>>> ratio_per_repeat(t["b"], Side("x", [0.25, 1.0]))
[2.0, 0.5]
"""

from __future__ import annotations

import gc
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class Side:
    """Seconds per repeat of one side of a comparison (or the error that stopped it)."""

    name: str
    seconds: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)


def interleave(sides: dict[str, Callable[[int], float | None]], repeats: int) -> dict[str, Side]:
    """Run each side once per repeat, order reversed every other repeat (A B C, C B A, ...).

    A side is called with the repeat index; if it returns a number, that is its time (for a
    side timed elsewhere, e.g. inside a peer process), else the wall time of the call.
    """
    out = {name: Side(name) for name in sides}
    names = list(sides)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            side = out[name]
            if side.error is not None:
                continue
            gc.collect()
            t0 = time.perf_counter()
            try:
                reported = sides[name](r)
            except Exception as e:  # one side failing must not stop the others
                logger.warning("%s failed: %s", name, e, exc_info=True)
                side.error = f"{type(e).__name__}: {str(e)[:300]}"
                continue
            elapsed = time.perf_counter() - t0
            side.seconds.append(float(reported) if reported is not None else elapsed)
    return out


def ratio_per_repeat(baseline: Side, measured: Side) -> list[float]:
    """Throughput ratio measured/baseline per repeat (= baseline seconds / measured seconds)."""
    return [b / m for b, m in zip(baseline.seconds, measured.seconds) if m > 0]


def median_ratio(baseline: Side, measured: Side) -> float | None:
    """The median of the per-repeat ratios, or None when a side has no time."""
    if not (baseline.ok and measured.ok):
        return None
    ratios = ratio_per_repeat(baseline, measured)
    return statistics.median(ratios) if ratios else None


def throughput_rows(sides: dict[str, Side], words: list[int], measured: str) -> list[list[str]]:
    """Table rows: side, words/s (median), seconds per repeat, and measured's ratio to it.

    ``words`` are the words per repeat (the same for every side); the ratio column is the
    median over repeats of ``side seconds / measured seconds`` with its range.
    """
    rows = []
    m = sides[measured]
    for name, side in sides.items():
        if not side.ok:
            rows.append([name, f"failed: {side.error}", "", ""])
            continue
        wps = statistics.median(w / s for w, s in zip(words, side.seconds))
        secs = f"{side.median:.2f} ({side.best:.2f}–{max(side.seconds):.2f})"
        if name == measured:
            ratio = "—"
        elif m.ok:
            rs = ratio_per_repeat(side, m)
            ratio = f"{statistics.median(rs):.2f} ({min(rs):.2f}–{max(rs):.2f})"
        else:
            ratio = "n/a"
        rows.append([name, f"{wps:,.0f}", secs, ratio])
    return rows


THROUGHPUT_HEADER = ["side", "words/s (median)", "s per repeat: median (min–max)", "measured ÷ side: median (range)"]
