"""The headline: per task, the best static model against the best contextual model.

For each task, from the store's cells (dicts with ``embedder``, ``task``, ``status``,
``results``, ``selection``, ``embedder_info`` and optionally ``task_meta``):

- the best STATIC model: ``embedder_info.contextual`` False, preferring the word2vec/GloVe
  families over other non-contextual baselines (random vectors are a floor, not a rival);
- the best CONTEXTUAL model: ``contextual`` True;

each ranked by its :class:`~bench.tasks.base.Selection` value, i.e. the score of the layer
the task chose WITHOUT the test items (the criterion is shown; an oracle choice is flagged).
Their difference (contextual - static) is recomputed on the items both scored (intersection
of the selections' item ids), with a paired bootstrap CI and p-value
(:func:`bench.stats.paired_bootstrap_diff`). Tasks with no selection (descriptive tasks such
as ``geometry``) are listed with a note.

Examples
--------
>>> cells = [
...     {"key": "s::t#1", "slot": "s::t", "embedder": "s", "task": "t", "status": "ok", "results": [],
...      "embedder_info": {"family": "glove", "contextual": False},
...      "selection": {"layer": "emb", "criterion": "only layer", "value": 0.5, "ci_low": 0.4, "ci_high": 0.6,
...                    "n": 4, "split": "test", "oracle": False,
...                    "items": {"ids": list("abcd"), "pred": [1, 0, 1, 0], "metric": "accuracy"}}},
...     {"key": "c::t#1", "slot": "c::t", "embedder": "c", "task": "t", "status": "ok", "results": [],
...      "embedder_info": {"family": "bert", "contextual": True},
...      "selection": {"layer": "3", "criterion": "dev", "value": 1.0, "ci_low": 1.0, "ci_high": 1.0,
...                    "n": 4, "split": "test", "oracle": False,
...                    "items": {"ids": list("abcd"), "pred": [1, 1, 1, 1], "metric": "accuracy"}}}]
>>> from bench.cell import Cell, canonical_order
>>> row = headline([Cell.from_dict(c) for c in cells]).iloc[0]
>>> row["static_model"], row["contextual_model"], float(row["diff"]), int(row["n_paired"])
('s', 'c', 0.5, 4)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from bench.cell import Cell, canonical_order
from bench.stats import METRICS, paired_bootstrap_diff
from embeddings.base import STATIC_FAMILIES

__all__ = ["headline", "headline_rows", "render_headline", "STATIC_FAMILIES", "COLUMNS"]


COLUMNS = [
    "task",
    "metric",
    "static_model",
    "static_layer",
    "static_value",
    "static_ci_low",
    "static_ci_high",
    "static_n",
    "contextual_model",
    "contextual_layer",
    "contextual_value",
    "contextual_ci_low",
    "contextual_ci_high",
    "contextual_n",
    "criterion",
    "oracle",
    "n_paired",
    "static_on_paired",
    "contextual_on_paired",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "p",
    "note",
]


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _best(cells: list[Cell], higher: bool) -> Cell | None:
    scored = [c for c in cells if c.selection is not None and not math.isnan(c.selection.value)]
    if not scored:
        return None
    sign = 1.0 if higher else -1.0
    # best value; ties broken by embedder name for determinism
    return sorted(scored, key=lambda c: (-sign * c.selection.value, c.embedder))[0]  # type: ignore[union-attr]


def _is_static(cell: Cell) -> bool:
    return not cell.embedder_info.get("contextual", False)


def _paired(static: Cell, ctx: Cell, *, n_boot: int, seed: int) -> dict[str, Any]:
    a = ctx.selection.items if ctx.selection else None
    b = static.selection.items if static.selection else None
    if not a or not b:
        return {"note": "no per-item scores to pair"}
    if a.metric != b.metric:
        return {"note": f"item metrics differ ({a.metric} vs {b.metric})"}
    metric = METRICS[a.metric]
    pos_b = {i: k for k, i in enumerate(b.ids)}
    common = [(k, pos_b[i]) for k, i in enumerate(a.ids) if i in pos_b]
    if len(common) < 3:
        return {"n_paired": len(common), "note": "fewer than 3 items scored by both"}
    ia, ib = np.array([k for k, _ in common]), np.array([k for _, k in common])
    pa = np.array(a.pred, float)[ia]
    pb = np.array(b.pred, float)[ib]
    gold = np.array(a.gold, float)[ia] if a.gold else None
    d = paired_bootstrap_diff(metric, pa, pb, gold, n_boot=n_boot, seed=seed)
    g = gold if gold is not None else np.zeros(len(pa))
    return {
        "n_paired": len(common),
        "contextual_on_paired": metric(pa, g),
        "static_on_paired": metric(pb, g),
        "diff": d["diff"],
        "diff_ci_low": d["ci_low"],
        "diff_ci_high": d["ci_high"],
        "p": d["p"],
        "note": "",
    }


def headline(cells: list[Cell], *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per task: best static vs best contextual, with the paired difference.

    Parameters
    ----------
    cells : list of dict
        The store's cell records (failed cells are ignored).
    n_boot, seed : int
        Paired bootstrap replicates and seed.

    Returns
    -------
    pandas.DataFrame with columns :data:`COLUMNS`; ``diff`` is contextual minus static.
    """
    return pd.DataFrame(headline_rows(cells, n_boot=n_boot, seed=seed), columns=COLUMNS)


