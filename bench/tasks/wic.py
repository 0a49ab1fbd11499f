"""WiC: does the target word mean the same in two sentences? Cosine + a threshold, per layer.

Protocol
--------
- The target's vector is taken at the given index in each (given, tokenized) sentence; the
  pair's score is the cosine of the two vectors. A pair whose target vector is all zeros in
  either sentence (a static model's OOV word) is dropped and counted (``n`` < ``total``).
- Per layer, the threshold ``t`` (predict "same sense" iff cosine > t) is the one with the
  best accuracy on the train split (a hash-sampled ``max_train`` subset, default 300 pairs);
  dev accuracy with that threshold (``max_dev`` pairs, default 200) is reported in ``extra``;
  the main number is accuracy on the test split (``max_test``; default all 1,400 pairs).
- Layer selection: the layer with the best train accuracy; its test accuracy is the
  selection value, with per-item correctness for paired comparisons.
- 95% CI: percentile bootstrap over test pairs.

A static model gives the target the same vector in both sentences whenever the two forms
match, so its cosine carries no sense information: it scores chance (WiC test is balanced,
50%) up to whatever the inflected form gives away.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.datasets.wic import WiCItem, load_wic
from bench.stats import accuracy, bootstrap_ci
from bench.tasks.base import ItemScores, Selection, Task, TaskMeta, TaskOutput
from bench.tasks.context_vectors import row_cosine, sample, target_vectors
from bench.vectors import Requests, VectorSource

__all__ = ["WiCTask", "best_threshold", "pair_cosines"]


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The threshold t maximizing the accuracy of ``scores > t`` against boolean ``labels``.

    Candidates are -inf and the midpoints between consecutive distinct scores (the last
    distinct score for "all False"); ties go to the lowest threshold. Returns (t, accuracy).

    >>> best_threshold(np.array([0.1, 0.2, 0.8, 0.9]), np.array([False, False, True, True]))
    (0.5, 1.0)
    >>> best_threshold(np.array([1.0, 1.0, 1.0]), np.array([True, False, True]))
    (-inf, 0.6666666666666666)
    """
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    n = len(scores)
    if n == 0:
        raise ValueError("no scores to choose a threshold on")
    uniq = np.unique(scores)
    order = np.sort(scores)
    y = labels[np.argsort(scores, kind="stable")].astype(int)
    k = np.searchsorted(order, uniq, side="right")  # items <= u
    false_le = np.cumsum(1 - y)[k - 1]
    true_gt = y.sum() - np.cumsum(y)[k - 1]
    accs = np.concatenate([[y.sum() / n], (false_le + true_gt) / n])
    best = int(np.argmax(accs))
    if best == 0:
        return float("-inf"), float(accs[0])
    u = uniq[best - 1]
    t = (u + uniq[best]) / 2 if best < len(uniq) else float(u)
    return float(t), float(accs[best])


def pair_cosines(embedder: VectorSource, items: list[WiCItem]) -> tuple[np.ndarray, np.ndarray]:
    """Cosine per pair and layer (n, n_layers), and the mask of pairs with a missing vector."""
    sents = [it.sentence1 for it in items] + [it.sentence2 for it in items]
    idx = [it.index1 for it in items] + [it.index2 for it in items]
    vecs, missing = target_vectors(embedder, sents, idx)
    n = len(items)
    return row_cosine(vecs[:n], vecs[n:]), missing[:n] | missing[n:]


class WiCTask(Task):
    """Word-in-Context binary classification from the cosine of the target's two vectors."""

    meta = TaskMeta(
        name="wic",
        kind="context",
        description="WiC: same sense of the target in two sentences? Cosine of its two in-context "
        "vectors against a threshold tuned on train; accuracy on test (chance 0.5)",
        metric="accuracy",
        datasets=("wic",),
        license="CC BY-NC 4.0",
        citation="Pilehvar & Camacho-Collados 2019, WiC: the Word-in-Context Dataset for Evaluating "
        "Context-Sensitive Meaning Representations, NAACL 2019",
    )
    defaults: dict[str, Any] = {"max_train": 300, "max_dev": 200, "max_test": None}

    def splits(self) -> dict[str, list[WiCItem]]:
        """The (sampled) items of each split."""
        limit = self.settings["limit"]
        return {
            "train": sample(load_wic("train"), limit or self.settings["max_train"], lambda i: i.id, "wic"),
            "dev": sample(load_wic("dev"), limit or self.settings["max_dev"], lambda i: i.id, "wic"),
            "test": sample(load_wic("test"), limit or self.settings["max_test"], lambda i: i.id, "wic"),
        }

    def inputs(self) -> Requests:
        req = Requests()
        for items in self.splits().values():
            req.add_targets([it.sentence1 for it in items] + [it.sentence2 for it in items],
                            [it.index1 for it in items] + [it.index2 for it in items])
        return req

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        splits = self.splits()
        cos, keep, gold = {}, {}, {}
        for name, items in splits.items():
            c, missing = pair_cosines(embedder, items)
            keep[name] = ~missing
            cos[name] = c[keep[name]]
            gold[name] = np.array([it.label for it in items])[keep[name]]
        if min(len(g) for g in gold.values()) < 3:
            raise ValueError(
                f"wic: too few pairs with vectors for {embedder.name}: "
                f"{ {k: len(v) for k, v in gold.items()} }"
            )
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        total = len(splits["test"])
        protocol = {
            "similarity": "cosine",
            "threshold": "best accuracy on train, per layer",
            "n_train": int(len(gold["train"])),
            "ci": f"percentile bootstrap over test pairs, {n_boot}",
        }
        results, train_acc, correct = [], [], []
        for k, layer in enumerate(embedder.layers):
            t, acc_train = best_threshold(cos["train"][:, k], gold["train"])
            right = {s: ((cos[s][:, k] > t) == gold[s]).astype(float) for s in ("dev", "test")}
            value = accuracy(right["test"])
            ci = bootstrap_ci(accuracy, right["test"], n_boot=n_boot, seed=seed)
            train_acc.append(acc_train)
            correct.append(right["test"])
            results.append(
                self.result(
                    embedder,
                    layer,
                    value,
                    ci,
                    len(right["test"]),
                    total,
                    protocol=protocol,
                    extra={
                        "threshold": t,
                        "train_accuracy": acc_train,
                        "dev_accuracy": accuracy(right["dev"]),
                        "dev_n": int(len(right["dev"])),
                        "test_majority": float(max(gold["test"].mean(), 1 - gold["test"].mean())),
                        "dropped_test_pairs": int(total - len(right["test"])),
                    },
                )
            )
        best = int(np.argmax(train_acc))
        test_ids = [it.id for it, kept in zip(splits["test"], keep["test"], strict=True) if kept]
        pred = correct[best]
        ci = bootstrap_ci(accuracy, pred, n_boot=n_boot, seed=seed)
        selection = Selection(
            embedder.layers[best],
            "only layer"
            if len(embedder.layers) == 1
            else "best accuracy on train (threshold tuned on train)",
            accuracy(pred),
            ci[0],
            ci[1],
            len(pred),
            "test",
            ItemScores(tuple(test_ids), tuple(map(float, pred)), (), "accuracy"),
        )
        return TaskOutput(results, selection)
