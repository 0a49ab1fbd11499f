"""results/caps.md: how far each number of the capped default suite is from the full protocol.

The default suite caps the costly tasks (and samples them for a slow model) to fit its time
budget; ``suites/full.yaml`` runs the full protocols into ``results/full/``. When both stores
exist, this table puts the two numbers of every (model, task) both ran side by side, with
the difference and whether the full number lies inside the capped number's CI.
"""

from __future__ import annotations

import math

from bench.cell import Cell, canonical_order
from bench.tables import md_table

__all__ = ["render_caps"]


def _f(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.3f}"


def render_caps(default: list[Cell], full: list[Cell]) -> str:
    """Markdown comparing the selected-layer score of each (model, task) in both stores."""
    a = {(c.embedder, c.task): c for c in default if c.ok and c.selection is not None}
    b = {(c.embedder, c.task): c for c in full if c.ok and c.selection is not None}
    both = [k for k in a if k in b]
    embs, tasks = canonical_order([a[k] for k in both])
    rows, deltas = [], []
    for t in tasks:
        for e in embs:
            if (e, t) not in a or (e, t) not in b:
                continue
            sa, sb = a[(e, t)].selection, b[(e, t)].selection
            assert sa is not None and sb is not None
            d = sb.value - sa.value
            inside = sa.ci_low <= sb.value <= sa.ci_high if not math.isnan(sa.ci_low) else False
            deltas.append(abs(d))
            rows.append([t, e, f"{_f(sa.value)} [{_f(sa.ci_low)}, {_f(sa.ci_high)}] ({sa.layer})",
                         f"{_f(sb.value)} ({sb.layer})", f"{d:+.3f}", "yes" if inside else "no"])
    head = ("# Capped default vs full protocol\n\nThe default suite's number (selected layer, 95% CI) beside the "
            "full protocol's (`ctxbench run full --out results/full`), for every model and task both ran. "
            "Measured once; the caps are in each task's protocol and in the tables' n/total.\n\n")
    if not rows:
        return head + "No model and task ran in both stores.\n"
    summary = (f"\n\nOver {len(rows)} pairs: median |full - capped| {_f(sorted(deltas)[len(deltas) // 2])}, "
               f"largest {_f(max(deltas))}; the full number lies inside the capped number's CI in "
               f"{sum(r[-1] == 'yes' for r in rows)} of {len(rows)}.\n")
    return head + md_table(["task", "model", "default (capped)", "full", "full - default", "inside CI"],
                           rows) + summary
