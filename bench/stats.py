"""Statistics: rank correlation and percentile-bootstrap confidence intervals.

All resampling is seeded; the same inputs always give the same interval.

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
        return (rp * rg).sum(1) / denom


def bootstrap_ci(metric: Metric, pred: np.ndarray, gold: np.ndarray | None = None, *,
                 n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of ``metric(pred, gold)``, resampling items with replacement."""
    pred = np.asarray(pred, float)
    n = len(pred)
    if n < 3:
        return float("nan"), float("nan")
    gold_arr = np.asarray(gold, float) if gold is not None else np.zeros(n)
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    if metric is spearman:
        stats = _batched_spearman(pred[idx], gold_arr[idx])
    elif metric is accuracy:
        stats = pred[idx].mean(axis=1)
    else:
        stats = np.array([metric(pred[i], gold_arr[i]) for i in idx])
    stats = stats[np.isfinite(stats)]
    if not len(stats):
        return float("nan"), float("nan")
    return float(np.quantile(stats, alpha / 2)), float(np.quantile(stats, 1 - alpha / 2))


def paired_bootstrap_diff(metric: Metric, pred_a: np.ndarray, pred_b: np.ndarray, gold: np.ndarray | None = None,
                          *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> dict[str, float]:
    """Difference metric(a) - metric(b) on the same items, with a paired bootstrap CI.

    Both systems are scored on the SAME resampled items in each replicate; ``p`` is the
    share of replicates where the difference has the opposite sign of the observed one
    (a two-sided bootstrap p-value, doubled and capped at 1).
    """
    pred_a, pred_b = np.asarray(pred_a, float), np.asarray(pred_b, float)
    if pred_a.shape != pred_b.shape:
        raise ValueError(f"paired comparison needs the same items: {pred_a.shape} vs {pred_b.shape}")
    n = len(pred_a)
    gold_arr = np.asarray(gold, float) if gold is not None else np.zeros(n)
    observed = metric(pred_a, gold_arr) - metric(pred_b, gold_arr)
    if n < 3:
        return {"diff": observed, "ci_low": float("nan"), "ci_high": float("nan"), "p": float("nan"), "n": n}
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    if metric is spearman:
        diffs = _batched_spearman(pred_a[idx], gold_arr[idx]) - _batched_spearman(pred_b[idx], gold_arr[idx])
    elif metric is accuracy:
        diffs = pred_a[idx].mean(1) - pred_b[idx].mean(1)
    else:
        diffs = np.array([metric(pred_a[i], gold_arr[i]) - metric(pred_b[i], gold_arr[i]) for i in idx])
    diffs = diffs[np.isfinite(diffs)]
    p = min(1.0, 2 * float(np.mean(diffs <= 0) if observed > 0 else np.mean(diffs >= 0)))
    return {"diff": float(observed), "ci_low": float(np.quantile(diffs, alpha / 2)),
            "ci_high": float(np.quantile(diffs, 1 - alpha / 2)), "p": p, "n": n}
