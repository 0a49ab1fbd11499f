"""A significance-aware ranking: models share a rank unless the data separate them.

A leaderboard that prints a strict order 1..N invites readers to trust gaps the test set
cannot resolve. When the MTEB (eng, v2) leaderboard was treated as a paired experiment, the
neighbours on it could almost never be told apart at the 5% level, although distant models
could (embeddings-benchmark/mteb#5208); its maintainers added that a mean over tasks with
different metrics is a fragile summary and that resampling within each task is worth
considering (embeddings-benchmark/mteb#5117). ctxbench therefore ranks with ties.

The rule, for each task kind (similarity, analogy, context, classification) and overall:

1. **Models.** Every model with a usable cell of the kind (finished, a layer selected without
   the test items, per-item scores stored, and a comparable protocol: an analogy fallback
   marked † is not) is ranked. Floors (side "floor") are ranked like the rest and marked.
2. **Tasks.** Only the kind's tasks that EVERY ranked model has are used (the others are
   listed with the models that lack them). Tasks scored lower-is-better are not averaged with
   the rest and are listed as not used. Overall: the models ranked in every kind, and per kind
   the tasks all of them have.
3. **Items.** Per task, the items every ranked model scored (the intersection of the
   selected layers' held-out items), so all models are measured on the same items.
4. **Score.** A model's score for a kind is the mean over the kind's tasks of its metric on
   those items (the selected layer's score when every model scored every item); overall, the
   mean over kinds of the kind scores (each kind weighs the same, whatever its task count).
5. **Uncertainty.** One paired bootstrap (``n_boot`` replicates): in each replicate every
   task's items are resampled by the task's own unit (items, whole words, or items within
   words: ``ItemScores.groups``/``scheme``; :mod:`bench.stats`), independently across tasks
   but identically for every model, and the score is recomputed. A model's 95% CI is the
   percentile interval of its replicates; for a pair (a, b) the difference a - b has a
   percentile CI and a two-sided bootstrap p-value (twice the share of replicates at 0 or on
   the other side of 0 from the observed difference, at most 1; replicates where a metric is
   undefined, e.g. a Spearman over constant scores, are dropped).
6. **Multiplicity.** The p-values of ALL pairs of a kind (and, separately, overall) are
   adjusted together by Holm's method (Holm 1979). A pair is *separated* when the adjusted p
   is below 0.05 AND the CI excludes 0 (the headline's rule).
7. **Rank** = 1 + the number of models separated from it and ahead of it. Models no one is
   separated from share rank 1; ties share a rank; ranks need not be consecutive.

The paired bootstrap for NLP system comparisons follows Berg-Kirkpatrick, Burkett & Klein
(2012, EMNLP), "An Empirical Investigation of Statistical Significance in NLP".

Examples
--------
>>> from bench.cell import Cell
>>> def c(name, pred):
...     ids = [str(i) for i in range(len(pred))]
...     return Cell.from_dict({"key": f"{name}::t#1", "slot": f"{name}::t", "embedder": name, "task": "t",
...         "status": "ok", "embedder_info": {"family": "other", "contextual": False},
...         "task_meta": {"kind": "context", "metric": "accuracy"},
...         "selection": {"layer": "L", "criterion": "c", "value": sum(pred) / len(pred), "ci_low": 0,
...                       "ci_high": 1, "n": len(pred), "split": "test",
...                       "items": {"ids": ids, "pred": pred, "metric": "accuracy"}}})
>>> good, bad = [1.0] * 90 + [0.0] * 10, [1.0] * 50 + [0.0] * 50
>>> (ctx,) = [r for r in rank_models([c("a", good), c("b", bad), c("c", good[::-1])], n_boot=200)
...           if r.scope == "context"]
>>> [(e.model, e.rank) for e in ctx.entries]  # a and c are tied at the top, b is separated from both
[('a', 1), ('c', 1), ('b', 3)]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bench.cell import Cell, canonical_order
from bench.headline import comparable, coverage
from bench.models import model_label, side
from bench.stats import METRICS, _replicates, holm, statistic
from bench.tables import fmt, md_table

__all__ = ["ALPHA", "KINDS", "Entry", "Pair", "Ranking", "rank_models", "ranking_frame", "render_ranking"]

#: the kinds ranked separately, in this order (other kinds with selected layers follow, sorted)
KINDS = ("similarity", "analogy", "context", "classification")
ALPHA = 0.05
OVERALL = "overall"


@dataclass(frozen=True)
class Pair:
    """The paired comparison of two models: ``diff`` = score(a) - score(b)."""

    a: str
    b: str
    diff: float
    ci_low: float
    ci_high: float
    p: float
    p_adjusted: float = float("nan")

    @property
    def separated(self) -> bool:
        """Adjusted p below :data:`ALPHA` and a CI that excludes 0."""
        return bool(self.p_adjusted < ALPHA and (self.ci_low > 0 or self.ci_high < 0))

    @property
    def ahead(self) -> str:
        """The model ahead when separated, else ''."""
        return (self.a if self.diff > 0 else self.b) if self.separated else ""


@dataclass(frozen=True)
class Entry:
    """One ranked model."""

    model: str
    label: str
    side: str
    score: float
    ci_low: float
    ci_high: float
    rank: int
    #: the models it is separated from and ahead of / behind
    ahead_of: tuple[str, ...] = ()
    behind: tuple[str, ...] = ()
    #: the lowest coverage (items scored / attempted) among the cells its score uses
    min_coverage: float = float("nan")

    @property
    def floor(self) -> bool:
        return self.side == "floor"


@dataclass(frozen=True)
class Ranking:
    """The ranking of one scope: a task kind, or ``"overall"``."""

    scope: str
    #: per kind, the tasks used (one kind for a kind's ranking)
    tasks: tuple[tuple[str, tuple[str, ...]], ...]
    entries: tuple[Entry, ...]
    pairs: tuple[Pair, ...]
    #: items every ranked model scored, per task used
    items: tuple[tuple[str, int], ...] = ()
    #: (task or model, why it is not part of this ranking)
    excluded: tuple[tuple[str, str], ...] = ()
    n_boot: int = 1000
    seed: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def task_names(self) -> list[str]:
        return [t for _, ts in self.tasks for t in ts]


# -- the data behind one ranking ---------------------------------------------------------------
@dataclass(frozen=True)
class _TaskData:
    """Per-item arrays of one task for the ranked models, on the items all of them scored."""

    task: str
    preds: list[np.ndarray]
    gold: np.ndarray
    groups: np.ndarray | None
    scheme: str
    metric: str


def _task_data(task: str, cells: list[Cell]) -> _TaskData | str:
    """Align the models' selected-layer items on the ids all of them scored; else why not."""
    items = [c.selection.items for c in cells if c.selection is not None and c.selection.items is not None]
    if len(items) != len(cells):
        return "no per-item scores"
    first = items[0]
    if len({it.metric for it in items}) > 1 or len({it.scheme for it in items}) > 1:
        return "the models' per-item scores use different metrics or resampling units"
    common = set(first.ids)
    for it in items[1:]:
        common &= set(it.ids)
    ids = [i for i in dict.fromkeys(first.ids) if i in common]
    if len(ids) < 3:
        return "fewer than 3 items scored by every ranked model"
    preds = []
    for it in items:
        pos = {i: k for k, i in enumerate(it.ids)}
        preds.append(np.array(it.pred, float)[[pos[i] for i in ids]])
    pos0 = {i: k for k, i in enumerate(first.ids)}
    sel0 = [pos0[i] for i in ids]
    gold = np.array(first.gold, float)[sel0] if first.gold else np.zeros(len(ids))
    groups = np.array(first.groups)[sel0] if first.groups else None
    scheme = first.scheme if groups is not None else "item"
    return _TaskData(task, preds, gold, groups, scheme, first.metric)


