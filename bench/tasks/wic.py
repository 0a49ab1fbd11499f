"""WiC: does the target word mean the same in two sentences? Cosine + a threshold, per layer.

Protocol (Pilehvar & Camacho-Collados 2019's threshold baseline, on frozen vectors)
--------------------------------------------------------------------------------
- The target's vector is taken at the given index in each (given, tokenized) sentence; the
  pair's score is the cosine of the two vectors. A pair whose target vector is all zeros in
  either sentence (a static model's OOV word) is dropped and counted (``n`` < ``total``).
- Per layer, the threshold ``t`` (predict "same sense" iff cosine > t) is fitted on the FULL
  train split (5,428 pairs): the one with the best train accuracy (ties: the lowest ``t``).
  Nothing of dev or test enters the fit.
- Layer selection, by a rule fixed in advance: the best accuracy on the FULL dev split
  (638 pairs) with that layer's train-fitted threshold; ties go to the higher train accuracy,
  then to the lower layer index (:func:`select_layer`). The chosen layer's dev accuracy is
  :attr:`Selection.dev_value`.
- The main number is accuracy on the full test split (1,400 pairs), with per-item
  correctness for paired comparisons; 95% CI by percentile bootstrap over test pairs.
- ``max_train`` / ``max_dev`` / ``max_test`` (default None: every pair) cap a split to a
  hash-chosen sample (the same for every model) for a slow model; a capped test split says
  so in ``sampled``, capped train/dev splits in ``extra`` (``train_pairs`` of
  ``train_total``...). Each distinct sentence is embedded once (:meth:`WiCTask.inputs`
  declares every sentence of the three splits).

A static model gives the target the same vector in both sentences whenever the two forms
match, so its cosine carries no sense information: it scores chance (WiC test is balanced,
50%) up to whatever the inflected form gives away.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.datasets.wic import SPLITS, WiCItem, load_wic
from bench.stats import accuracy, bootstrap_ci
from bench.tasks.base import ItemScores, Selection, Task, TaskMeta, TaskOutput
from bench.tasks.context_vectors import row_cosine, sample, target_vectors
from bench.vectors import Requests, VectorSource

__all__ = ["WiCTask", "best_threshold", "pair_cosines", "select_layer"]

#: how the layer is chosen, written into every selection
CRITERION = ("best accuracy on the full dev split (threshold fitted on the full train split); "
             "ties: higher train accuracy, then lower layer index")


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


def select_layer(dev_correct: Sequence[int], train_correct: Sequence[int]) -> int:
    """Index of the layer with the most correct dev pairs; ties: more correct train pairs, then lower index.

    Counts (not accuracies) so that equal scores compare equal exactly.

    >>> select_layer([60, 62, 62], [300, 310, 320])
    2
    >>> select_layer([62, 62, 61], [310, 310, 400])
    0
    """
    if len(dev_correct) != len(train_correct) or not len(dev_correct):
        raise ValueError(f"need one dev and one train count per layer, got {len(dev_correct)} and {len(train_correct)}")
    return min(range(len(dev_correct)), key=lambda k: (-int(dev_correct[k]), -int(train_correct[k]), k))


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
        "vectors against a threshold fitted on the full train split; layer chosen on the full dev "
        "split; accuracy on test (chance 0.5)",
        metric="accuracy",
        datasets=("wic",),
        license="CC BY-NC 4.0",
        citation="Pilehvar & Camacho-Collados 2019, WiC: the Word-in-Context Dataset for Evaluating "
        "Context-Sensitive Meaning Representations, NAACL 2019",
        version="2",
    )
    defaults: dict[str, Any] = {"max_train": None, "max_dev": None, "max_test": None}

    def caps(self) -> dict[str, int | None]:
        """The cap of each split (``limit`` caps all three)."""
        out = {}
        for split in SPLITS:
            caps = [int(c) for c in (self.settings["limit"], self.settings[f"max_{split}"]) if c is not None]
            out[split] = min(caps, default=None)
        return out

    def splits(self) -> tuple[dict[str, list[WiCItem]], dict[str, int]]:
        """The items of each split (a hash sample where capped) and each split's full size."""
        caps = self.caps()
        full = {split: load_wic(split) for split in SPLITS}
        drawn = {split: sample(full[split], caps[split], lambda i: i.id, "wic") for split in SPLITS}
        return drawn, {split: len(items) for split, items in full.items()}

    def inputs(self) -> Requests:
        req = Requests()
        for items in self.splits()[0].values():
            req.add_targets([it.sentence1 for it in items] + [it.sentence2 for it in items],
                            [it.index1 for it in items] + [it.index2 for it in items])
        return req

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        splits, sizes = self.splits()
        cos, keep, gold = {}, {}, {}
        for name, items in splits.items():
            c, missing = pair_cosines(embedder, items)
            keep[name] = ~missing
            cos[name] = c[keep[name]]
            gold[name] = np.array([it.label for it in items], bool)[keep[name]]
        if min(len(g) for g in gold.values()) < 3:
            raise ValueError(
                f"wic: too few pairs with vectors for {embedder.name}: "
                f"{ {k: len(v) for k, v in gold.items()} }"
            )
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        total = sizes["test"]
        sampled = len(splits["test"]) if len(splits["test"]) < total else 0
        protocol = {
            "similarity": "cosine",
            "threshold": "best accuracy on the train split, per layer (ties: lowest threshold)",
            "layer_selection": CRITERION,
            "ci": f"percentile bootstrap over test pairs, {n_boot}",
        }
        counts = {s: {"pairs": int(len(gold[s])), "drawn": len(splits[s]), "total": sizes[s]}
                  for s in SPLITS}
        results, train_correct, dev_correct, dev_acc, correct = [], [], [], [], []
        for k, layer in enumerate(embedder.layers):
            t, acc_train = best_threshold(cos["train"][:, k], gold["train"])
            right = {s: ((cos[s][:, k] > t) == gold[s]).astype(float) for s in SPLITS}
            train_correct.append(int(right["train"].sum()))
            dev_correct.append(int(right["dev"].sum()))
            dev_acc.append(accuracy(right["dev"]))
            correct.append(right["test"])
            result = self.result(
                embedder, layer, accuracy(right["test"]),
                bootstrap_ci(accuracy, right["test"], n_boot=n_boot, seed=seed),
                len(right["test"]), total, protocol=protocol, sampled=sampled,
                extra={
                    "threshold": t,
                    "train_accuracy": acc_train,
                    "dev_accuracy": dev_acc[-1],
                    "dev_ci": list(bootstrap_ci(accuracy, right["dev"], n_boot=n_boot, seed=seed)),
                    "train_pairs": counts["train"]["pairs"],
                    "train_total": counts["train"]["total"],
                    "dev_pairs": counts["dev"]["pairs"],
                    "dev_total": counts["dev"]["total"],
                    "test_majority": float(max(gold["test"].mean(), 1 - gold["test"].mean())),
                    "dropped_pairs": {s: counts[s]["drawn"] - counts[s]["pairs"] for s in SPLITS},
                },
            )
            results.append(result)
        best = select_layer(dev_correct, train_correct)
        test_ids = [it.id for it, kept in zip(splits["test"], keep["test"], strict=True) if kept]
        pred = correct[best]
        ci = bootstrap_ci(accuracy, pred, n_boot=n_boot, seed=seed)
        selection = Selection(
            embedder.layers[best],
            "only layer" if len(embedder.layers) == 1 else CRITERION,
            accuracy(pred),
            ci[0],
            ci[1],
            len(pred),
            "test" if not sampled else f"test (sample of {sampled} of {total} pairs)",
            ItemScores(tuple(test_ids), tuple(map(float, pred)), (), "accuracy"),
            dev_value=dev_acc[best],
        )
        return TaskOutput(results, selection)
