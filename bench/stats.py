"""Statistics: rank correlation, percentile-bootstrap confidence intervals, multiplicity adjustment.

All resampling is seeded; the same inputs always give the same interval. Resampling follows
the unit a task split its data on (``scheme``):

- ``"item"``: items are resampled (word pairs, WiC pairs, analogy questions);
- ``"cluster"``: whole groups are resampled with all their items (the probes, whose test
  split is made by word: resampling sentences would pretend the sentences of one word are
  independent, and give intervals that are too narrow);
- ``"stratified"``: items are resampled within each group and the statistic is the mean over
  groups of the per-group metric (CoarseWSD-20: a macro average over its 20 words).

>>> import numpy as np
>>> x = np.arange(50.0); y = x + np.random.default_rng(0).normal(0, 5, 50)
>>> rho = spearman(x, y); low, high = bootstrap_ci(spearman, x, y, seed=0)
>>> bool(low < rho < high)
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import rankdata

Metric = Callable[..., float]


def spearman(pred: np.ndarray, gold: np.ndarray) -> float:
    """Spearman's rho (Pearson on average ranks; ties averaged, as scipy does)."""
    pred, gold = np.asarray(pred, float), np.asarray(gold, float)
    if len(pred) < 2:
        return float("nan")
    return _pearson(rankdata(pred), rankdata(gold))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def pearson(pred: np.ndarray, gold: np.ndarray) -> float:
    return _pearson(np.asarray(pred, float), np.asarray(gold, float))


def accuracy(correct: np.ndarray, _gold: np.ndarray | None = None) -> float:
    """Mean of a 0/1 vector (the second argument is ignored, for a uniform signature)."""
    correct = np.asarray(correct, float)
    return float(correct.mean()) if len(correct) else float("nan")


METRICS: dict[str, Metric] = {"spearman": spearman, "pearson": pearson, "accuracy": accuracy}


def _batched_spearman(pred: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Spearman of each row pair of (B, n) arrays."""
    rp = rankdata(pred, axis=1)
    rg = rankdata(gold, axis=1)
    rp -= rp.mean(axis=1, keepdims=True)
    rg -= rg.mean(axis=1, keepdims=True)
    denom = np.sqrt((rp * rp).sum(1) * (rg * rg).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho: np.ndarray = (rp * rg).sum(1) / denom
        return rho


def _resample_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """(B, n) how often each of n items was drawn in each of B resamples ``idx`` (B, m)."""
    b = idx.shape[0]
    flat = (idx + (np.arange(b) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)


def _resample_ranks(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(B, n) the average rank each item gets within each resample (its copies tie).

    Equal to ``rankdata(values[idx], axis=1)`` read back per item, without sorting each
    resample: the items are sorted once, and an item's rank in a resample is the number of
    drawn items below its value plus half (the number drawn equal to it, + 1).
    """
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
    group_of_sorted = np.cumsum(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]]) - 1
    totals = np.add.reduceat(counts[:, order], starts, axis=1)  # (B, groups) drawn per tie group
    avg = np.cumsum(totals, axis=1) - totals + (totals + 1) / 2
    group = np.empty(len(values), dtype=int)
    group[order] = group_of_sorted
    ranks: np.ndarray = avg[:, group]
    return ranks


