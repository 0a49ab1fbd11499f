"""The report's tables, built once and written as Markdown, CSV, LaTeX and HTML.

A :class:`Table` is a header and rows of display strings (the same text in every format);
the CSV files carry the raw numbers instead (:func:`summary_frame`, :func:`results_frame`).
Every table names the model, says what it is (its label: a stand-in says so) and carries
coverage: items scored / items in the split, the sample cap when one applied, and ⚠ when the
score rests on under 90% of the items attempted (:func:`coverage_text`).

Rows follow :func:`bench.cell.canonical_order`, never the order the cells ran in.

Examples
--------
>>> from bench.result import TaskResult
>>> r = TaskResult(task="t", embedder="e", layer="emb", metric="accuracy", value=0.5, n=80, total=100)
>>> coverage_text(r)
'80/100 ⚠'
>>> coverage_text(TaskResult(task="t", embedder="e", layer="emb", metric="accuracy", value=0.5, n=500,
...                          total=10662, sampled=500))
'500/10662 (cap 500)'
>>> print(md_table(["a", "b"], [["1", "x|y"]]))
| a | b |
|---|---|
| 1 | x\\|y |
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bench.cards import label_of, what_it_is
from bench.cell import Cell, canonical_order
from bench.headline import COVERAGE_FLAG, comparable
from bench.models import side
from bench.result import TaskResult

__all__ = ["Table", "coverage_text", "layer_table", "md_table", "results_frame", "selected_result", "sort_cells",
           "summary_frame", "summary_table", "to_latex"]


def sort_cells(cells: Sequence[Cell]) -> list[Cell]:
    """``cells`` in canonical order (model, then task): what every report reads, so that no table,
    sentence or tie-break depends on the order the cells ran in."""
    embs, tasks = canonical_order(list(cells))
    e_rank, t_rank = {e: k for k, e in enumerate(embs)}, {t: k for k, t in enumerate(tasks)}
    return sorted(cells, key=lambda c: (e_rank[c.embedder], t_rank[c.task], c.key))


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table (``|`` in a cell is escaped)."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


@dataclass(frozen=True)
class Table:
    """A header and rows of display strings."""

    header: list[str]
    rows: list[list[str]]

    def markdown(self) -> str:
        return md_table(self.header, self.rows)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=self.header)


def fmt(x: Any, digits: int = 3) -> str:
    """A number, or '–' for None/NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def ci_text(low: Any, high: Any, digits: int = 2) -> str:
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)):
        return ""
    return f"[{fmt(low, digits)}, {fmt(high, digits)}]"


def low_coverage(r: TaskResult) -> bool:
    c = r.coverage
    return not math.isnan(c) and c < COVERAGE_FLAG


def coverage_text(r: TaskResult) -> str:
    """'n/total', '(cap k)' when k items were sampled under a cap, ' ⚠' under 90% of those attempted."""
    text = f"{r.n}/{r.total}" + (f" (cap {r.sampled})" if r.sampled else "")
    return text + (" ⚠" if low_coverage(r) else "")


def selected_result(cell: Cell) -> TaskResult | None:
    """The per-layer result of the layer the cell selected (its first layer without a selection)."""
    if not cell.results:
        return None
    layer = cell.selection.layer if cell.selection else cell.results[0].layer
    return next((r for r in cell.results if r.layer == layer), cell.results[0])


def _infos(cells: Sequence[Cell]) -> dict[str, dict[str, Any]]:
    """Each model's recorded info, from a finished cell when there is one."""
    info: dict[str, dict[str, Any]] = {}
    for c in sorted(cells, key=lambda c: not c.ok):  # stable: finished cells first
        info.setdefault(c.embedder, c.embedder_info)
    return info


def selected_tasks(cells: Sequence[Cell]) -> tuple[list[str], list[str]]:
    """Tasks with a selected layer somewhere (or a failure), and the descriptive ones (no selection)."""
    _, tasks = canonical_order(list(cells))
    with_sel = {c.task for c in cells if c.ok and c.selection is not None}
    failed = {c.task for c in cells if not c.ok}
    keep = [t for t in tasks if t in with_sel or (t in failed and not any(c.ok and c.task == t for c in cells))]
    return keep, [t for t in tasks if t not in keep]


def summary_cell(c: Cell | None) -> str:
    """'value [CI] (layer) n/total', with † (not comparable) and ⚠ (low coverage)."""
    if c is None:
        return ""
    if not c.ok:
        return "failed"
    if c.selection is None:
        return "descriptive"
    s, r = c.selection, selected_result(c)
    text = f"{fmt(s.value)} {ci_text(s.ci_low, s.ci_high)} ({s.layer})".replace("  ", " ")
    if not comparable(c):
        text += " †"
    return text + (f" {coverage_text(r)}" if r else "")


def summary_table(cells: Sequence[Cell]) -> Table:
    """One row per model, one column per task with a selected layer: :func:`summary_cell`."""
    embs, _ = canonical_order(list(cells))
    tasks, _ = selected_tasks(cells)
    by = {(c.embedder, c.task): c for c in cells}
    info = _infos(cells)
    rows = []
    for e in embs:
        label = label_of(e, info[e])
        rows.append([e, label, side(info[e])] + [summary_cell(by.get((e, t))) for t in tasks])
    return Table(["model", "what it is", "side"] + tasks, rows)


SUMMARY_COLUMNS = ["model", "label", "what", "side", "family", "task", "kind", "metric", "layer", "criterion",
                   "value", "ci_low", "ci_high", "n_heldout", "split", "dev_value", "oracle", "comparable",
                   "n", "total", "sampled", "coverage", "low_coverage"]