def headline_rows(cells: list[Cell], *, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """The rows of :func:`headline` as dicts (None where a value does not apply)."""
    # cells whose results declare protocol["comparable"] False ran a fallback protocol
    # (e.g. analogy over the dataset's words for a model without a vocabulary): left out
    ok = [c for c in cells if c.ok and all(r.protocol.get("comparable", True) for r in c.results)]
    _, tasks = canonical_order(ok)
    rows = []
    for t in tasks:
        tc = [c for c in ok if c.task == t]
        meta = next((c.task_meta for c in tc if c.task_meta), None) or {}
        higher = meta.get("higher_is_better", True)
        metric = meta.get("metric") or next((r.metric for c in tc for r in c.results), "")
        row: dict[str, Any] = {col: None for col in COLUMNS}
        row.update(task=t, metric=metric, note="")
        if not any(c.selection is not None for c in tc):
            row["note"] = "descriptive task: no layer selection, see layers.md"
            rows.append(row)
            continue
        statics = [c for c in tc if _is_static(c)]
        preferred = [c for c in statics if c.embedder_info.get("family") in STATIC_FAMILIES]
        s = _best(preferred or statics, higher)
        x = _best([c for c in tc if not _is_static(c)], higher)
        for prefix, cell in (("static", s), ("contextual", x)):
            if cell is None:
                continue
            sel = cell.selection
            assert sel is not None
            row.update(
                {
                    f"{prefix}_model": cell.embedder,
                    f"{prefix}_layer": sel.layer,
                    f"{prefix}_value": _num(sel.value),
                    f"{prefix}_ci_low": _num(sel.ci_low),
                    f"{prefix}_ci_high": _num(sel.ci_high),
                    f"{prefix}_n": sel.n,
                }
            )
        if s is None or x is None:
            row["note"] = "no static model" if s is None else "no contextual model"
        else:
            assert x.selection is not None and s.selection is not None
            row["criterion"] = x.selection.criterion
            row["oracle"] = bool(x.selection.oracle or s.selection.oracle)
            row.update(_paired(s, x, n_boot=n_boot, seed=seed))
        rows.append(row)
    return rows


def _f(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def _n(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return str(int(x))


def _p(p: Any, n_boot: int) -> str:
    """A bootstrap p-value; below the resolution 1/n_boot it is shown as an upper bound."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"< {1 / n_boot:g}" if p < 1 / n_boot else f"{p:.3f}"


def _model(r: dict[str, Any], prefix: str) -> str:
    m = r[f"{prefix}_model"]
    return f"{m} ({r[f'{prefix}_layer']})" if m else "–"


def _val(r: dict[str, Any], prefix: str) -> str:
    if not r[f"{prefix}_model"]:
        return "–"
    low, high = _f(r[f"{prefix}_ci_low"], 2), _f(r[f"{prefix}_ci_high"], 2)
    return f"{_f(r[f'{prefix}_value'])} [{low}, {high}]"


def render_headline(cells: list[Cell], *, n_boot: int = 1000, seed: int = 0) -> str:
    """The headline table as Markdown (results/headline.md)."""
    lines = [
        "# Headline: best static vs best contextual model, per task\n",
        "Each model is represented by the layer its task selected WITHOUT the test items (criterion "
        "column; *oracle* marks a best-on-test choice). Values are on each model's held-out items; "
        "the difference (contextual - static) is recomputed on the items BOTH scored, with a paired "
        "bootstrap 95% CI and a two-sided bootstrap p-value. Geometry is descriptive and has no row "
        "value.\n",
        "| task | metric | best static (layer) | value [95% CI] | best contextual (layer) | value [95% CI] | "
        "selected by | paired n | diff (ctx - static) [95% CI] | p |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in headline_rows(cells, n_boot=n_boot, seed=seed):
        crit = (r["criterion"] or r["note"] or "").replace("|", "/")
        if r.get("oracle"):
            crit += " (oracle)"
        diff = (
            f"{_f(r['diff'])} [{_f(r['diff_ci_low'])}, {_f(r['diff_ci_high'])}]"
            if r["diff"] is not None and not (isinstance(r["diff"], float) and math.isnan(r["diff"]))
            else "–"
        )
        lines.append(
            f"| {r['task']} | {r['metric']} | {_model(r, 'static')} | {_val(r, 'static')} | "
            f"{_model(r, 'contextual')} | "
            f"{_val(r, 'contextual')} | {crit} | {_n(r['n_paired'])} | "
            f"{diff} | {_p(r['p'], n_boot)} |"
        )
    return "\n".join(lines) + "\n"
