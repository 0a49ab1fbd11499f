"""The headline: per task, the static side against the contextual side, on the items both scored.

Sides (:mod:`bench.models`): static models AND bag-of-context (``bow:``) models, which are
built from static vectors, form the STATIC side; the rest are CONTEXTUAL; floors (random
vectors) are shown but never represent a side.

Per task, each side is represented by ONE model, chosen WITHOUT test data: the model whose
selected layer scored best on the data the layer was chosen on (``Selection.dev_value``:
the dev half of the pairs, the dev split, the dev words), among the side's models that scored
at least 90% as many test items as its best-covered one (a count, not a score: a model that
covered fewer words or was sampled more heavily is not compared on a smaller set); ties go to
the name that sorts first. Test scores never choose anything here: permuting them changes no representative.
The difference (contextual - static) is recomputed on the items both representatives
scored, resampled by the task's unit (item, word, or within words: the scheme recorded with
the items), with a paired bootstrap CI and a two-sided bootstrap p-value; the p-values of all
rows are adjusted together by Holm's method (Holm 1979), and a row is called a difference
only when its adjusted p is below 0.05 AND its CI excludes 0.

Examples
--------
>>> from bench.cell import Cell
>>> def c(name, ctx, dev, pred):
...     return Cell.from_dict({"key": f"{name}::t#1", "slot": f"{name}::t", "embedder": name, "task": "t",
...         "status": "ok", "embedder_info": {"family": "glove" if not ctx else "bert", "contextual": ctx},
...         "selection": {"layer": "emb", "criterion": "c", "value": sum(pred) / 4, "ci_low": 0, "ci_high": 1,
...                       "n": 4, "split": "test", "dev_value": dev,
...                       "items": {"ids": list("abcd"), "pred": pred, "metric": "accuracy"}}})
>>> rows = headline_rows([c("s", False, 0.6, [1, 0, 1, 0]), c("x", True, 0.7, [1, 1, 1, 1])], n_boot=200)
>>> rows[0]["static_model"], rows[0]["contextual_model"], rows[0]["diff"], rows[0]["n_paired"]
('s', 'x', 0.5, 4)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from bench.cell import Cell, canonical_order
from bench.models import model_label, side
from bench.stats import METRICS, holm, paired_bootstrap_diff

__all__ = ["ADJUSTMENT", "COLUMNS", "COVERAGE_FLAG", "headline", "headline_rows", "render_headline",
           "representative"]

#: the multiplicity adjustment applied across the rows of the table
ADJUSTMENT = "Holm"
#: a cell scored on less than this share of the items it attempted is flagged wherever it appears
COVERAGE_FLAG = 0.9
ALPHA = 0.05

COLUMNS = [
    "task", "kind", "metric", "unit",
    "static_model", "static_layer", "static_value", "static_ci_low", "static_ci_high", "static_dev",
    "static_n", "static_coverage",
    "contextual_model", "contextual_layer", "contextual_value", "contextual_ci_low", "contextual_ci_high",
    "contextual_dev", "contextual_n", "contextual_coverage",
    "n_paired", "static_on_paired", "contextual_on_paired", "diff", "diff_ci_low", "diff_ci_high", "p", "p_adjusted",
    "verdict", "note",
]


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


def coverage(cell: Cell) -> float:
    """Items the selected layer scored over items it attempted (the sample when capped)."""
    if not cell.results:
        return float("nan")
    layer = cell.selection.layer if cell.selection else cell.results[0].layer
    r = next((r for r in cell.results if r.layer == layer), cell.results[0])
    return r.coverage


def comparable(cell: Cell) -> bool:
    """False for a fallback protocol flagged not comparable (analogy without a vocabulary)."""
    return all(r.protocol.get("comparable", True) for r in cell.results)


#: a side's representative must have scored at least this share of the items its best-covered model scored
COVERAGE_FOR_REPRESENTATIVE = 0.9


def representative(cells: list[Cell], which: str, *, higher: bool = True) -> Cell | None:
    """The ``which`` side's representative: the best DEV score of the selected layer (never test)."""
    pool = [c for c in cells if side(c.embedder_info) == which and c.selection is not None]
    if not pool:
        return None
    # only models scored on (nearly) as many test items as the side's best-covered one: a model that covered
    # or sampled far fewer items (OOV words, a per-model cap) would be compared on a different, smaller set
    most = max(c.selection.n for c in pool if c.selection is not None)
    pool = [c for c in pool if c.selection is not None and c.selection.n >= COVERAGE_FOR_REPRESENTATIVE * most]
    sign = 1.0 if higher else -1.0

    def key(c: Cell) -> tuple[float, str]:
        dev = _num(c.selection.dev_value) if c.selection else float("nan")
        return (-sign * dev if not math.isnan(dev) else math.inf, c.embedder)

    return sorted(pool, key=key)[0]


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
    pa, pb = np.array(a.pred, float)[ia], np.array(b.pred, float)[ib]
    gold = np.array(a.gold, float)[ia] if a.gold else None
    groups = np.array(a.groups)[ia] if a.groups else None
    scheme = a.scheme if groups is not None else "item"
    d = paired_bootstrap_diff(metric, pa, pb, gold, n_boot=n_boot, seed=seed, groups=groups, scheme=scheme)
    from bench.stats import statistic

    return {
        "n_paired": len(common),
        "contextual_on_paired": statistic(metric, pa, gold, groups=groups, scheme=scheme),
        "static_on_paired": statistic(metric, pb, gold, groups=groups, scheme=scheme),
        "diff": d["diff"], "diff_ci_low": d["ci_low"], "diff_ci_high": d["ci_high"], "p": d["p"],
        "unit": {"item": "item", "cluster": "word", "stratified": "item within word"}[scheme], "note": "",
    }


