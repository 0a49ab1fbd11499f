"""Reports: tables (Markdown, CSV, LaTeX) and plots from a result store.

``write_report(store, out_dir)`` writes

- ``summary.md`` / ``summary.csv`` / ``summary.tex``: one row per model, one column per task,
  the score of the layer each task picked WITHOUT the test items, on the held-out items;
- ``layers.md`` / ``results.csv``: every layer of every model on every task, all items,
  with 95% CIs and coverage; the best layer on the test items is marked "oracle";
- ``models.md``: which checkpoint produced each row (stand-ins say so), fingerprints;
- ``datasets.md``: licence, citation and sha256 of every dataset behind a number;
- ``headline.md``: each side's representative per task (chosen on dev data), the paired
  difference with Holm-adjusted p-values, and every model's score per task;
- ``findings.md``: the findings, generated from the results (the README quotes it);
- ``plots/<task>.png``: score per layer (relative depth) per model;
- ``failures.md``: cells that failed, with their error.

All numbers come from the store; reports never run a model.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.cell import Cell, canonical_order
from bench.findings import render_findings
from bench.headline import render_headline
from bench.store import ResultStore
from embeddings.support.files import atomic_path, write_text_atomic

logger = logging.getLogger(__name__)


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def _none(x: float) -> float | None:
    return None if isinstance(x, float) and math.isnan(x) else x


def _ci(low: Any, high: Any) -> str:
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)):
        return ""
    return f"[{_fmt(low, 2)}, {_fmt(high, 2)}]"


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table.

    >>> print(md_table(["a", "b"], [["1", "2"]]))
    | a | b |
    |---|---|
    | 1 | 2 |
    """
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def summary_rows(cells: list[Cell]) -> tuple[list[str], list[list[str]], list[dict[str, Any]]]:
    embs, tasks = canonical_order(cells)
    by = {(c.embedder, c.task): c for c in cells}
    header = ["model", "family"] + tasks
    rows, flat = [], []
    for e in embs:
        fam = next((c.embedder_info.get("family", "") for c in cells if c.embedder == e), "")
        row = [e, fam]
        for t in tasks:
            c = by.get((e, t))
            if c is None:
                row.append("")
            elif not c.ok:
                row.append("failed")
            elif c.selection is not None:
                s = c.selection
                comparable = all(r.protocol.get("comparable", True) for r in c.results)
                row.append(f"{_fmt(s.value)} ({s.layer})" + ("" if comparable else " †"))
                flat.append({"model": e, "family": fam, "task": t, "layer": s.layer, "value": _none(s.value),
                             "ci_low": _none(s.ci_low), "ci_high": _none(s.ci_high), "n": s.n, "split": s.split,
                             "criterion": s.criterion, "oracle": s.oracle})
            else:
                row.append("")
        rows.append(row)
    return header, rows, flat


def layer_rows(cells: list[Cell], task: str) -> list[list[str]]:
    rows = []
    embs, _ = canonical_order(cells)
    for e in embs:
        cell = next((c for c in cells if c.embedder == e and c.task == task), None)
        if cell is None or not cell.ok or not cell.results:
            continue
        res = cell.results
        higher = cell.task_meta.get("higher_is_better", True)
        vals = [r.value for r in res]
        finite = [v for v in vals if not math.isnan(v)]
        best = (max(finite) if higher else min(finite)) if finite else None
        for r, v in zip(res, vals):
            mark = " (oracle best)" if len(res) > 1 and v == best else ""
            rows.append([e, r.layer, _fmt(r.value) + mark, _ci(r.ci_low, r.ci_high),
                         f"{r.n}/{r.total}", r.checkpoint[:60]])
    return rows