def _scores(data: dict[str, list[_TaskData]], *, n_boot: int, task_seed: dict[str, int]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Point scores (M,) and bootstrap replicates (n_boot, M): mean over kinds of the mean over tasks."""
    kind_points, kind_reps = [], []
    for tds in data.values():
        points, reps = [], []
        for td in tds:
            metric = METRICS[td.metric]
            points.append([statistic(metric, p, td.gold, groups=td.groups, scheme=td.scheme) for p in td.preds])
            per_model = _replicates(metric, td.preds, td.gold, td.groups, td.scheme, n_boot, task_seed[td.task])
            reps.append(np.stack(per_model, axis=1))
        kind_points.append(np.mean(points, axis=0))
        kind_reps.append(np.mean(reps, axis=0))
    return np.mean(kind_points, axis=0), np.mean(kind_reps, axis=0)


def _pair(a: str, b: str, observed: float, reps: np.ndarray) -> Pair:
    d = reps[np.isfinite(reps)]
    if not len(d) or math.isnan(observed):
        return Pair(a, b, observed, float("nan"), float("nan"), float("nan"))
    p = min(1.0, 2 * float(np.mean(d <= 0) if observed > 0 else np.mean(d >= 0)))
    return Pair(a, b, float(observed), float(np.quantile(d, ALPHA / 2)), float(np.quantile(d, 1 - ALPHA / 2)), p)


def _rank(scope: str, models: list[str], data: dict[str, list[_TaskData]], usable: dict[tuple[str, str], Cell],
          *, n_boot: int, seed: int, task_seed: dict[str, int], excluded: list[tuple[str, str]]) -> Ranking:
    point, reps = _scores(data, n_boot=n_boot, task_seed=task_seed)
    pairs = [_pair(models[i], models[j], float(point[i] - point[j]), reps[:, i] - reps[:, j])
             for i in range(len(models)) for j in range(i + 1, len(models))]
    adjusted = holm([p.p for p in pairs])
    pairs = [Pair(p.a, p.b, p.diff, p.ci_low, p.ci_high, p.p, q) for p, q in zip(pairs, adjusted, strict=True)]
    ahead_of: dict[str, list[str]] = {m: [] for m in models}
    behind: dict[str, list[str]] = {m: [] for m in models}
    for p in pairs:
        if p.separated:
            winner, loser = (p.a, p.b) if p.diff > 0 else (p.b, p.a)
            ahead_of[winner].append(loser)
            behind[loser].append(winner)
    tasks = {t for tds in data.values() for t in (td.task for td in tds)}
    entries = []
    for k, m in enumerate(models):
        col = reps[:, k][np.isfinite(reps[:, k])]
        lo, hi = (float(np.quantile(col, ALPHA / 2)), float(np.quantile(col, 1 - ALPHA / 2))) if len(col) else \
            (float("nan"), float("nan"))
        info = next(c.embedder_info for (e, _), c in usable.items() if e == m)
        covs = [coverage(usable[(m, t)]) for t in sorted(tasks)]
        covs = [c for c in covs if not math.isnan(c)]
        entries.append(Entry(m, info.get("label") or model_label(m), side(info), float(point[k]), lo, hi,
                             1 + len(behind[m]), tuple(ahead_of[m]), tuple(behind[m]),
                             min(covs) if covs else float("nan")))
    order = {m: k for k, m in enumerate(models)}
    entries.sort(key=lambda e: (e.rank, -e.score if not math.isnan(e.score) else math.inf, order[e.model]))
    return Ranking(scope, tuple((k, tuple(td.task for td in tds)) for k, tds in data.items()), tuple(entries),
                   tuple(pairs), tuple((td.task, len(td.gold)) for tds in data.values() for td in tds),
                   tuple(excluded), n_boot, seed)


def _select(kind_tasks: list[str], models: list[str], usable: dict[tuple[str, str], Cell]
            ) -> tuple[list[_TaskData], list[tuple[str, str]]]:
    """The kind's tasks every model has, aligned; the others with the reason they are left out."""
    used, excluded = [], []
    for t in kind_tasks:
        missing = [m for m in models if (m, t) not in usable]
        if missing:
            excluded.append((t, "no usable cell for " + ", ".join(missing)))
            continue
        td = _task_data(t, [usable[(m, t)] for m in models])
        if isinstance(td, str):
            excluded.append((t, td))
            continue
        used.append(td)
    return used, excluded


def rank_models(cells: Sequence[Cell], *, n_boot: int = 1000, seed: int = 0) -> list[Ranking]:
    """Rankings per task kind (:data:`KINDS` first) and overall, by the rule in the module docstring.

    Deterministic: the models and tasks are taken in :func:`~bench.cell.canonical_order` and each
    task's resampling is seeded with ``seed`` plus the task's position in that order.
    """
    ok = [c for c in cells if c.ok]
    embs, tasks = canonical_order(ok)
    task_seed = {t: seed + k for k, t in enumerate(tasks)}
    meta = {c.task: c.task_meta for c in ok if c.task_meta}
    usable = {(c.embedder, c.task): c for c in ok
              if c.selection is not None and c.selection.items is not None and comparable(c)}
    with_selection = {t for (_, t) in usable}
    found = sorted({meta.get(t, {}).get("kind", "") for t in with_selection} - set(KINDS) - {""})
    rankings: list[Ranking] = []
    per_kind: dict[str, tuple[list[str], list[str]]] = {}
    for kind in (*KINDS, *found):
        ktasks = [t for t in tasks if t in with_selection and meta.get(t, {}).get("kind") == kind]
        if not ktasks:
            continue
        excluded = [(t, "lower is better: not averaged with the other tasks") for t in ktasks
                    if not meta.get(t, {}).get("higher_is_better", True)]
        ktasks = [t for t in ktasks if meta.get(t, {}).get("higher_is_better", True)]
        models = [e for e in embs if any((e, t) in usable for t in ktasks)]
        used, dropped = _select(ktasks, models, usable)
        excluded += dropped
        if not used or not models:
            rankings.append(Ranking(kind, (), (), (), (), tuple(excluded), n_boot, seed,
                                    ("no task that every model has: nothing to rank",)))
            continue
        per_kind[kind] = (models, ktasks)
        rankings.append(_rank(kind, models, {kind: used}, usable, n_boot=n_boot, seed=seed, task_seed=task_seed,
                              excluded=excluded))
    if per_kind:
        everywhere = [e for e in embs if all(e in ms for ms, _ in per_kind.values())]
        excluded = [(e, "not ranked in every kind (missing: " + ", ".join(k for k, (ms, _) in per_kind.items()
                                                                         if e not in ms) + ")")
                    for e in embs if e not in everywhere and any(e in ms for ms, _ in per_kind.values())]
        data: dict[str, list[_TaskData]] = {}
        for kind, (_, ktasks) in per_kind.items():
            used, dropped = _select(ktasks, everywhere, usable)
            excluded += [(t, f"{kind}: {why}") for t, why in dropped]
            if used:
                data[kind] = used
        if data and everywhere:
            rankings.append(_rank(OVERALL, everywhere, data, usable, n_boot=n_boot, seed=seed, task_seed=task_seed,
                                  excluded=excluded))
    return rankings


# -- output ------------------------------------------------------------------------------------
RULE = (
    "Two models share a rank unless the data separate them. Per task kind, a model's score is the mean over "
    "the kind's tasks of its selected layer's metric, on the items every ranked model scored; only tasks "
    "every ranked model has are used. Overall: the mean of the kind scores, for the models ranked in every "
    "kind. One paired bootstrap resamples every task's items by the task's own unit (items, whole words, or "
    "items within words), the same resample for every model; each pair's difference gets a 95% CI and a "
    "two-sided bootstrap p-value, the p-values of all pairs in a table are adjusted together by Holm's "
    "method, and a pair is separated only when the adjusted p < 0.05 and the CI excludes 0. "
    "Rank = 1 + the number of models separated from it and ahead of it, so ties share a rank. Floors "
    "(random vectors) take part and are marked. Why: on a leaderboard read as a paired experiment, "
    "neighbouring models are usually not separable (MTEB: embeddings-benchmark/mteb#5208), so a strict "
    "order would claim more than the data show. Full rule: bench/ranking.py."
)


def _p(p: float, n_boot: int) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"< {1 / n_boot:g}" if p < 1 / n_boot else f"{p:.3f}"


def _cov(c: float) -> str:
    if math.isnan(c):
        return "–"
    return f"{c:.0%}" + (" ⚠" if c < 0.9 else "")


def entry_rows(r: Ranking) -> tuple[list[str], list[list[str]]]:
    """Header and display rows of one ranking (shared by Markdown and HTML)."""
    header = ["rank", "model", "what it is", "side", "score [95% CI]", "separated from and ahead of",
              "lowest coverage"]
    rows = [[str(e.rank), e.model + (" (floor)" if e.floor else ""), e.label, e.side,
             f"{fmt(e.score)} [{fmt(e.ci_low)}, {fmt(e.ci_high)}]", ", ".join(e.ahead_of) or "–", _cov(e.min_coverage)]
            for e in r.entries]
    return header, rows


def pair_rows(r: Ranking) -> tuple[list[str], list[list[str]]]:
    """Header and display rows of a ranking's pairwise tests."""
    header = ["a", "b", "a - b [95% CI]", "p", "p (Holm)", "verdict"]
    rows = [[p.a, p.b, f"{p.diff:+.3f} [{fmt(p.ci_low)}, {fmt(p.ci_high)}]" if not math.isnan(p.diff) else "–",
             _p(p.p, r.n_boot), _p(p.p_adjusted, r.n_boot),
             f"{p.ahead} ahead" if p.separated else "not separated"] for p in r.pairs]
    return header, rows


def scope_description(r: Ranking) -> str:
    """Which tasks (and items) a ranking rests on, and what it leaves out."""
    n = dict(r.items)
    parts = []
    for kind, ts in r.tasks:
        listed = ", ".join(f"{t} ({n[t]} items)" for t in ts)
        parts.append(f"{kind}: {listed}" if r.scope == OVERALL else listed)
    text = ("Tasks: " + "; ".join(parts) + "." if parts else "")
    if r.excluded:
        text += " Not used: " + "; ".join(f"{what} ({why})" for what, why in r.excluded) + "."
    if r.pairs:
        text += f" {len(r.pairs)} pairs, Holm-adjusted together; {r.n_boot} bootstrap replicates."
    for note in r.notes:
        text += f" {note[0].upper()}{note[1:]}."
    return text.strip()


def render_ranking(rankings: Sequence[Ranking]) -> str:
    """results/ranking.md."""
    out = ["# Ranking, with ties where the data cannot separate models", "", RULE, ""]
    if not rankings:
        out.append("No task with a selected layer and per-item scores: nothing to rank.")
    for r in rankings:
        out += [f"## {r.scope}", "", scope_description(r), ""]
        if r.entries:
            out += [md_table(*entry_rows(r)), ""]
        if r.pairs:
            out += ["Pairwise differences:", "", md_table(*pair_rows(r)), ""]
    return "\n".join(out).rstrip() + "\n"


CSV_COLUMNS = ["scope", "rank", "model", "label", "side", "floor", "score", "ci_low", "ci_high", "ahead_of",
               "behind", "min_coverage", "tasks", "n_boot"]


def ranking_frame(rankings: Sequence[Ranking]) -> pd.DataFrame:
    """results/ranking.csv: one row per (scope, model)."""
    rows: list[dict[str, Any]] = []
    for r in rankings:
        for e in r.entries:
            rows.append({"scope": r.scope, "rank": e.rank, "model": e.model, "label": e.label, "side": e.side,
                         "floor": e.floor, "score": e.score, "ci_low": e.ci_low, "ci_high": e.ci_high,
                         "ahead_of": ";".join(e.ahead_of), "behind": ";".join(e.behind),
                         "min_coverage": e.min_coverage, "tasks": ";".join(r.task_names), "n_boot": r.n_boot})
    return pd.DataFrame(rows, columns=CSV_COLUMNS)
