"""perf.md's "Goals missed" part: for each missed goal, by how much, and why, from the run's own figures.

The *why* is derived where the run measured it: a goal against a naive loop or flair is
out of reach when the raw forward itself is not that much faster than them, and the
raw forward is the ceiling ``embed()`` is measured against.

Examples
--------
>>> from bench.perf.figures import Figure, Goal
>>> figs = [Figure("embed() ÷ raw forward", "m", 0.95, Goal(">=", 0.9, "x")),
...         Figure("embed() ÷ naive loop", "m", 1.5, Goal(">=", 2.5, "x"))]
>>> line = missed_goals(figs)[2]
>>> line.startswith("- **embed() ÷ naive loop, m**: 1.50x against >= 2.5x (40% short)")
True
>>> "only about 1.58x the naive loop" in line, "embed() at 1.58x the raw forward" in line
(True, True)
"""

from __future__ import annotations

from bench.perf.figures import Figure

__all__ = ["missed_goals"]

RAW = "embed() ÷ raw forward"


def _shortfall(f: Figure) -> str:
    assert f.value is not None and f.goal is not None
    if f.goal.op == ">=":
        return f"{1 - f.value / f.goal.value:.0%} short"
    return f"{f.value / f.goal.value:.1f}x the limit"


def _why(f: Figure, raw: dict[str, float]) -> str:
    assert f.value is not None and f.goal is not None
    to_raw = raw.get(f.model)
    if f.comparison.startswith("embed() ÷ ") and f.comparison != RAW and to_raw:
        baseline = f.comparison.removeprefix("embed() ÷ ")
        ceiling = f.value / to_raw  # raw forward ÷ this baseline
        name = "the naive loop" if "naive" in baseline else baseline.replace(", ", " (") + ")"
        kind = ("on CPU a forward's cost grows with its tokens and batching saves little per token"
                if "naive" in baseline else "the forward pass dominates both sides")
        return (f"The raw batched forward itself is only about {ceiling:.2f}x {name} here "
                f"({f.value:.2f}x ÷ {to_raw:.2f}x, the embed() ÷ raw forward ratio of section 1): {kind}. "
                f"{f.goal.value:g}x would need embed() at {f.goal.value / ceiling:.2f}x the raw forward.")
    if f.comparison == RAW and f.model.startswith("ulmfit"):
        return ("The stand-in's network is tiny (64-wide embeddings, 256-wide LSTMs): its forward takes tens "
                "of microseconds per word, so embed()'s fixed per-word work (word alignment, every layer copied "
                "into float32 arrays per sentence) is a visible share; see the words/s in section 4.")
    if f.comparison.startswith("warm run"):
        return (f"The embedding work a warm run skips was {1 - f.value:.0%} of the cold run; what remains is "
                "fixed per run: starting Python, importing torch and transformers, loading each model, reading "
                "datasets and scoring and bootstrapping every cell.")
    return "Not analysed: see the section's table."


def missed_goals(figures: list[Figure]) -> list[str]:
    """Markdown lines: a heading and one bullet per missed goal (empty when every goal is met)."""
    raw = {f.model: f.value for f in figures if f.comparison == RAW and f.value}
    missed = [f for f in figures if f.met is False]
    if not missed:
        return []
    lines = ["## Goals missed: by how much, and why", ""]
    for f in missed:
        assert f.value is not None and f.goal is not None
        unit = f.unit if f.unit is not None else f.goal.unit
        lines.append(f"- **{f.comparison}, {f.model}**: {f.value:.2f}{unit} against {f.goal.text} "
                     f"({_shortfall(f)}). {_why(f, raw)}")
    return [*lines, ""]
