"""The report's plots (matplotlib, Agg), byte-identical on a re-run.

- ``plots/<task>.png``: the score of every layer against relative depth (0 = the embedding
  layer, 1 = the top), one colour per model (the same colour in every plot), a 95% CI band,
  the layer selected without the test items marked with a star; a one-layer model is a dashed
  line across. Legend entries say when a model is a stand-in or a floor.
- ``plots/headline-deltas.png``: per task, contextual minus static (the headline's
  representatives) with its paired 95% CI, grouped by task kind, the 0 line drawn, the colour
  giving the Holm-adjusted verdict.
- ``plots/heatmap.png``: model x task, the selected layer's score, normalised per task
  (0 = the lowest model of that column, 1 = the highest) so columns compare; the raw value is
  written in each cell.

Determinism: figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, no
global backend switch), under matplotlib's default style (a user's matplotlibrc changes
nothing), at fixed sizes and dpi, and saved with ``metadata={"Software": None}``: the PNG
carries no version or timestamp, so the same store gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.cards import label_of, legend_name
from bench.cell import Cell, canonical_order
from bench.headline import comparable
from bench.models import side
from embeddings.support.files import atomic_path

__all__ = ["DPI", "delta_plot", "heatmap_plot", "layer_plot", "model_colours", "write_plots"]

DPI = 110
#: what makes a PNG differ between two runs of the same data: matplotlib's version string
PNG_METADATA: dict[str, Any] = {"Software": None}
VERDICT_COLOURS = {"contextual ahead": "#1b7837", "static ahead": "#b35806",
                   "no evidence of a difference": "#8c8c8c"}
KIND_ORDER = ("similarity", "analogy", "context", "classification")


def _style() -> Any:
    """matplotlib's defaults (whatever the user's matplotlibrc says) plus the report's font sizes."""
    import matplotlib.style

    return matplotlib.style.context(["default", {"font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7}])


def model_colours(cells: Sequence[Cell]) -> dict[str, str]:
    """One colour per model, by canonical order (tab10, then tab20 beyond ten models)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    embs, _ = canonical_order(list(cells))
    cmap = colormaps["tab10" if len(embs) <= 10 else "tab20"]
    return {e: to_hex(cmap(k % cmap.N)) for k, e in enumerate(embs)}


def _save(fig: Any, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata=PNG_METADATA)
    return target


def _legend(info: dict[str, Any], name: str) -> str:
    return legend_name(name, label_of(name, info), side(info))


def layer_plot(cells: Sequence[Cell], task: str, target: Path, colours: dict[str, str]) -> Path:
    """Score per layer (relative depth) of every model on ``task``, with CI bands, saved to ``target``."""
    with _style():
        return _save(layer_figure(cells, task, colours), target)


def layer_figure(cells: Sequence[Cell], task: str, colours: dict[str, str]) -> Any:
    """The figure of :func:`layer_plot` (call under :func:`_style`)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    embs, _ = canonical_order(list(cells))
    by = {c.embedder: c for c in cells if c.ok and c.task == task}
    fig = Figure(figsize=(7.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    metric, starred = "", False
    for e in embs:
        c = by.get(e)
        if c is None or not c.results:
            continue
        res = list(c.results)
        metric = metric or res[0].metric
        y = np.array([r.value for r in res], float)
        lo = np.array([r.ci_low for r in res], float)
        hi = np.array([r.ci_high for r in res], float)
        if not np.isfinite(y).any():
            continue
        colour, name = colours[e], _legend(c.embedder_info, e)
        if len(res) == 1:
            ax.plot([0, 1], [y[0], y[0]], linestyle="--", linewidth=1.2, color=colour, label=f"{name}, one layer")
            if np.isfinite(lo[0]) and np.isfinite(hi[0]):
                ax.fill_between([0, 1], [lo[0]] * 2, [hi[0]] * 2, color=colour, alpha=0.06, linewidth=0)
            continue
        x = np.linspace(0.0, 1.0, len(res))
        ax.plot(x, y, marker="o", markersize=3, linewidth=1.4, color=colour, label=name)
        band = np.isfinite(lo) & np.isfinite(hi)
        if band.any():
            ax.fill_between(x, np.where(band, lo, np.nan), np.where(band, hi, np.nan), color=colour,
                            alpha=0.14, linewidth=0)
        if c.selection is not None:
            k = next((i for i, r in enumerate(res) if r.layer == c.selection.layer), None)
            if k is not None and np.isfinite(y[k]):
                ax.plot([x[k]], [y[k]], marker="*", markersize=10, color=colour, markeredgecolor="black",
                        markeredgewidth=0.5, linestyle="none")
                starred = True
    ax.set_xlim(-0.03, 1.03)
    ax.set_xlabel("relative layer depth (0 = embedding layer, 1 = top)")
    ax.set_ylabel(metric)
    ax.set_title(f"{task}: score per layer with 95% CI")
    ax.grid(True, linewidth=0.3, alpha=0.6)
    handles, names = ax.get_legend_handles_labels()
    if handles and starred:
        handles.append(Line2D([], [], marker="*", markersize=9, color="white", markeredgecolor="black",
                              markeredgewidth=0.5, linestyle="none"))
        names.append("selected layer\n(chosen without test items)")
    if handles:
        fig.legend(handles, names, loc="outside right upper", frameon=False)
    return fig


def delta_plot(rows: Sequence[dict[str, Any]], target: Path) -> Path:
    """Contextual minus static per task (headline rows), CI whiskers, grouped by kind, 0 line."""
    with _style():
        return _save(delta_figure(rows), target)


def delta_figure(rows: Sequence[dict[str, Any]]) -> Any:
    """The figure of :func:`delta_plot` (call under :func:`_style`)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    usable = [r for r in rows if r.get("diff") is not None and not math.isnan(float(r["diff"]))]
    kinds = [k for k in KIND_ORDER if any(r["kind"] == k for r in usable)]
    kinds += sorted({r["kind"] for r in usable} - set(kinds))
    slots: list[tuple[str, dict[str, Any] | None]] = []  # a header slot per kind, then its tasks
    for k in kinds:
        slots.append((k, None))
        slots += [(k, r) for r in usable if r["kind"] == k]
    fig = Figure(figsize=(7.5, max(2.2, 0.9 + 0.36 * len(slots))), layout="constrained")
    ax = fig.add_subplot()
    ticks, labels = [], []
    for pos, (kind, r) in enumerate(slots):
        y = len(slots) - 1 - pos
        if r is None:
            ax.text(0.0, y, kind, transform=ax.get_yaxis_transform(), ha="right", va="center",
                    fontweight="bold", fontsize=8)
            continue
        diff, low, high = float(r["diff"]), float(r["diff_ci_low"]), float(r["diff_ci_high"])
        colour = VERDICT_COLOURS.get(r["verdict"], "#8c8c8c")
        ax.barh(y, diff, height=0.6, color=colour, alpha=0.85)
        if not (math.isnan(low) or math.isnan(high)):
            ax.errorbar(diff, y, xerr=[[diff - low], [high - diff]], fmt="none", ecolor="black", capsize=3,
                        linewidth=0.9)
        p = r.get("p_adjusted")
        mark = {"contextual ahead": "ctx ahead", "static ahead": "static ahead"}.get(r["verdict"], "n.s.")
        ptxt = "–" if p is None or math.isnan(float(p)) else ("< 0.001" if p < 0.001 else f"{p:.3f}")
        ax.annotate(f"{mark} (p adj {ptxt})", (max(diff, high if not math.isnan(high) else diff), y),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=6.5)
        ticks.append(y)
        labels.append(f"{r['task']}\n{r['contextual_model']} - {r['static_model']}")
    ax.axvline(0.0, color="black", linewidth=1.0)
    ax.set_yticks(ticks, labels, fontsize=6.5)
    ax.set_ylim(-0.7, len(slots) - 0.3)
    ax.set_xlabel("contextual - static, on the items both scored (paired 95% CI)")
    ax.set_title("What context buys, per task (representatives chosen on dev data; Holm-adjusted verdicts)")
    ax.grid(True, axis="x", linewidth=0.3, alpha=0.6)
    lo, hi = ax.get_xlim()
    ax.set_xlim(min(lo, -0.05), hi + 0.25 * (hi - lo))  # room for the verdicts
    fig.legend(handles=[Patch(color=c, label=v) for v, c in VERDICT_COLOURS.items()], loc="outside lower center",
               ncol=3, frameon=False)
    if not usable:
        ax.text(0.5, 0.5, "no task compared both sides", transform=ax.transAxes, ha="center")
    return fig


def heatmap_plot(cells: Sequence[Cell], tasks: Sequence[str], target: Path) -> Path:
    """Models x tasks: selected-layer score, colour normalised per task, the raw value written in."""
    with _style():
        return _save(heatmap_figure(cells, tasks), target)


def heatmap_figure(cells: Sequence[Cell], tasks: Sequence[str]) -> Any:
    """The figure of :func:`heatmap_plot` (call under :func:`_style`)."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    embs, _ = canonical_order(list(cells))
    info: dict[str, dict[str, Any]] = {}
    for c in sorted(cells, key=lambda c: not c.ok):  # a finished cell's record of the model first
        info.setdefault(c.embedder, c.embedder_info)
    by = {(c.embedder, c.task): c for c in cells}
    raw = np.full((len(embs), len(tasks)), np.nan)
    note = [["" for _ in tasks] for _ in embs]
    higher = {}
    for j, t in enumerate(tasks):
        for i, e in enumerate(embs):
            if (e, t) not in by:
                continue
            c = by[(e, t)]
            higher[t] = c.task_meta.get("higher_is_better", True)
            if not c.ok:
                note[i][j] = "failed"
            elif c.selection is not None and comparable(c):
                raw[i, j] = c.selection.value
            elif c.selection is not None:
                note[i][j] = f"{c.selection.value:.2f}†"
    norm = np.full_like(raw, np.nan)
    for j, t in enumerate(tasks):
        col = raw[:, j]
        ok = np.isfinite(col)
        if not ok.any():
            continue
        lo, hi = col[ok].min(), col[ok].max()
        scaled = (col - lo) / (hi - lo) if hi > lo else np.where(ok, 0.5, np.nan)
        norm[:, j] = scaled if higher.get(t, True) else 1 - scaled
    cmap = colormaps["viridis"].with_extremes(bad="#eeeeee")
    fig = Figure(figsize=(max(5.0, 2.6 + 0.75 * len(tasks)), max(2.4, 1.3 + 0.42 * len(embs))),
                 layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(np.ma.masked_invalid(norm), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for i in range(len(embs)):
        for j in range(len(tasks)):
            if np.isfinite(raw[i, j]):
                ax.text(j, i, f"{raw[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] < 0.6 else "black")
            else:
                ax.text(j, i, note[i][j] or "–", ha="center", va="center", fontsize=6.5, color="#555555")
    ax.set_xticks(range(len(tasks)), list(tasks), rotation=40, ha="right")
    ax.set_yticks(range(len(embs)), [_legend(info[e], e) for e in embs])
    ax.set_title("Selected-layer score per task (colour: normalised per task; † not comparable)")
    fig.colorbar(im, ax=ax, shrink=0.9, label="per task: 0 lowest, 1 highest")
    return fig


def write_plots(cells: Sequence[Cell], headline_rows: Sequence[dict[str, Any]], plot_dir: Path,
                heatmap_tasks: Sequence[str]) -> list[Path]:
    """Every plot of the report into ``plot_dir``: one per task, the deltas, the heat map."""
    ok = [c for c in cells if c.ok]
    _, tasks = canonical_order(ok)
    colours = model_colours(cells)
    written = [layer_plot(ok, t, plot_dir / f"{t}.png", colours) for t in tasks]
    written.append(delta_plot(headline_rows, plot_dir / "headline-deltas.png"))
    if heatmap_tasks:
        written.append(heatmap_plot(list(cells), heatmap_tasks, plot_dir / "heatmap.png"))
    return written
