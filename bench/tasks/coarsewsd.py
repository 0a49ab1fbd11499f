"""CoarseWSD-20: sense classification from frozen target-word vectors, per word, averaged over words.

Protocol (after Loureiro, Rezaee, Pilehvar & Camacho-Collados 2021, frozen-vector classifiers)
--------------------------------------------------------------------------------------------
- Items: each of the 20 words' train and test splits. ``max_train_per_word`` and
  ``max_test_per_word`` (default None: every item) cap a word's split to a sample
  STRATIFIED by sense (:func:`stratified_sample`): each sense keeps its share of the word's
  items (largest remainders), at least one item per sense the split has, and within a sense
  the items with the smallest hash of their id, so every model sees the same items. The 3
  (of 33,566) lines whose position does not point at the word are dropped, as are items whose
  target vector is all zeros (a static model's OOV word): ``n`` counts what was scored,
  ``total`` the test split's full size, ``sampled`` the test sample when a cap applies.
- ``window`` (default None: the whole sentence, as in the paper) crops each sentence to
  ``window`` tokens each side of the target.
- Two classifiers on the frozen vector of the target, fit per word on its train items:
  ``centroid`` (1-nearest sense centroid: the mean of the unit-length train vectors of each
  sense, cosine; ties go to the sense more frequent in train) and ``logreg`` (scikit-learn
  LogisticRegression, L2, C=``C``, on unit-length vectors). ``classifier`` chooses the main
  one; the other, and the majority sense of train, are in ``extra``.
- Metrics, as in the paper: per word, micro-F1 (= accuracy: every item gets a sense) and
  macro-F1 (the mean over the word's senses of per-sense F1, :func:`macro_f1`), each averaged
  over the words. The MAIN number is the word-averaged micro-F1: it is a function of each
  item's correctness alone, so the per-item outputs kept for paired comparisons reproduce it
  exactly (a resampled mean over words of per-word accuracy); macro-F1 needs the predicted
  senses, not only right/wrong, and is reported next to it (``macro_f1`` with its CI), the
  number to read for the rare senses (a majority-sense guess scores high micro-F1 on the
  skewed words, e.g. pitcher 6,403 : 18).
- 95% CIs (every one, including the selection's): percentile bootstrap resampling test items
  WITHIN each word (``TaskMeta.resample_unit = "word-stratified"``), the statistic being the
  mean over words; the selection's per-item outputs carry each item's word
  (``ItemScores.groups``, scheme ``"stratified"``) so paired differences resample the same way.
  Macro-F1's CI resamples within each word and gold sense (:func:`macro_f1_ci`: a mean over
  senses is only stable when every replicate keeps every sense).
- Layer selection: each word's train items are split by a hash of the item id into a fit
  part (70%) and a dev part (``dev_fraction``, 30%); the layer with the best word-averaged
  micro-F1 of the main classifier on the dev parts (:attr:`Selection.dev_value`) is then
  scored on test with classifiers fit on all the train items.

A static model gives every occurrence of a word the same vector, so both classifiers fall
back to the majority sense: the baseline context has to beat.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from bench.datasets.coarsewsd import WORDS, WSDItem, load_coarsewsd
from bench.stats import accuracy, bootstrap_ci
from bench.tasks.base import ItemScores, Selection, Task, TaskMeta, TaskOutput, stable_fraction
from bench.tasks.context_vectors import crop, normalize, target_vectors
from bench.vectors import Requests, VectorSource

logger = logging.getLogger(__name__)

__all__ = [
    "CoarseWSDTask",
    "centroid_predict",
    "logreg_predict",
    "macro_f1",
    "macro_f1_ci",
    "sense_quotas",
    "stratified_sample",
]

T = TypeVar("T")
S = TypeVar("S", bound=Hashable)


def sense_quotas(counts: Mapping[S, int], cap: int | None) -> dict[S, int]:
    """Items of each sense in a sample of ``cap`` items: proportional, at least one per sense.

    Each sense gets the floor of its share (at least 1); the items still missing go to the
    largest remainders (ties: the first sense in ``counts``). When the one-per-sense floor
    overshoots ``cap``, senses above their share give one back; with more senses than
    ``cap`` every sense keeps one item and the sample is larger than ``cap``.

    >>> sense_quotas({0: 90, 1: 10}, 10)
    {0: 9, 1: 1}
    >>> sense_quotas({0: 98, 1: 1, 2: 1}, 10)
    {0: 8, 1: 1, 2: 1}
    >>> sense_quotas({0: 50, 1: 30, 2: 20}, 7)
    {0: 4, 1: 2, 2: 1}
    >>> sense_quotas({0: 5, 1: 3}, None)
    {0: 5, 1: 3}
    """
    present = {s: int(c) for s, c in counts.items() if c > 0}
    total = sum(present.values())
    if cap is None or cap >= total:
        return present
    share = {s: cap * c / total for s, c in present.items()}
    quota = {s: min(present[s], max(1, math.floor(share[s]))) for s in present}
    while sum(quota.values()) > cap:
        above = [s for s in quota if quota[s] > 1]
        if not above:
            break
        quota[max(above, key=lambda s: quota[s] - share[s])] -= 1
    while sum(quota.values()) < cap:
        room = [s for s in quota if quota[s] < present[s]]
        quota[max(room, key=lambda s: share[s] - quota[s])] += 1
    return quota


def stratified_sample(items: Sequence[T], cap: int | None, sense: Callable[[T], Hashable],
                      key: Callable[[T], str], salt: str) -> list[T]:
    """At most about ``cap`` items, :func:`sense_quotas` of each sense, in input order.

    Within a sense, the items with the smallest hash of ``key(item)`` are kept: the sample
    depends only on the item ids, never on a model.

    >>> items = [(f"x{i}", "a" if i < 8 else "b") for i in range(10)]
    >>> [s for _, s in stratified_sample(items, 5, lambda it: it[1], lambda it: it[0], "salt")]
    ['a', 'a', 'a', 'a', 'b']
    """
    by_sense: dict[Hashable, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        by_sense[sense(it)].append(i)
    quota = sense_quotas({s: len(rows) for s, rows in by_sense.items()}, cap)
    keep: list[int] = []
    for s, rows in by_sense.items():
        keep += sorted(rows, key=lambda i: stable_fraction(key(items[i]), salt))[: quota[s]]
    return [items[i] for i in sorted(keep)]


def macro_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    """Mean over the senses in ``gold`` or ``pred`` of per-sense F1 (scikit-learn's macro F1,
    zero_division=0).

    >>> round(macro_f1(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])), 4)  # (2/3 + 4/5) / 2
    0.7333
    """
    pred, gold = np.asarray(pred), np.asarray(gold)
    if not len(gold):
        return float("nan")
    # F1 = 2 tp / (2 tp + fp + fn), and 2 tp + fp + fn = |pred == s| + |gold == s|
    return float(np.mean([2 * np.sum((pred == s) & (gold == s)) / (np.sum(pred == s) + np.sum(gold == s))
                          for s in np.union1d(pred, gold)]))


def macro_f1_ci(pred: np.ndarray, gold: np.ndarray, groups: np.ndarray, *, n_boot: int = 1000,
                alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """Percentile CI of the mean over groups (words) of per-group :func:`macro_f1`.

    Items are resampled within each group AND gold sense, so every replicate keeps each
    word's senses in their proportions (as the sense-stratified sample does). Resampling
    within words alone drops a sense with one test item from about a third of the replicates,
    and the mean over the senses left is biased: the random floor's macro-F1 of 0.330 got a
    CI of [0.321, 0.405] that way.

    >>> pred, gold = np.array([0, 0, 0, 1, 1, 1]), np.array([0, 0, 1, 1, 1, 1])
    >>> low, high = macro_f1_ci(pred, gold, np.array(["a"] * 6), n_boot=200)
    >>> bool(low <= macro_f1(pred, gold) <= high)
    True
    """
    pred, gold, groups = np.asarray(pred), np.asarray(gold), np.asarray(groups)
    if len(gold) < 3:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    units = np.unique(groups)
    stats = np.zeros(n_boot)
    for u in units:
        rows = np.flatnonzero(groups == u)
        idx = np.concatenate([
            strata[rng.integers(0, len(strata), size=(n_boot, len(strata)))]
            for strata in (rows[gold[rows] == s] for s in np.unique(gold[rows]))
        ], axis=1)
        p, g = pred[idx], gold[idx]
        f1_sum, senses = np.zeros(n_boot), np.zeros(n_boot)
        for s in np.union1d(pred[rows], gold[rows]):
            ps, gs = p == s, g == s
            denom = ps.sum(1) + gs.sum(1)
            f1_sum += 2 * (ps & gs).sum(1) / np.maximum(denom, 1)
            senses += denom > 0  # a sense neither in a replicate's gold nor predicted does not count
        stats += f1_sum / senses
    stats /= len(units)
    return float(np.quantile(stats, alpha / 2)), float(np.quantile(stats, 1 - alpha / 2))


def centroid_predict(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray) -> np.ndarray:
    """1-nearest sense centroid by cosine; ties go to the class more frequent in train.

    >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]); y = np.array([0, 0, 1])
    >>> centroid_predict(x, y, np.array([[0.1, 1.0], [1.0, 0.2], [0.0, 0.0]])).tolist()
    [1, 0, 0]
    """
    classes, counts = np.unique(train_y, return_counts=True)
    u = normalize(train_x)
    cents = normalize(np.stack([u[train_y == c].mean(0) for c in classes]))
    sims = np.round(normalize(test_x) @ cents.T, 6)  # (n_test, n_classes); rounding makes float ties ties
    # lexicographic: highest similarity, then highest train count
    key = sims * 1e6 + counts[None, :] / (counts.sum() + 1)
    predicted: np.ndarray = classes[np.argmax(key, axis=1)]
    return predicted


def logreg_predict(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, C: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Logistic regression on unit-length vectors (one class in train: predict it)."""
    classes = np.unique(train_y)
    if len(classes) == 1:
        return np.full(len(test_x), classes[0])
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    clf.fit(normalize(train_x), train_y)
    predicted: np.ndarray = clf.predict(normalize(test_x))
    return predicted


