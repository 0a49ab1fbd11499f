"""Reports: tables (Markdown, CSV, LaTeX), plots, a ranking and one HTML page from a result store.

``write_report(store, out_dir)`` writes

- ``report.html``: everything below in ONE self-contained page (open it from disk);
- ``summary.md`` / ``summary.csv`` / ``summary.tex``: one row per model, one column per task,
  the score of the layer each task picked WITHOUT the test items, on the held-out items, with
  its 95% CI, the model's label and the coverage;
- ``layers.md`` / ``results.csv``: every layer of every model on every task, all items, with
  95% CIs and coverage; the selected layer and the best layer on the test items ("oracle") are
  marked;
- ``ranking.md`` / ``ranking.csv`` / ``ranking.tex``: the significance-aware ranking per task
  kind and overall (:mod:`bench.ranking`);
- ``models.md``: which checkpoint produced each row (stand-ins say so), fingerprints;
- ``datasets.md``: licence, citation, sha256 of every file and the protocol of every task;
- ``headline.md``: each side's representative per task (chosen on dev data), the paired
  difference with Holm-adjusted p-values, and every model's score per task;
- ``findings.md``: the findings, generated from the results (the README quotes it);
- ``plots/<task>.png``, ``plots/headline-deltas.png``, ``plots/heatmap.png`` (:mod:`bench.plots`);
- ``failures.md``: cells that failed, with their error; ``timing.md``: machine-dependent times.

All numbers come from the store; reports never run a model. Every table follows
:func:`bench.cell.canonical_order`, and a second report of the same store writes the same bytes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bench.caps import render_caps
from bench.cards import DatasetCard, ModelCard, dataset_cards, label_of, model_cards, what_it_is
from bench.cell import Cell, canonical_order
from bench.findings import render_findings
from bench.headline import headline_rows, render_headline
from bench.models import side
from bench.plots import write_plots
from bench.ranking import Ranking, entry_rows, rank_models, ranking_frame, render_ranking
from bench.report_html import render_html
from bench.store import ResultStore
from bench.tables import (
    Table,
    layer_table,
    md_table,
    results_frame,
    selected_tasks,
    sort_cells,
    summary_frame,
    summary_table,
)
from bench.tables import to_latex as table_to_latex
from embeddings.support.files import atomic_path, write_text_atomic

__all__ = ["FINDINGS_BEGIN", "FINDINGS_END", "findings_block", "md_table", "update_readme", "write_report"]

logger = logging.getLogger(__name__)

#: bootstrap replicates of the headline and the ranking (the cells' own CIs are in the store)
N_BOOT = 1000

SUMMARY_NOTE = (
    "Score of the layer each task selects WITHOUT its test items (criterion per cell in summary.csv), measured on "
    "the held-out items, with its 95% CI and the selected layer in brackets, then coverage: items scored / items "
    "in the split, *(cap k)* when k items were sampled under a cap, ⚠ when under 90% of the items attempted were "
    "scored. *what it is*: the checkpoint's label (a stand-in is not the published model of its family; "
    "models.md). † marks a fallback protocol that is not comparable with the other rows of its column (analogy "
    "over the dataset's own words for a model without a vocabulary: compare the *-closed* columns instead). "
    "Per-layer scores on all items: layers.md. The same page with plots: report.html."
)

SUMMARY_CAPTION = (
    r"Score of the layer each task selects without its test items, on the held-out items, with its 95\% CI, the "
    r"selected layer in brackets and coverage (items scored / items in the split; \emph{cap k}: k items sampled). "
    r"$^{\ast}$ under 90\% of the items attempted were scored; $^{\dagger}$ a fallback protocol not comparable "
    r"with the rest of its column."
)


def _put_csv(frame: pd.DataFrame, target: Path) -> Path:
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")
    return target


def write_report(store: ResultStore, out_dir: str | Path | None = None, *, n_boot: int = N_BOOT) -> list[Path]:
    """Write every report file for ``store`` into ``out_dir`` (default: the store's root); returns the paths."""
    out = Path(out_dir) if out_dir else store.root
    out.mkdir(parents=True, exist_ok=True)
    cells = sort_cells(store.cells())  # canonical order: nothing below depends on the order cells ran in
    ok = [c for c in cells if c.ok]
    written: list[Path] = []

    def put(name: str, text: str) -> None:
        write_text_atomic(out / name, text)
        written.append(out / name)

    summary = summary_table(cells)
    _, descriptive = selected_tasks(cells)
    extra = (f" Descriptive tasks (no layer selected): {', '.join(descriptive)}; see layers.md." if descriptive
             else "")
    put("summary.md", "# Summary\n\n" + SUMMARY_NOTE + extra + "\n\n" + summary.markdown() + "\n")
    written.append(_put_csv(summary_frame(cells), out / "summary.csv"))
    put("summary.tex", table_to_latex(summary, caption=SUMMARY_CAPTION, label="tab:ctxbench-summary",
                                      numeric_from=3))

    _, tasks = canonical_order(ok)
    parts = ["# Every layer, all items\n",
             "Value with its 95% bootstrap CI and coverage (items scored / items in the split; *(cap k)*: k items "
             "sampled under a cap; ⚠ under 90% of the items attempted). *selected*: the layer the task chose "
             "without its test items. *oracle best*: the best layer on these same items, chosen by looking at the "
             "test items, so use summary.md for comparisons.\n"]
    for t in tasks:
        meta = next((c.task_meta for c in ok if c.task == t), None) or {}
        parts.append(f"\n## {t}\n\n{meta.get('description', '')} Metric: {meta.get('metric', '')}.\n")
        parts.append(layer_table(ok, t).markdown())
    put("layers.md", "\n".join(parts) + "\n")
    if ok:
        written.append(_put_csv(results_frame(ok), out / "results.csv"))

    cards, data_cards = model_cards(cells), dataset_cards(ok)
    put("models.md", _models(cards))
    put("datasets.md", _datasets(data_cards))
    put("failures.md", _failures(cells))
    put("headline.md", render_headline(ok, n_boot=n_boot))
    put("timing.md", _timing(cells))
    seeds = ResultStore(out / "seeds")
    seed_cells = sort_cells(seeds.cells(status="ok")) if seeds.path.exists() else []
    findings = render_findings(ok, seed_cells=seed_cells, n_boot=n_boot)
    put("findings.md", findings)
    full = ResultStore(out / "full")
    if full.path.exists():  # the full protocol run once beside the default: how far the caps move things
        put("caps.md", render_caps(ok, sort_cells(full.cells(status="ok"))))

    rankings = rank_models(ok, n_boot=n_boot)
    put("ranking.md", render_ranking(rankings))
    written.append(_put_csv(ranking_frame(rankings), out / "ranking.csv"))
    put("ranking.tex", _ranking_tex(rankings))

    rows = headline_rows(ok, n_boot=n_boot)
    heat_tasks, _ = selected_tasks(cells)
    plot_files = write_plots(cells, rows, out / "plots", heat_tasks)
    written += plot_files
    put("report.html", render_html(cells, findings=findings, headline_rows=rows, rankings=rankings,
                                   plots={p.stem: p for p in plot_files}, model_cards=cards,
                                   dataset_cards=data_cards, n_boot=n_boot))
    return written


def _ranking_tex(rankings: Sequence[Ranking]) -> str:
    parts = []
    for r in rankings:
        if not r.entries:
            continue
        header, rows = entry_rows(r)
        caption = (f"Significance-aware ranking, {r.scope}: models share a rank unless their paired difference is "
                   r"significant (paired bootstrap within tasks, Holm-adjusted over all pairs, $p<0.05$ and the CI "
                   r"excludes 0); rank = 1 + the number of models significantly ahead. Tasks: "
                   + ", ".join(t.replace("_", r"\_") for t in r.task_names) + r". $^{\ast}$ under 90\% coverage.")
        parts.append(table_to_latex(Table(header, rows), caption=caption, label=f"tab:ctxbench-rank-{r.scope}",
                                    numeric_from=len(header)))
    return "\n".join(parts) if parts else "% no ranking: nothing to rank\n"


def _models(cards: list[ModelCard]) -> str:
    rows = [[m.name, m.label, m.what, m.side, m.family, m.direction, str(len(m.layers)),
             "/".join(map(str, sorted(set(m.widths)))), m.checkpoint, m.fingerprint] for m in cards]
    return ("# Models\n\nEvery row of every table names one of these. Rows marked stand-in are not the published "
            "checkpoint of their family: they are what runs offline. *side*: how the headline counts the model "
            "(bag-of-context models are static; floors never represent a side).\n\n"
            + md_table(["model", "what it is", "kind", "side", "family", "direction", "layers", "widths", "checkpoint",
                        "fingerprint"], rows)
            + "\n\nLoad and run times are in cells.jsonl and timing.md (they vary between machines; the tables do "
            "not).\n")


def _datasets(cards: list[DatasetCard]) -> str:
    rows = [[d.name, d.title, d.license, d.citation, "; ".join(f"{f} {sha}" for f, sha in d.files),
             ", ".join(u.task for u in d.tasks)] for d in cards]
    out = ["# Datasets", "", "Each result is labelled with the sha256 of the files it read (results.csv, cells.jsonl); "
           "below, the first 12 hex digits as the cells recorded them. Several sets are licensed for non-commercial "
           "use only.", "", md_table(["dataset", "title", "licence", "citation", "sha256 (12) per file", "tasks"],
                                     rows), "", "## Protocols", ""]
    for d in cards:
        for u in d.tasks:
            out += [f"### {u.task} (reads {d.name})", "", f"{u.description} Metric: {u.metric}.", ""]
            if u.protocol:
                out += [md_table(["setting", "value"], [[k, v] for k, v in u.protocol]), ""]
    return "\n".join(out).rstrip() + "\n"


def _failures(cells: list[Cell]) -> str:
    failed = [c for c in cells if not c.ok]
    if not failed:
        return "# Failed cells\n\nNone.\n"
    embs, tasks = canonical_order(cells)
    order = {(e, t): (i, j) for i, e in enumerate(embs) for j, t in enumerate(tasks)}
    failed.sort(key=lambda c: order[(c.embedder, c.task)])
    return "# Failed cells\n\n" + md_table(
        ["model", "what it is", "task", "stage", "error"],
        [[c.embedder, label_of(c.embedder, c.embedder_info), c.task, c.stage, c.error[:200]] for c in failed]) + "\n"


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
        # the shared embedding step (every task's inputs, once) runs between loading and the cells
        embed = max((float(c.embedder_info.get("embed_seconds") or 0.0) for c in mine), default=0.0)
        run = sum(c.seconds for c in mine)
        total += load + embed + run
        slowest = max(mine, key=lambda c: c.seconds, default=None)
        info = next((c.embedder_info for c in cells if c.embedder == e and c.ok), {})
        what = what_it_is(label_of(e, info), side(info))
        rows.append([e, what, f"{load:.1f}", f"{embed:.1f}", f"{run:.1f}", f"{load + embed + run:.1f}",
                     f"{slowest.task} ({slowest.seconds:.1f})" if slowest else ""])
    lines += ["", md_table(["model", "what it is", "load s", "embed s", "cells s", "total s", "slowest cell (s)"],
                            rows), "",
              f"Total: {total:.0f} s over {len(tasks)} tasks (load + shared embedding step + cells; a stand-in's "
              "first training is in its load time).", ""]
    return "\n".join(lines)