def _resampled_spearman(pred: np.ndarray, gold: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Spearman of ``pred[i]`` vs ``gold[i]`` for each resample ``i`` of ``idx`` (B, m).

    The same as :func:`_batched_spearman` on ``pred[idx], gold[idx]`` (to float rounding)
    in O(B x n) with no sort per resample: each item enters with the number of times it
    was drawn as its weight, and the mean rank of a resample of m items is (m + 1) / 2.
    """
    counts = _resample_counts(idx, len(pred))
    m = idx.shape[1]
    rp = _resample_ranks(pred, counts) - (m + 1) / 2
    rg = _resample_ranks(gold, counts) - (m + 1) / 2
    denom = np.sqrt((counts * rp * rp).sum(1) * (counts * rg * rg).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho: np.ndarray = (counts * rp * rg).sum(1) / denom
        return rho


SCHEMES = ("item", "cluster", "stratified")


def statistic(metric: Metric, pred: np.ndarray, gold: np.ndarray | None = None, *,
              groups: np.ndarray | None = None, scheme: str = "item") -> float:
    """The metric of ``pred`` against ``gold``; for ``scheme="stratified"`` the mean over groups.

    >>> statistic(accuracy, np.array([1.0, 1.0, 0.0, 1.0]), groups=np.array(["a", "a", "a", "b"]),
    ...           scheme="stratified")
    0.8333333333333333
    """
    pred = np.asarray(pred, float)
    gold_arr = np.asarray(gold, float) if gold is not None else np.zeros(len(pred))
    if scheme != "stratified":
        return metric(pred, gold_arr)
    g = _groups(groups, len(pred))
    return float(np.mean([metric(pred[g == u], gold_arr[g == u]) for u in np.unique(g)]))


def _groups(groups: np.ndarray | None, n: int) -> np.ndarray:
    if groups is None:
        raise ValueError("a cluster or stratified bootstrap needs the group of every item")
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"{len(g)} group labels for {n} items")
    return g


def _replicates(metric: Metric, preds: list[np.ndarray], gold: np.ndarray, groups: np.ndarray | None,
                scheme: str, n_boot: int, seed: int) -> list[np.ndarray]:
    """Per system, the statistic in each of ``n_boot`` replicates; all systems see the same resamples."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    n = len(gold)
    rng = np.random.default_rng(seed)
    if scheme == "item":
        idx = rng.integers(0, n, size=(n_boot, n))
        if metric is spearman:
            return [_resampled_spearman(p, gold, idx) for p in preds]
        if metric is accuracy:
            return [p[idx].mean(1) for p in preds]
        return [np.array([metric(p[i], gold[i]) for i in idx]) for p in preds]
    g = _groups(groups, n)
    units, inverse = np.unique(g, return_inverse=True)
    members = [np.flatnonzero(inverse == k) for k in range(len(units))]
    if scheme == "cluster":
        picks = rng.integers(0, len(units), size=(n_boot, len(units)))
        if metric is accuracy:  # ratio of sums over the drawn groups: vectorised
            counts = np.zeros((n_boot, len(units)))
            np.add.at(counts, (np.arange(n_boot)[:, None], picks), 1.0)
            sizes = np.array([len(m) for m in members], float)
            return [counts @ np.array([p[m].sum() for m in members]) / (counts @ sizes) for p in preds]
        out = []
        for p in preds:
            reps = []
            for row in picks:
                i = np.concatenate([members[k] for k in row])
                reps.append(metric(p[i], gold[i]))
            out.append(np.array(reps))
        return out
    # stratified: resample within each group, average the per-group metric
    totals = [np.zeros(n_boot) for _ in preds]
    for m in members:
        idx = m[rng.integers(0, len(m), size=(n_boot, len(m)))]
        for t, p in zip(totals, preds, strict=True):
            if metric is accuracy:
                t += p[idx].mean(1)
            elif metric is spearman:
                local = np.searchsorted(m, idx)  # m is sorted: positions within the group
                t += _resampled_spearman(p[m], gold[m], local)
            else:
                t += np.array([metric(p[i], gold[i]) for i in idx])
    return [t / len(members) for t in totals]


def bootstrap_ci(metric: Metric, pred: np.ndarray, gold: np.ndarray | None = None, *,
                 n_boot: int = 1000, alpha: float = 0.05, seed: int = 0,
                 groups: np.ndarray | None = None, scheme: str = "item") -> tuple[float, float]:
    """Percentile bootstrap CI of the metric, resampling by ``scheme`` (see the module docstring)."""
    pred = np.asarray(pred, float)
    n = len(pred)
    if n < 3 or (scheme != "item" and groups is not None and len(np.unique(groups)) < 2):
        return float("nan"), float("nan")
    gold_arr = np.asarray(gold, float) if gold is not None else np.zeros(n)
    (stats,) = _replicates(metric, [pred], gold_arr, groups, scheme, n_boot, seed)
    stats = stats[np.isfinite(stats)]
    if not len(stats):
        return float("nan"), float("nan")
    return float(np.quantile(stats, alpha / 2)), float(np.quantile(stats, 1 - alpha / 2))


def paired_bootstrap_diff(metric: Metric, pred_a: np.ndarray, pred_b: np.ndarray, gold: np.ndarray | None = None,
                          *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0,
                          groups: np.ndarray | None = None, scheme: str = "item") -> dict[str, float]:
    """Difference metric(a) - metric(b) on the same items, with a paired bootstrap CI.

    Both systems are scored on the SAME resamples in each replicate (resampled by
    ``scheme``); ``p`` is the share of replicates where the difference has the opposite
    sign of the observed one (a two-sided bootstrap p-value, doubled and capped at 1).
    """
    pred_a, pred_b = np.asarray(pred_a, float), np.asarray(pred_b, float)
    if pred_a.shape != pred_b.shape:
        raise ValueError(f"paired comparison needs the same items: {pred_a.shape} vs {pred_b.shape}")
    n = len(pred_a)
    gold_arr = np.asarray(gold, float) if gold is not None else np.zeros(n)
    observed = (statistic(metric, pred_a, gold_arr, groups=groups, scheme=scheme)
                - statistic(metric, pred_b, gold_arr, groups=groups, scheme=scheme))
    if n < 3:
        return {"diff": observed, "ci_low": float("nan"), "ci_high": float("nan"), "p": float("nan"), "n": n}
    a, b = _replicates(metric, [pred_a, pred_b], gold_arr, groups, scheme, n_boot, seed)
    diffs = a - b
    diffs = diffs[np.isfinite(diffs)]
    p = min(1.0, 2 * float(np.mean(diffs <= 0) if observed > 0 else np.mean(diffs >= 0)))
    return {"diff": float(observed), "ci_low": float(np.quantile(diffs, alpha / 2)),
            "ci_high": float(np.quantile(diffs, 1 - alpha / 2)), "p": p, "n": n}


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (NaN stays NaN).

    Controls the family-wise error rate without assuming independence (Holm 1979).

    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03, float("nan")])]
    [0.03, 0.06, 0.06, nan]
    """
    idx = [i for i, p in enumerate(pvalues) if p == p]
    order = sorted(idx, key=lambda i: pvalues[i])
    m = len(order)
    out = [float("nan")] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out