def write_report(store: ResultStore, out_dir: str | Path | None = None) -> list[Path]:
    """Write every report file for ``store`` into ``out_dir`` (default: the store's root)."""
    out = Path(out_dir) if out_dir else store.root
    out.mkdir(parents=True, exist_ok=True)
    cells = store.cells()
    ok = [c for c in cells if c.ok]
    written: list[Path] = []

    def put(name: str, text: str) -> None:
        write_text_atomic(out / name, text)
        written.append(out / name)

    header, rows, flat = summary_rows(cells)
    intro = ("Score of the layer each task selects WITHOUT its test items (criterion per cell in "
             "summary.csv), measured on the held-out items, with the selected layer in brackets. "
             "Per-layer scores on all items: layers.md. Which checkpoint each row is: models.md. "
             "† marks a fallback protocol that is not comparable with the other rows of its column "
             "(analogy over the dataset's own words for a model without a vocabulary: compare the "
             "*-closed* columns instead).\n\n")
    put("summary.md", "# Summary\n\n" + intro + md_table(header, rows) + "\n")
    import pandas as pd

    df_sum = pd.DataFrame(flat)
    with atomic_path(out / "summary.csv") as tmp:
        df_sum.to_csv(tmp, index=False)
    written.append(out / "summary.csv")
    put("summary.tex", _latex(header, rows))

    _, tasks = canonical_order(ok)
    parts = ["# Every layer, all items\n",
             "Value with its 95% bootstrap CI and coverage (items scored / items in the dataset). "
             "The best layer on these same items is marked *oracle best*: it was chosen by looking at "
             "the test items, so use summary.md for comparisons.\n"]
    for t in tasks:
        meta = next((c.task_meta for c in ok if c.task == t), None) or {}
        parts.append(f"\n## {t}\n\n{meta.get('description', '')} Metric: {meta.get('metric', '')}.\n")
        parts.append(md_table(["model", "layer", "value", "95% CI", "n/total", "checkpoint"], layer_rows(ok, t)))
    put("layers.md", "\n".join(parts) + "\n")

    df = store.to_dataframe()
    if not df.empty:
        embs, task_order = canonical_order(ok)
        rank_e, rank_t = {e: k for k, e in enumerate(embs)}, {t: k for k, t in enumerate(task_order)}
        df["_e"], df["_t"] = df["embedder"].map(rank_e), df["task"].map(rank_t)
        df = df.sort_values(["_e", "_t"], kind="stable")
        keep = [c for c in ("task", "embedder", "family", "layer", "metric", "value", "ci_low", "ci_high",
                            "n", "total", "checkpoint") if c in df.columns]
        with atomic_path(out / "results.csv") as tmp:
            df[keep].to_csv(tmp, index=False)
        written.append(out / "results.csv")

    put("models.md", _models(ok))
    put("datasets.md", _datasets(ok))
    failures = [c for c in cells if not c.ok]
    put("failures.md", "# Failed cells\n\n" + (md_table(
        ["model", "task", "stage", "error"],
        [[c.embedder, c.task, c.stage, c.error[:200]] for c in failures])
        if failures else "None.") + "\n")
    put("headline.md", render_headline(ok))
    put("timing.md", _timing(cells))
    seeds = ResultStore(out / "seeds")
    seed_cells = seeds.cells(status="ok") if seeds.path.exists() else []
    put("findings.md", render_findings(ok, seed_cells=seed_cells))
    written += _plots(ok, out / "plots")
    return written


def _latex(header: list[str], rows: list[list[str]]) -> str:
    esc = (lambda s: str(s).replace("_", r"\_").replace("%", r"\%").replace("&", r"\&"))  # noqa: E731
    lines = [r"\begin{tabular}{" + "l" * 2 + "r" * (len(header) - 2) + "}", r"\toprule",
             " & ".join(esc(h) for h in header) + r" \\", r"\midrule"]
    lines += [" & ".join(esc(c) for c in r) + r" \\" for r in rows]
    lines += [r"\bottomrule", r"\end{tabular}", ""]
    return "\n".join(lines)


def _models(cells: list[Cell]) -> str:
    seen: dict[str, dict[str, Any]] = {}
    for c in cells:
        seen.setdefault(c.embedder, c.embedder_info)
    rows = [[n, i.get("family", ""), i.get("direction", ""), str(len(i.get("layers", []))),
             "/".join(map(str, sorted(set(i.get("layer_dims", []))))), i.get("checkpoint", ""),
             i.get("fingerprint", "")] for n, i in seen.items()]
    return ("# Models\n\nEvery row of every table names one of these. Rows marked stand-in are not "
            "the published checkpoint of their family: they are what runs offline.\n\n"
            + md_table(["model", "family", "direction", "layers", "widths", "checkpoint", "fingerprint"], rows)
            + "\n\nLoad and run times are in cells.jsonl (they vary between machines; the tables do not).\n")


