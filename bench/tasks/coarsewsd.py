"""CoarseWSD-20: sense classification from frozen target-word vectors, per word, macro-averaged.

Protocol
--------
- For each of the 20 words, up to ``max_train_per_word`` train and ``max_test_per_word``
  test sentences are drawn by a hash of the item id (the same sample for every model;
  defaults 25 and 25, for the suite's time budget; ``None`` for all); sentences are
  cropped to ``window`` (default 8) tokens each side of the target. The 3 (of 33,566)
  lines whose position does not point at the word are dropped, as are items whose target
  vector is all zeros (a static model's OOV word); ``n`` counts what was scored.
- Two classifiers on the frozen vector of the target, fit per word on its train sample:
  ``centroid`` (1-nearest sense centroid: the mean of the unit-length train vectors of each
  sense, cosine; ties go to the sense more frequent in train) and ``logreg``
  (scikit-learn LogisticRegression, L2, C=``C``, on unit-length vectors). ``classifier``
  chooses which one is the main number; both are in ``extra`` with per-word accuracies and
  the majority-sense baseline.
- Main metric: accuracy per word on its test sample, macro-averaged over the words; 95% CI
  by a bootstrap that resamples test items within each word.
- Layer selection: each word's train sample is split by a hash of the item id into a fit
  part (70%) and a dev part (30%); the layer with the best dev macro accuracy is then
  scored on test with classifiers fit on the whole train sample. Its per-item correctness
  (micro accuracy) is kept for paired comparisons.

A static model gives every occurrence of a word the same vector, so both classifiers fall
back to the majority sense: the baseline context has to beat.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from bench.datasets.coarsewsd import WORDS, WSDItem, load_coarsewsd
from bench.tasks.base import ItemScores, Selection, Task, TaskMeta, TaskOutput, stable_fraction
from bench.tasks.context_vectors import crop, normalize, sample, target_vectors
from bench.vectors import Requests, VectorSource

logger = logging.getLogger(__name__)

__all__ = ["CoarseWSDTask", "centroid_predict", "logreg_predict", "macro_bootstrap_ci"]


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
    return classes[np.argmax(key, axis=1)]


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
    return clf.predict(normalize(test_x))


def macro_bootstrap_ci(
    correct_by_group: list[np.ndarray], *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float]:
    """Percentile CI of the mean over groups of per-group accuracy, resampling within each group."""
    groups = [np.asarray(c, float) for c in correct_by_group if len(c)]
    if not groups or sum(len(g) for g in groups) < 3:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    stats = np.zeros(n_boot)
    for g in groups:
        stats += g[rng.integers(0, len(g), size=(n_boot, len(g)))].mean(1)
    stats /= len(groups)
    return float(np.quantile(stats, alpha / 2)), float(np.quantile(stats, 1 - alpha / 2))


class CoarseWSDTask(Task):
    """Frozen-vector word sense disambiguation on CoarseWSD-20."""

    meta = TaskMeta(
        name="coarsewsd20",
        kind="context",
        description="CoarseWSD-20: sense of 20 ambiguous nouns from the frozen target vector "
        "(1-nearest sense centroid; logistic regression in extra), accuracy per word, macro-averaged",
        metric="macro accuracy",
        datasets=("coarsewsd20",),
        license="CC BY-NC 4.0",
        citation="Loureiro, Rezaee, Pilehvar & Camacho-Collados 2021, Analysis and Evaluation of Language "
        "Models for Word Sense Disambiguation, Computational Linguistics 47(2)",
    )
    defaults: dict[str, Any] = {
        "max_train_per_word": 25,
        "max_test_per_word": 25,
        "window": 8,
        "classifier": "centroid",
        "C": 1.0,
        "words": None,
        "dev_fraction": 0.3,
    }
    choices = {"classifier": ("centroid", "logreg")}

    def _items(self) -> tuple[dict[str, list[WSDItem]], dict[str, list[WSDItem]], int]:
        words = self.settings["words"] or WORDS
        unknown = set(words) - set(WORDS)
        if unknown:
            raise ValueError(f"coarsewsd20: unknown words {sorted(unknown)}; words: {WORDS}")
        cap = {"train": self.settings["max_train_per_word"], "test": self.settings["max_test_per_word"]}
        if self.settings["limit"]:
            cap = {k: min(int(self.settings["limit"]), v or 10**9) for k, v in cap.items()}
        out: dict[str, dict[str, list[WSDItem]]] = {"train": {}, "test": {}}
        misaligned = 0
        for w in words:
            for split in ("train", "test"):
                items = load_coarsewsd(w, split)
                misaligned += sum(not it.aligned for it in items)
                out[split][w] = sample(
                    [it for it in items if it.aligned], cap[split], lambda it: it.id, "coarsewsd20"
                )
        return out["train"], out["test"], misaligned

    def inputs(self) -> Requests:
        train, test, _ = self._items()
        cropped = [crop(it.tokens, it.index, self.settings["window"]) for w in train for it in train[w] + test[w]]
        req = Requests()
        req.add_targets([c[0] for c in cropped], [c[1] for c in cropped])
        return req

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        train, test, misaligned = self._items()
        words = list(train)
        everything = [it for w in words for it in train[w] + test[w]]
        window = self.settings["window"]
        cropped = [crop(it.tokens, it.index, window) for it in everything]
        vecs, missing = target_vectors(embedder, [c[0] for c in cropped], [c[1] for c in cropped])
        row = {it.id: k for k, it in enumerate(everything)}
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        main = self.settings["classifier"]
        frac = self.settings["dev_fraction"]

        def data(items: list[WSDItem]) -> tuple[np.ndarray, np.ndarray, list[str]]:
            kept = [it for it in items if not missing[row[it.id]]]
            return (
                np.array([row[it.id] for it in kept], int),
                np.array([it.label for it in kept], int),
                [it.id for it in kept],
            )

        per_word = {w: (data(train[w]), data(test[w])) for w in words}
        total = sum(len(test[w]) for w in words)
        usable = [w for w in words if len(per_word[w][0][0]) and len(per_word[w][1][0])]
        if not usable:
            raise ValueError(f"coarsewsd20: no word has train and test vectors for {embedder.name}")

        def predict(
            kind: str, k: int, fit_rows: np.ndarray, fit_y: np.ndarray, rows: np.ndarray
        ) -> np.ndarray:
            fx, tx = vecs[fit_rows, k], vecs[rows, k]
            if kind == "centroid":
                return centroid_predict(fx, fit_y, tx)
            return logreg_predict(fx, fit_y, tx, C=self.settings["C"], seed=seed)

        results, dev_macro, test_correct = [], [], []
        protocol = {
            "features": "frozen target vector",
            "context": f"+-{window} tokens",
            "ci": f"bootstrap within words, {n_boot}",
            "main_classifier": main,
        }
        for k, layer in enumerate(embedder.layers):
            accs: dict[str, dict[str, float]] = {"centroid": {}, "logreg": {}, "majority": {}}
            correct: dict[str, list[np.ndarray]] = {"centroid": [], "logreg": []}
            dev_accs = []
            for w in usable:
                (tr_rows, tr_y, tr_ids), (te_rows, te_y, _) = per_word[w]
                for kind in ("centroid", "logreg"):
                    c = (predict(kind, k, tr_rows, tr_y, te_rows) == te_y).astype(float)
                    correct[kind].append(c)
                    accs[kind][w] = float(c.mean())
                values, counts = np.unique(tr_y, return_counts=True)
                accs["majority"][w] = float((te_y == values[np.argmax(counts)]).mean())
                dev = np.array([stable_fraction(x, "coarsewsd20-dev") < frac for x in tr_ids])
                if dev.any() and (~dev).any():
                    dev_accs.append(
                        float((predict(main, k, tr_rows[~dev], tr_y[~dev], tr_rows[dev]) == tr_y[dev]).mean())
                    )
            value = float(np.mean(list(accs[main].values())))
            ci = macro_bootstrap_ci(correct[main], n_boot=n_boot, seed=seed)
            dev_macro.append(float(np.mean(dev_accs)) if dev_accs else float("nan"))
            test_correct.append(np.concatenate(correct[main]))
            n = int(sum(len(c) for c in correct[main]))
            other = "logreg" if main == "centroid" else "centroid"
            results.append(
                self.result(
                    embedder,
                    layer,
                    value,
                    ci,
                    n,
                    total,
                    protocol=protocol,
                    extra={
                        f"{other}_macro_accuracy": float(np.mean(list(accs[other].values()))),
                        f"{other}_ci": list(macro_bootstrap_ci(correct[other], n_boot=n_boot, seed=seed)),
                        "majority_macro_accuracy": float(np.mean(list(accs["majority"].values()))),
                        "micro_accuracy": float(test_correct[-1].mean()),
                        "dev_macro_accuracy": dev_macro[-1],
                        "per_word": {
                            w: {
                                "centroid": accs["centroid"][w],
                                "logreg": accs["logreg"][w],
                                "majority": accs["majority"][w],
                                "n_test": int(len(per_word[w][1][0])),
                                "n_train": int(len(per_word[w][0][0])),
                            }
                            for w in usable
                        },
                        "misaligned_lines_dropped": misaligned,
                    },
                )
            )
        finite = [d if np.isfinite(d) else -np.inf for d in dev_macro]
        best = int(np.argmax(finite))
        criterion = (
            "only layer"
            if len(embedder.layers) == 1
            else f"best {main} macro accuracy on a dev part of train ({frac:.0%}, hash split)"
        )
        ids = [i for w in usable for i in per_word[w][1][2]]
        pred = test_correct[best]
        r = results[best]
        selection = Selection(
            embedder.layers[best],
            criterion,
            r.value,
            r.ci_low,
            r.ci_high,
            len(pred),
            "test (capped per word)",
            ItemScores(tuple(ids), tuple(map(float, pred)), (), "accuracy"),
        )
        return TaskOutput(results, selection)
