"""The SentEval protocol for frozen sentence features, as pure numpy / scikit-learn functions.

Conneau & Kiela 2018 (SentEval) score a sentence encoder by fitting a logistic regression on
its frozen features; only the regularisation strength C is tuned, and never on test items:

- MR, CR, SUBJ, MPQA (no split): :func:`kfold_accuracy`, stratified outer k-fold
  cross-validation; in each outer fold C is chosen by an inner stratified cross-validation
  on that fold's training part, and the model refit on the whole training part predicts
  the held-out fold. Each item is predicted once, by the fold that held it out.
- TREC (train / test): :func:`train_test_accuracy` with C chosen by cross-validation on
  train; SST-2 (train / dev / test): the same with C chosen on dev (``dev=(X, y)``).

Every fit is ``StandardScaler -> LogisticRegression`` (an sklearn ``Pipeline``), so the
standardisation is learnt from the rows that fit and nothing else: the inner folds' train
parts during the C search, the outer training part for the final model. (SentEval itself
does not standardise; with standardised features one C grid suits every encoder's scale.)
Ties in the C search go to the smallest C (the strongest regularisation). Accuracy comes
with a 95% percentile-bootstrap CI over the scored items (:func:`bench.stats.bootstrap_ci`);
for k-fold that is every item, each with the prediction of its own held-out fold.
Everything is seeded: the same inputs and seed give the same folds, Cs and predictions.

Two named settings (:data:`PROTOCOLS`), so a table can say which produced a number:
``senteval`` has SentEval's folds (10 outer, 10 inner, as its default ``kfold=10``) and
all items; ``senteval-quick`` is for the default suite's time budget (5 outer and 3 inner
folds, as SentEval's "prototyping" ``kfold=5``; 4 Cs; at most 2,000 items, or 2,000
training items, drawn by a stable hash of the item id, the same for every model).

The C grid is not SentEval's. Its grids (2^-2..2^3; 2^-1..2^5 for TREC) suit its raw
features; on standardised features the best C is much smaller. Measured on MR with
all-MiniLM-L6-v2 mean-pooled features (384-d), grid 2^-12..2^3: on a 2,000-item sample
(5 x 3 folds) the inner-CV accuracy peaks at C = 2^-11..2^-9 (0.761 at the last layer,
0.697 at C = 2^-2, 0.680 at 2^3); on all 10,662 items (10 x 10 folds) the peak is at
2^-9..2^-4 (0.764 last layer, 0.747 embedding layer) with a flat plateau above; GloVe 50d
peaks at 2^-7 on the MR sample, at 2^-4..2^0 on all of MR (0.703) and at 2^-1..2^0 on a
2,000-item CR sample. Hence ``senteval`` searches 2^-10..2^2 in 7 powers of 4 (SentEval
searches 6 or 7 points) and ``senteval-quick`` 2^-10..2^-1 in 4 powers of 8; a C chosen at
the edge of the grid is visible in ``chosen_C``.

Cost of the fits for one layer of 384-d features (2 busy CPU cores, one BLAS thread): MR
quick 2 s, full (all 10,662 items) 130-170 s; TREC-sized (6 classes) quick 3 s, full 26 s;
SST-2-sized quick 0.3 s, full (67,349 training items) 14 s.

Sentence features come from word vectors by :func:`pool_sentences` (mean by default, or
max, over the words; optionally averaged over layers).

Examples
--------
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 5)); y = (X[:, 0] > 0).astype(int)
>>> r = kfold_accuracy(X, y, n_folds=5, inner_folds=3, Cs=(0.1, 1.0))
>>> r.accuracy > 0.9, len(r.correct), len(r.chosen_C)
(True, 200, 5)
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import numpy as np

from bench.stats import accuracy as _accuracy
from bench.stats import bootstrap_ci
from bench.vectors.pooling import pool_sentences, pool_words

__all__ = [
    "Protocol",
    "PROTOCOLS",
    "SENTEVAL",
    "SENTEVAL_QUICK",
    "KFOLD_DATASETS",
    "ProtocolResult",
    "kfold_accuracy",
    "train_test_accuracy",
    "cv_accuracy_per_C",
    "hashed_subset",
    "pool_sentences",
    "pool_words",
]

#: datasets scored by k-fold cross-validation (the rest have a train/test split)
KFOLD_DATASETS = ("mr", "cr", "subj", "mpqa")
#: C grid of the full protocol: 4^-5 .. 4^1 (2^-10 .. 4). SentEval's own grids for its
#: scikit-learn logistic regression are 2^-2..2^3 (2^-1..2^5 for TREC) on raw features; on
#: standardised features the best C is far smaller (measured, see the module docstring), so
#: the grid reaches down to 2^-10 and keeps SentEval's number of points.
FULL_CS = tuple(4.0**t for t in range(-5, 2))
#: the quick protocol's grid: 4 points, a factor 8 apart, over the same range
QUICK_CS = (2.0**-10, 2.0**-7, 2.0**-4, 2.0**-1)


@dataclass(frozen=True)
class Protocol:
    """Named settings of the protocol; :meth:`settings_for` gives one dataset's keyword arguments.

    Attributes
    ----------
    name : str
        What tables print (``senteval``, ``senteval-quick``).
    n_folds : int
        Outer folds of the k-fold datasets.
    inner_folds : int
        Folds of the cross-validation that chooses C (k-fold datasets and TREC).
    Cs : tuple of float
        The C grid (every dataset).
    max_items : int or None
        k-fold datasets: at most this many items, drawn by a stable hash of their ids.
    max_train : int or None
        train/test datasets: at most this many training items, drawn the same way (dev and
        test are never capped).
    n_boot : int
        Bootstrap replicates of the CI.
    """

    name: str
    n_folds: int
    inner_folds: int
    Cs: tuple[float, ...]
    max_items: int | None = None
    max_train: int | None = None
    n_boot: int = 1000

    def settings_for(self, dataset: str) -> dict[str, Any]:
        """Keyword arguments of :func:`kfold_accuracy` or :func:`train_test_accuracy` for ``dataset``.

        >>> SENTEVAL_QUICK.settings_for("trec")["inner_folds"]
        3
        """
        if dataset in KFOLD_DATASETS:
            return {"n_folds": self.n_folds, "inner_folds": self.inner_folds, "Cs": self.Cs, "n_boot": self.n_boot}
        if dataset == "trec":
            return {"inner_folds": self.inner_folds, "Cs": self.Cs, "n_boot": self.n_boot}
        if dataset == "sst2":
            return {"Cs": self.Cs, "n_boot": self.n_boot}
        raise ValueError(f"no SentEval settings for {dataset!r}; datasets: {(*KFOLD_DATASETS, 'trec', 'sst2')}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


SENTEVAL = Protocol("senteval", n_folds=10, inner_folds=10, Cs=FULL_CS)
SENTEVAL_QUICK = Protocol("senteval-quick", n_folds=5, inner_folds=3, Cs=QUICK_CS, max_items=2000, max_train=2000)
PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (SENTEVAL, SENTEVAL_QUICK)}


@dataclass(frozen=True, eq=False)
class ProtocolResult:
    """Accuracy of one feature set under the protocol, with everything needed to audit it.

    Attributes
    ----------
    accuracy, ci_low, ci_high : float
        Accuracy over the scored items and its 95% percentile-bootstrap CI.
    correct : ndarray of bool, shape (n,)
        Per scored item (k-fold: every item; train/test: the test items), in input order.
    predictions : ndarray of int, shape (n,)
        The predicted labels.
    fold : ndarray of int, shape (n,)
        The outer fold that held each item out (all 0 for train/test).
    fold_accuracies : tuple of float
        Accuracy of each outer fold (train/test: one entry, the test accuracy).
    chosen_C : tuple of float
        The C chosen for each outer fold (train/test: one entry).
    selection_scores : tuple of tuple of float
        Per fold, the accuracy of each C of ``Cs`` in the search that chose it.
    Cs : tuple of float
        The grid searched.
    selection : str
        How C was chosen.
    not_converged : int
        Fits that stopped at ``max_iter`` (scikit-learn's ConvergenceWarning).
    """

    accuracy: float
    ci_low: float
    ci_high: float
    correct: np.ndarray
    predictions: np.ndarray
    fold: np.ndarray
    fold_accuracies: tuple[float, ...]
    chosen_C: tuple[float, ...]
    selection_scores: tuple[tuple[float, ...], ...]
    Cs: tuple[float, ...]
    selection: str
    not_converged: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.correct)

    def summary(self) -> dict[str, Any]:
        """The JSON-able part (no per-item arrays), for a TaskResult's ``extra``."""
        return {
            "accuracy": self.accuracy, "ci": [self.ci_low, self.ci_high], "n": self.n,
            "fold_accuracies": list(self.fold_accuracies), "chosen_C": list(self.chosen_C),
            "selection_scores": [list(s) for s in self.selection_scores], "Cs": list(self.Cs),
            "selection": self.selection, "not_converged": self.not_converged, **self.settings,
        }


# -- the classifier and the C search ---------------------------------------------------
F = TypeVar("F", bound=Callable[..., Any])


def _single_threaded(func: F) -> F:
    """Run with one BLAS/OpenMP thread: these fits are small, and on a loaded machine
    OpenBLAS's spinning threads made each one 30-60x slower (measured: 0.9-4.8 s against
    14-44 ms for a 1,600 x 384 fit on 2 busy cores)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _classifier(C: float, seed: int, max_iter: int) -> Any:  # an sklearn Pipeline (sklearn has no type hints)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, random_state=seed))


class _Fitter:
    """Fits pipelines and counts the fits that did not converge."""

    def __init__(self, seed: int, max_iter: int) -> None:
        self.seed, self.max_iter, self.not_converged = seed, max_iter, 0

    def fit(self, X: np.ndarray, y: np.ndarray, C: float) -> Any:
        from sklearn.exceptions import ConvergenceWarning

        clf = _classifier(C, self.seed, self.max_iter)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            clf.fit(X, y)
        self.not_converged += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        return clf


def _splits(y: np.ndarray, n_folds: int, seed: int, what: str) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    _, counts = np.unique(y, return_counts=True)
    if n_folds < 2:
        raise ValueError(f"{what}: n_folds must be at least 2, got {n_folds}")
    if counts.min() < n_folds:
        raise ValueError(
            f"{what}: the rarest class has {counts.min()} items, fewer than the {n_folds} folds; "
            f"use fewer folds or more items"
        )
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(skf.split(np.zeros(len(y)), y))


def _best_C(Cs: Sequence[float], scores: Sequence[float]) -> float:
    """The C with the best score; ties go to the smallest C."""
    best = max(scores)
    return min(c for c, s in zip(Cs, scores) if s >= best - 1e-12)


@_single_threaded
def cv_accuracy_per_C(
    X: np.ndarray, y: np.ndarray, Cs: Sequence[float], *, n_folds: int, seed: int = 0, max_iter: int = 1000,
    _fitter: _Fitter | None = None,
) -> tuple[float, ...]:
    """Mean accuracy over stratified ``n_folds`` folds of ``(X, y)`` for each C (SentEval's C search).

    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(120, 3)); y = (X[:, 1] > 0).astype(int)
    >>> [round(s, 2) for s in cv_accuracy_per_C(X, y, (0.001, 1.0), n_folds=3)][1] > 0.9
    True
    """
    X, y = np.asarray(X), np.asarray(y)
    fitter = _fitter or _Fitter(seed, max_iter)
    folds = _splits(y, n_folds, seed, "C search")
    scores = []
    for C in Cs:
        accs = [float((fitter.fit(X[tr], y[tr], C).predict(X[va]) == y[va]).mean()) for tr, va in folds]
        scores.append(float(np.mean(accs)))
    return tuple(scores)


def _check(X: np.ndarray, y: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"{what}: features must be 2-D (n_items, dim), got shape {X.shape}")
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"{what}: {len(X)} feature rows but labels of shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{what}: labels must be integers, got dtype {y.dtype}")
    if not np.isfinite(X).all():
        raise ValueError(f"{what}: features contain NaN or infinite values")
    return X, y


def _check_Cs(Cs: Sequence[float]) -> tuple[float, ...]:
    Cs = tuple(float(c) for c in Cs)
    if not Cs or min(Cs) <= 0:
        raise ValueError(f"Cs must be a non-empty sequence of positive numbers, got {Cs}")
    return Cs


def _with_ci(correct: np.ndarray, n_boot: int, seed: int) -> tuple[float, float, float]:
    low, high = bootstrap_ci(_accuracy, correct.astype(float), n_boot=n_boot, seed=seed)
    return _accuracy(correct), low, high


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


# -- the two protocols -----------------------------------------------------------------
@_single_threaded
def kfold_accuracy(
    features: np.ndarray, labels: np.ndarray, *, n_folds: int = 10, inner_folds: int = 5,
    Cs: Sequence[float] = FULL_CS, seed: int = 0, n_boot: int = 1000, max_iter: int = 1000,
) -> ProtocolResult:
    """Nested cross-validation accuracy (SentEval's MR, CR, SUBJ, MPQA protocol).

    Parameters
    ----------
    features : ndarray, shape (n_items, dim)
    labels : ndarray of int, shape (n_items,)
    n_folds : int
        Stratified outer folds (shuffled with ``seed``); each item is predicted by the
        model of the fold that held it out.
    inner_folds : int
        Stratified folds, within each outer training part, of the C search.
    Cs : sequence of float
        The grid of inverse regularisation strengths.
    seed : int
        Seeds the folds, the classifier and the bootstrap.
    n_boot : int
        Bootstrap replicates of the CI over items.
    max_iter : int
        Iteration cap of each logistic regression fit.

    Returns
    -------
    ProtocolResult
    """
    X, y = _check(features, labels, "kfold_accuracy")
    Cs = _check_Cs(Cs)
    fitter = _Fitter(seed, max_iter)
    predictions = np.empty(len(y), dtype=y.dtype)
    fold = np.empty(len(y), dtype=np.int64)
    fold_accs, chosen, scores = [], [], []
    for k, (train, test) in enumerate(_splits(y, n_folds, seed, "kfold_accuracy outer folds")):
        # the C search sees only this fold's training rows
        s = cv_accuracy_per_C(X[train], y[train], Cs, n_folds=inner_folds, seed=seed, _fitter=fitter)
        C = _best_C(Cs, s)
        predictions[test] = fitter.fit(X[train], y[train], C).predict(X[test])
        fold[test] = k
        fold_accs.append(float((predictions[test] == y[test]).mean()))
        chosen.append(C)
        scores.append(s)
    correct = predictions == y
    acc, low, high = _with_ci(correct, n_boot, seed)
    return ProtocolResult(
        acc, low, high, _frozen(correct), _frozen(predictions), _frozen(fold), tuple(fold_accs), tuple(chosen),
        tuple(scores), Cs, f"inner {inner_folds}-fold CV on each outer training part",
        fitter.not_converged,
        {"n_folds": n_folds, "inner_folds": inner_folds, "seed": seed, "n_boot": n_boot},
    )


@_single_threaded
def train_test_accuracy(
    train_X: np.ndarray, train_y: np.ndarray, test_X: np.ndarray, test_y: np.ndarray, *,
    dev: tuple[np.ndarray, np.ndarray] | None = None, inner_folds: int = 5, Cs: Sequence[float] = FULL_CS,
    seed: int = 0, n_boot: int = 1000, max_iter: int = 1000,
) -> ProtocolResult:
    """Test accuracy of a model fit on train, C chosen without the test set (TREC, SST-2).

    Parameters
    ----------
    train_X, train_y, test_X, test_y : ndarray
        Features (n, dim) and integer labels (n,) of each split.
    dev : (ndarray, ndarray), optional
        A dev split: C is the one whose model (fit on train) is most accurate on it
        (SentEval's SST protocol). Without it, C is chosen by stratified ``inner_folds``-fold
        cross-validation on train (its TREC protocol).
    inner_folds, Cs, seed, n_boot, max_iter
        As in :func:`kfold_accuracy`.

    Returns
    -------
    ProtocolResult
        Scored items are the test items.
    """
    X, y = _check(train_X, train_y, "train_test_accuracy train")
    tX, ty = _check(test_X, test_y, "train_test_accuracy test")
    if tX.shape[1] != X.shape[1]:
        raise ValueError(f"train_test_accuracy: train has {X.shape[1]} features, test {tX.shape[1]}")
    Cs = _check_Cs(Cs)
    fitter = _Fitter(seed, max_iter)
    if dev is None:
        scores = cv_accuracy_per_C(X, y, Cs, n_folds=inner_folds, seed=seed, _fitter=fitter)
        selection = f"inner {inner_folds}-fold CV on train"
        settings: dict[str, Any] = {"inner_folds": inner_folds}
    else:
        dX, dy = _check(dev[0], dev[1], "train_test_accuracy dev")
        models = [fitter.fit(X, y, C) for C in Cs]
        scores = tuple(float((m.predict(dX) == dy).mean()) for m in models)
        selection = "accuracy on the dev set"
        settings = {"n_dev": len(dy)}
    C = _best_C(Cs, scores)
    predictions = fitter.fit(X, y, C).predict(tX)
    correct = predictions == ty
    acc, low, high = _with_ci(correct, n_boot, seed)
    return ProtocolResult(
        acc, low, high, _frozen(correct), _frozen(predictions), _frozen(np.zeros(len(ty), dtype=np.int64)),
        (acc,), (C,), (tuple(scores),), Cs, selection, fitter.not_converged,
        {**settings, "n_train": len(y), "seed": seed, "n_boot": n_boot},
    )


# -- which items a capped protocol uses -------------------------------------------------
def hashed_subset(ids: Sequence[str], cap: int | None, salt: str) -> np.ndarray:
    """Indices (ascending) of at most ``cap`` items, those with the smallest hash of ``salt`` + id.

    The choice depends only on the ids, so every model is scored on the same items.

    >>> ids = [f"mr:pos:{i}" for i in range(10)]
    >>> kept = {ids[i] for i in hashed_subset(ids, 3, "mr")}
    >>> len(kept), kept == {ids[::-1][i] for i in hashed_subset(ids[::-1], 3, "mr")}   # order does not matter
    (3, True)
    >>> hashed_subset(ids, None, "mr").tolist() == list(range(10))
    True
    """
    from bench.tasks.base import stable_fraction

    n = len(ids)
    if cap is None or n <= cap:
        return np.arange(n)
    if cap < 1:
        raise ValueError(f"cap must be positive or None, got {cap}")
    keys = np.array([stable_fraction(str(i), salt) for i in ids])
    return np.sort(np.argsort(keys, kind="stable")[:cap])


# -- pooling word vectors into sentence features: bench.vectors.pooling (the runner pools while it embeds)