def headline_rows(cells: list[Cell], *, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """One row per task (see the module docstring); None where a value does not apply."""
    ok = [c for c in cells if c.ok and comparable(c)]
    _, tasks = canonical_order(ok)
    rows = []
    for t in tasks:
        tc = [c for c in ok if c.task == t]
        meta = next((c.task_meta for c in tc if c.task_meta), None) or {}
        higher = meta.get("higher_is_better", True)
        row: dict[str, Any] = {col: None for col in COLUMNS}
        row.update(task=t, kind=meta.get("kind", ""), metric=meta.get("metric") or tc[0].results[0].metric
                   if tc[0].results else "", note="", verdict="")
        if not any(c.selection is not None for c in tc):
            row["note"] = "descriptive task: no layer selection, see layers.md"
            rows.append(row)
            continue
        s = representative(tc, "static", higher=higher)
        x = representative(tc, "contextual", higher=higher)
        for prefix, cell in (("static", s), ("contextual", x)):
            if cell is None or cell.selection is None:
                continue
            sel = cell.selection
            row.update({f"{prefix}_model": cell.embedder, f"{prefix}_layer": sel.layer,
                        f"{prefix}_value": _num(sel.value), f"{prefix}_ci_low": _num(sel.ci_low),
                        f"{prefix}_ci_high": _num(sel.ci_high), f"{prefix}_dev": _num(sel.dev_value),
                        f"{prefix}_n": sel.n, f"{prefix}_coverage": coverage(cell)})
        if s is None or x is None:
            row["note"] = "no static model" if s is None else "no contextual model"
        else:
            row.update(_paired(s, x, n_boot=n_boot, seed=seed))
            if not higher and row.get("diff") is not None:
                row["note"] = "lower is better"
        rows.append(row)
    adjusted = holm([_num(r["p"]) for r in rows])
    for r, p_adj in zip(rows, adjusted, strict=True):
        r["p_adjusted"] = p_adj
        if r["diff"] is None or math.isnan(_num(r["diff"])):
            continue
        low, high = _num(r["diff_ci_low"]), _num(r["diff_ci_high"])
        separated = p_adj < ALPHA and (low > 0 or high < 0)
        r["verdict"] = ("contextual ahead" if r["diff"] > 0 else "static ahead") if separated else \
            "no evidence of a difference"
    return rows


def headline(cells: list[Cell], *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """:func:`headline_rows` as a DataFrame with columns :data:`COLUMNS` (diff = contextual - static)."""
    return pd.DataFrame(headline_rows(cells, n_boot=n_boot, seed=seed), columns=COLUMNS)


# -- markdown --------------------------------------------------------------------------------
def _f(x: Any, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _p(p: Any, n_boot: int) -> str:
    """A bootstrap p-value; below the resolution 1/n_boot it is shown as an upper bound."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"< {1 / n_boot:g}" if p < 1 / n_boot else f"{p:.3f}"


def flag(cov: Any) -> str:
    """' ⚠' after a number scored on under 90% of the items it attempted."""
    return " ⚠" if isinstance(cov, float) and not math.isnan(cov) and cov < COVERAGE_FLAG else ""


def _side(r: dict[str, Any], prefix: str) -> tuple[str, str]:
    if not r[f"{prefix}_model"]:
        return "–", "–"
    who = f"{r[f'{prefix}_model']} ({r[f'{prefix}_layer']})"
    val = (f"{_f(r[f'{prefix}_value'])} [{_f(r[f'{prefix}_ci_low'], 2)}, {_f(r[f'{prefix}_ci_high'], 2)}]"
           f"{flag(r[f'{prefix}_coverage'])}")
    return who, val


def render_headline(cells: list[Cell], *, n_boot: int = 1000, seed: int = 0) -> str:
    """results/headline.md: the comparison table, then every model's selected score per task."""
    rows = headline_rows(cells, n_boot=n_boot, seed=seed)
    lines = [
        "# Headline: static vs contextual, per task\n",
        "Each side is represented by ONE model per task, chosen without test data: the best score of its "
        "selected layer on the data that layer was chosen on (dev column). The static side counts static "
        "models and bag-of-context (`bow:`) models built from static vectors; floors (random vectors) never "
        "represent a side. Values are on each model's held-out items with 95% CIs; the difference "
        "(contextual - static) is recomputed on the items BOTH scored (paired n), resampled by the task's "
        f"unit. p-values are two-sided bootstrap p-values, adjusted across the table by {ADJUSTMENT}'s method; "
        "a difference is claimed only when the adjusted p < 0.05 and its CI excludes 0. "
        f"⚠ marks a score on under {COVERAGE_FLAG:.0%} of the items attempted. Similarities are raw cosines.\n",
        "| task | metric | static (layer) | value [95% CI] | dev | contextual (layer) | value [95% CI] | dev | "
        f"paired n | unit | diff (ctx - static) [95% CI] | p | p ({ADJUSTMENT}) | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s_who, s_val = _side(r, "static")
        x_who, x_val = _side(r, "contextual")
        diff = (f"{_f(r['diff'])} [{_f(r['diff_ci_low'])}, {_f(r['diff_ci_high'])}]"
                if r["diff"] is not None and not math.isnan(_num(r["diff"])) else "–")
        verdict = r["verdict"] or r["note"] or ""
        lines.append(
            f"| {r['task']} | {r['metric']} | {s_who} | {s_val} | {_f(r['static_dev'])} | {x_who} | {x_val} | "
            f"{_f(r['contextual_dev'])} | {r['n_paired'] if r['n_paired'] is not None else '–'} | "
            f"{r['unit'] or '–'} | {diff} | {_p(r['p'], n_boot)} | {_p(r['p_adjusted'], n_boot)} | {verdict} |")
    lines += ["", per_model_table(cells)]
    return "\n".join(lines) + "\n"


def per_model_table(cells: list[Cell]) -> str:
    """Every model's selected-layer score per task, with its CI, side and label (markdown)."""
    ok = [c for c in cells if c.ok and c.selection is not None]
    embs, tasks = canonical_order(ok)
    by = {(c.embedder, c.task): c for c in ok}
    out = ["## Every model, per task\n",
           "The selected layer's score on held-out items, 95% CI; † a fallback protocol not comparable "
           "with the rest of its column; ⚠ under 90% coverage.\n"]
    for kind in ("similarity", "analogy", "context", "classification"):
        ktasks = [t for t in tasks if any(c.task_meta.get("kind") == kind for c in ok if c.task == t)]
        if not ktasks:
            continue
        out.append(f"\n### {kind}\n")
        out.append("| model | side | what it is | " + " | ".join(ktasks) + " |")
        out.append("|---|---|---|" + "---|" * len(ktasks))
        for e in embs:
            info = next((c.embedder_info for c in ok if c.embedder == e), {})
            vals = []
            for t in ktasks:
                c = by.get((e, t))
                if c is None or c.selection is None:
                    vals.append("")
                    continue
                sel = c.selection
                vals.append(f"{_f(sel.value)} [{_f(sel.ci_low, 2)}, {_f(sel.ci_high, 2)}]"
                            f"{'' if comparable(c) else ' †'}{flag(coverage(c))}")
            label = info.get("label") or model_label(e)
            out.append(f"| {e} | {side(info)} | {label} | " + " | ".join(vals) + " |")
    return "\n".join(out) + "\n"