def _datasets(cells: list[Cell]) -> str:
    from bench.datasets import get_dataset

    names: dict[str, None] = {}
    for c in cells:
        for d in c.task_meta.get("datasets", []):
            names.setdefault(d, None)
    rows = []
    for n in names:
        try:
            ds = get_dataset(n)
        except KeyError:
            continue
        rows.append([n, ds.title, ds.license, ds.citation, ds.version])
    return ("# Datasets\n\nEach result is labelled with the sha256 of the files it read (results.csv, "
            "cells.jsonl). Several sets are licensed for non-commercial use only.\n\n"
            + md_table(["dataset", "title", "licence", "citation", "sha256 (12)"], rows) + "\n")


def _plots(cells: list[Cell], plot_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_task: dict[str, list[Cell]] = defaultdict(list)
    for c in cells:
        by_task[c.task].append(c)
    written = []
    plot_dir.mkdir(parents=True, exist_ok=True)
    embs, _ = canonical_order(cells)
    color = {e: f"C{i % 10}" for i, e in enumerate(embs)}  # one colour per model in every plot
    for task, tcells in by_task.items():
        fig, ax = plt.subplots(figsize=(6, 3.6))
        metric = ""
        for c in tcells:
            res = [r for r in c.results if not math.isnan(r.value)]
            if not res:
                continue
            metric = res[0].metric
            if len(res) == 1:
                ax.axhline(res[0].value, linestyle="--", linewidth=1, label=f"{c.embedder} (one layer)",
                           color=color[c.embedder])
                continue
            depth = [i / (len(res) - 1) for i in range(len(res))]
            ax.plot(depth, [r.value for r in res], marker="o", markersize=3, label=c.embedder,
                    color=color[c.embedder])
        ax.set_xlabel("relative layer depth (0 = embedding layer, 1 = top)")
        ax.set_ylabel(metric)
        ax.set_title(task)
        ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        target = plot_dir / f"{task}.png"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
        plt.close(fig)
        written.append(target)
    return written


FINDINGS_BEGIN = "<!-- findings:begin (generated from results/findings.md by `ctxbench report --readme`) -->"
FINDINGS_END = "<!-- findings:end -->"


def findings_block(findings: str) -> str:
    """What the README quotes of findings.md: everything after its title."""
    lines = findings.splitlines()
    return "\n".join(lines[2:] if lines and lines[0].startswith("# ") else lines).strip() + "\n"


def update_readme(readme: str | Path, findings: str) -> bool:
    """Replace the README's findings block (between the markers) with findings.md's text; True if changed."""
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    if FINDINGS_BEGIN not in text or FINDINGS_END not in text:
        raise ValueError(f"{path}: no findings block; add the lines {FINDINGS_BEGIN!r} and {FINDINGS_END!r}")
    head, rest = text.split(FINDINGS_BEGIN, 1)
    _, tail = rest.split(FINDINGS_END, 1)
    new = head + FINDINGS_BEGIN + "\n" + findings_block(findings) + FINDINGS_END + tail
    if new != text:
        write_text_atomic(path, new)
    return new != text


def _timing(cells: list[Cell]) -> str:
    """timing.md: where and how long (machine-dependent; ``make reproduce`` does not compare it)."""
    embs, tasks = canonical_order(cells)
    machines = sorted({json.dumps(c.embedder_info.get("machine", {}), sort_keys=True) for c in cells
                       if c.embedder_info.get("machine")})
    lines = ["# Timing", "", "Wall-clock seconds of the cells in this store, on the machine(s) that ran them. These "
             "figures depend on the machine and its load; `make reproduce` does not compare this file.", ""]
    for m in machines:
        info = json.loads(m)
        lines += [f"- CPU: {info.get('cpu', '?')}", f"- cores: {info.get('cores', '?')}, torch threads: "
                  f"{info.get('torch_threads', '?')}, Python {info.get('python', '?')}"]
    rows = []
    total = 0.0
    for e in embs:
        mine = [c for c in cells if c.embedder == e and c.ok]
        load = max((float(c.embedder_info.get("load_seconds", 0.0)) for c in mine), default=0.0)
        run = sum(c.seconds for c in mine)
        total += load + run
        slowest = max(mine, key=lambda c: c.seconds, default=None)
        rows.append([e, f"{load:.1f}", f"{run:.1f}", f"{load + run:.1f}",
                     f"{slowest.task} ({slowest.seconds:.1f})" if slowest else ""])
    lines += ["", md_table(["model", "load s", "cells s", "total s", "slowest cell (s)"], rows), "",
              f"Total: {total:.0f} s over {len(tasks)} tasks (load + cells; a stand-in's first training is in "
              "its load time).", ""]
    return "\n".join(lines)