def _num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def summary_frame(cells: Sequence[Cell]) -> pd.DataFrame:
    """summary.csv: one row per (model, task) with a selected layer, raw numbers and coverage."""
    embs, tasks = canonical_order(list(cells))
    by = {(c.embedder, c.task): c for c in cells if c.ok and c.selection is not None}
    rows = []
    for e in embs:
        for t in tasks:
            c = by.get((e, t))
            if c is None or c.selection is None:
                continue
            s, r = c.selection, selected_result(c)
            label = label_of(e, c.embedder_info)
            rows.append({"model": e, "label": label, "what": what_it_is(label, side(c.embedder_info)),
                         "side": side(c.embedder_info), "family": c.embedder_info.get("family", ""), "task": t,
                         "kind": c.task_meta.get("kind", ""), "metric": r.metric if r else "", "layer": s.layer,
                         "criterion": s.criterion, "value": _num(s.value), "ci_low": _num(s.ci_low),
                         "ci_high": _num(s.ci_high), "n_heldout": s.n, "split": s.split,
                         "dev_value": _num(s.dev_value), "oracle": s.oracle, "comparable": comparable(c),
                         "n": r.n if r else None, "total": r.total if r else None,
                         "sampled": r.sampled if r else None, "coverage": _num(r.coverage) if r else None,
                         "low_coverage": low_coverage(r) if r else None})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def layer_table(cells: Sequence[Cell], task: str) -> Table:
    """Every layer of every model on ``task``: value, CI, coverage, which layer was selected / oracle-best."""
    embs, _ = canonical_order(list(cells))
    by = {c.embedder: c for c in cells if c.ok and c.task == task and c.results}
    rows = []
    for e in embs:
        cell = by.get(e)
        if cell is None:
            continue
        higher = cell.task_meta.get("higher_is_better", True)
        finite = [r.value for r in cell.results if not math.isnan(r.value)]
        best = (max(finite) if higher else min(finite)) if finite else None
        what = what_it_is(label_of(e, cell.embedder_info), side(cell.embedder_info))
        for r in cell.results:
            marks = []
            if cell.selection is not None and r.layer == cell.selection.layer:
                marks.append("selected")
            if len(cell.results) > 1 and r.value == best:
                marks.append("oracle best")
            rows.append([e, what, r.layer, fmt(r.value), ci_text(r.ci_low, r.ci_high), coverage_text(r),
                         ", ".join(marks), r.checkpoint[:60]])
    return Table(["model", "what it is", "layer", "value", "95% CI", "n/total", "choice", "checkpoint"], rows)


RESULTS_COLUMNS = ["task", "embedder", "label", "side", "family", "layer", "metric", "value", "ci_low", "ci_high",
                   "n", "total", "sampled", "coverage", "checkpoint"]


def results_frame(cells: Sequence[Cell]) -> pd.DataFrame:
    """results.csv: every layer of every finished cell, in canonical order."""
    embs, tasks = canonical_order(list(cells))
    by = {(c.embedder, c.task): c for c in cells if c.ok}
    rows = []
    for e in embs:
        for t in tasks:
            c = by.get((e, t))
            if c is None:
                continue
            for r in c.results:
                rows.append({"task": t, "embedder": e, "label": label_of(e, c.embedder_info),
                             "side": side(c.embedder_info), "family": c.embedder_info.get("family", ""),
                             "layer": r.layer, "metric": r.metric, "value": _num(r.value), "ci_low": _num(r.ci_low),
                             "ci_high": _num(r.ci_high), "n": r.n, "total": r.total, "sampled": r.sampled,
                             "coverage": _num(r.coverage), "checkpoint": r.checkpoint})
    return pd.DataFrame(rows, columns=RESULTS_COLUMNS)


# -- LaTeX -----------------------------------------------------------------------------------
#: symbols of the display strings, as LaTeX (applied after pandas has escaped the text)
LATEX_SYMBOLS = {"⚠": r"$^{\ast}$", "†": r"$^{\dagger}$", "–": "--", "<": r"\textless{}", ">": r"\textgreater{}"}


def _latex_symbols(text: Any) -> str:
    out = str(text)
    for sym, tex in LATEX_SYMBOLS.items():
        out = out.replace(sym, tex)
    return out


def to_latex(table: Table, *, caption: str, label: str, numeric_from: int | None = None) -> str:
    """A booktabs ``table`` through pandas' ``Styler.to_latex``.

    Every cell and header is escaped by pandas (``escape="latex"``: ``_ % & # $ { } ~ ^ \\``);
    then ⚠, †, –, < and > become ``$^{\\ast}$``, ``$^{\\dagger}$``, ``--``, ``\\textless{}`` and
    ``\\textgreater{}``. Other non-ASCII text is kept as UTF-8 (LaTeX reads UTF-8 by default since
    2018). ``caption`` is LaTeX as given.
    Needs ``\\usepackage{booktabs}``.
    """
    df = table.frame()
    n = len(table.header)
    start = n if numeric_from is None else numeric_from
    styler = df.style.hide(axis="index")
    styler = styler.format(_latex_symbols, escape="latex").format_index(_latex_symbols, escape="latex", axis=1)
    body: str = styler.to_latex(hrules=True, caption=caption, label=label, position_float="centering",
                                column_format="l" * start + "r" * (n - start))
    return ("% Generated by `ctxbench report` (pandas Styler.to_latex); needs \\usepackage{booktabs}. UTF-8.\n"
            + body)