@dataclasses.dataclass
class _Split:
    """One word's items of one split that have a vector: rows into the vector array, labels, ids."""

    rows: np.ndarray
    labels: np.ndarray
    ids: list[str]


class CoarseWSDTask(Task):
    """Frozen-vector word sense disambiguation on CoarseWSD-20."""

    meta = TaskMeta(
        name="coarsewsd20",
        kind="context",
        description="CoarseWSD-20: sense of 20 ambiguous nouns from the frozen target vector "
        "(1-nearest sense centroid; logistic regression in extra); micro-F1 per word averaged over "
        "the words (macro-F1 in extra)",
        metric="micro-F1 (word mean)",
        datasets=("coarsewsd20",),
        license="CC BY-NC 4.0",
        citation="Loureiro, Rezaee, Pilehvar & Camacho-Collados 2021, Analysis and Evaluation of Language "
        "Models for Word Sense Disambiguation, Computational Linguistics 47(2)",
        version="2",
        resample_unit="word-stratified",
    )
    defaults: dict[str, Any] = {
        "max_train_per_word": None,
        "max_test_per_word": None,
        "window": None,
        "classifier": "centroid",
        "C": 1.0,
        "words": None,
        "dev_fraction": 0.3,
    }
    choices = {"classifier": ("centroid", "logreg")}

    def samples(self) -> dict[str, Any]:
        """Per split, each word's items (a sense-stratified sample when capped), and the counts.

        Returns a dict with ``train`` and ``test`` (word -> items), ``total`` (test items of
        the words, before anything is dropped), ``capped`` (whether a cap removed test items)
        and ``misaligned`` (lines dropped because their position misses the word).
        """
        words = self.settings["words"] or WORDS
        unknown = set(words) - set(WORDS)
        if unknown:
            raise ValueError(f"coarsewsd20: unknown words {sorted(unknown)}; words: {WORDS}")
        out: dict[str, Any] = {"train": {}, "test": {}, "total": 0, "capped": False, "misaligned": 0}
        for split in ("train", "test"):
            caps = [int(c) for c in (self.settings["limit"], self.settings[f"max_{split}_per_word"]) if c is not None]
            for w in words:
                items = load_coarsewsd(w, split)
                aligned = [it for it in items if it.aligned]
                out["misaligned"] += len(items) - len(aligned)
                out[split][w] = stratified_sample(aligned, min(caps, default=None), lambda it: it.label,
                                                  lambda it: it.id, "coarsewsd20")
                if split == "test":
                    out["total"] += len(items)
                    out["capped"] |= len(out[split][w]) < len(aligned)
        return out

    def _cropped(self, items: list[WSDItem]) -> list[tuple[tuple[str, ...], int]]:
        return [crop(it.tokens, it.index, self.settings["window"]) for it in items]

    def inputs(self) -> Requests:
        s = self.samples()
        cropped = self._cropped([it for w in s["train"] for it in s["train"][w] + s["test"][w]])
        req = Requests()
        req.add_targets([c[0] for c in cropped], [c[1] for c in cropped])
        return req

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        s = self.samples()
        train, test = s["train"], s["test"]
        everything = [it for w in train for it in train[w] + test[w]]
        cropped = self._cropped(everything)
        vecs, missing = target_vectors(embedder, [c[0] for c in cropped], [c[1] for c in cropped])
        row = {it.id: k for k, it in enumerate(everything)}
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        main = self.settings["classifier"]
        other = "logreg" if main == "centroid" else "centroid"
        frac = self.settings["dev_fraction"]

        def kept(items: list[WSDItem]) -> _Split:
            ok = [it for it in items if not missing[row[it.id]]]
            return _Split(np.array([row[it.id] for it in ok], int), np.array([it.label for it in ok], int),
                          [it.id for it in ok])

        per_word = {w: (kept(train[w]), kept(test[w])) for w in train}
        usable = [w for w, (tr, te) in per_word.items() if len(tr.ids) and len(te.ids)]
        if not usable:
            raise ValueError(f"coarsewsd20: no word has train and test vectors for {embedder.name}")
        # every item scored, in word order: its word (the resampling stratum), gold sense and id
        groups = np.array([w for w in usable for _ in per_word[w][1].ids])
        gold = np.concatenate([per_word[w][1].labels for w in usable])
        ids = tuple(i for w in usable for i in per_word[w][1].ids)
        n_scored = len(ids)
        sampled = sum(len(test[w]) for w in test) if s["capped"] else 0

        def predict(kind: str, k: int, fit: np.ndarray, fit_y: np.ndarray, rows: np.ndarray) -> np.ndarray:
            fx, tx = vecs[fit, k], vecs[rows, k]
            if kind == "centroid":
                return centroid_predict(fx, fit_y, tx)
            return logreg_predict(fx, fit_y, tx, C=self.settings["C"], seed=seed)

        def scores(pred: np.ndarray) -> dict[str, Any]:
            """Word-averaged micro- and macro-F1 of predicted senses, with word-stratified CIs."""
            correct = (pred == gold).astype(float)
            return {
                "correct": correct,
                "micro_f1": float(np.mean([correct[groups == w].mean() for w in usable])),
                "micro_f1_ci": bootstrap_ci(accuracy, correct, groups=groups, scheme="stratified",
                                            n_boot=n_boot, seed=seed),
                "macro_f1": float(np.mean([macro_f1(pred[groups == w], gold[groups == w]) for w in usable])),
                "macro_f1_ci": macro_f1_ci(pred, gold, groups, n_boot=n_boot, seed=seed),
                "per_word": {w: (float(correct[groups == w].mean()), macro_f1(pred[groups == w], gold[groups == w]))
                             for w in usable},
            }

        # the majority sense of each word's train items: the same for every layer
        majority = scores(np.concatenate([
            np.full(len(per_word[w][1].ids), np.bincount(per_word[w][0].labels).argmax()) for w in usable
        ]))
        protocol = {
            "features": "frozen target vector",
            "context": "whole sentence" if self.settings["window"] is None else f"+-{self.settings['window']} tokens",
            "sample": "stratified by sense within each word, hash of the item id",
            "ci": f"percentile bootstrap within words (word-stratified), {n_boot}",
            "main_classifier": main,
        }
        results, dev_scores, test_correct = [], [], []
        for k, layer in enumerate(embedder.layers):
            by_kind = {}
            for kind in (main, other):
                pred = np.concatenate([predict(kind, k, per_word[w][0].rows, per_word[w][0].labels,
                                               per_word[w][1].rows) for w in usable])
                by_kind[kind] = scores(pred)
            dev_accs = []
            for w in usable:
                tr = per_word[w][0]
                dev = np.array([stable_fraction(x, "coarsewsd20-dev") < frac for x in tr.ids])
                if dev.any() and (~dev).any():
                    fit = predict(main, k, tr.rows[~dev], tr.labels[~dev], tr.rows[dev])
                    dev_accs.append(float((fit == tr.labels[dev]).mean()))
            dev_scores.append(float(np.mean(dev_accs)) if dev_accs else float("nan"))
            m, o = by_kind[main], by_kind[other]
            test_correct.append(m["correct"])
            result = self.result(
                embedder, layer, m["micro_f1"], m["micro_f1_ci"], n_scored, s["total"], protocol=protocol,
                sampled=sampled,
                extra={
                    "macro_f1": m["macro_f1"],
                    "macro_f1_ci": list(m["macro_f1_ci"]),
                    f"{other}_micro_f1": o["micro_f1"],
                    f"{other}_micro_f1_ci": list(o["micro_f1_ci"]),
                    f"{other}_macro_f1": o["macro_f1"],
                    f"{other}_macro_f1_ci": list(o["macro_f1_ci"]),
                    "majority_micro_f1": majority["micro_f1"],
                    "majority_macro_f1": majority["macro_f1"],
                    "pooled_accuracy": float(m["correct"].mean()),
                    "dev_micro_f1": dev_scores[-1],
                    "per_word": {
                        w: {
                            f"{main}_micro_f1": m["per_word"][w][0],
                            f"{main}_macro_f1": m["per_word"][w][1],
                            f"{other}_micro_f1": o["per_word"][w][0],
                            f"{other}_macro_f1": o["per_word"][w][1],
                            "majority_micro_f1": majority["per_word"][w][0],
                            "majority_macro_f1": majority["per_word"][w][1],
                            "n_test": len(per_word[w][1].ids),
                            "n_train": len(per_word[w][0].ids),
                        }
                        for w in usable
                    },
                    "train_items": sum(len(tr.ids) for tr, _ in per_word.values()),
                    "misaligned_lines_dropped": s["misaligned"],
                },
            )
            results.append(result)
        best = int(np.argmax([d if np.isfinite(d) else -np.inf for d in dev_scores]))
        criterion = (
            "only layer"
            if len(embedder.layers) == 1
            else f"best {main} micro-F1 (word mean) on a dev part of train ({frac:.0%}, hash split)"
        )
        r = results[best]
        selection = Selection(
            embedder.layers[best],
            criterion,
            r.value,
            r.ci_low,
            r.ci_high,
            n_scored,
            "test" if not sampled else "test (sense-stratified sample per word)",
            ItemScores(ids, tuple(map(float, test_correct[best])), (), "accuracy", tuple(groups.tolist()),
                       "stratified"),
            dev_value=dev_scores[best],
        )
        return TaskOutput(results, selection)
