"""Downstream sentence classification from frozen word vectors, SentEval protocol, per layer.

Protocol (Conneau & Kiela 2018, SentEval; the protocol functions live in
:mod:`bench.tasks.senteval`):

- A sentence's feature is a pooling of its word vectors at one layer (``pooling``: mean by
  default, or max; ``layer_mean=True`` first averages the layers), standardised on the
  training data only; the classifier is scikit-learn's LogisticRegression with C chosen by
  inner cross-validation on training data only.
- MR, CR, SUBJ, MPQA: nested k-fold cross-validation (SentEval's 10-fold; the quick
  protocol 5-fold on a capped, hash-drawn sample). TREC: the standard train (5,452) / test
  (500) split, 6 coarse classes, C by cross-validation on train. SST-2: trained on GLUE's
  train.tsv, C chosen on GLUE's dev set, scored on SentEval's labelled 1,821-sentence test
  set (GLUE's own test labels are not public).
- Layer selection without the test folds: for the k-fold datasets, each outer fold takes
  the layer whose inner-cross-validation accuracy (on that fold's training part) is best,
  and contributes that layer's predictions for its held-out items; for TREC the layer with
  the best cross-validation accuracy on train; for SST-2 the best dev accuracy. Per-layer
  scores (every item, each layer on its own) are in the per-layer rows.
- ``protocol``: ``senteval-quick`` (the default suite: capped sizes, fewer folds and Cs) or
  ``senteval`` (the full protocol, suites/full.yaml); its name is in every result. ``max_items``
  (k-fold datasets) and ``max_train`` (TREC, SST-2) override the protocol's caps, e.g. for a slow
  model in the default suite; the sample drawn is in every result (``sampled``).
- Accuracy with a 95% bootstrap CI over the scored items; seeds fixed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.datasets.classification import SPLITS, load_classification
from bench.stats import accuracy, bootstrap_ci
from bench.tasks.base import ItemScores, Selection, Task, TaskMeta, TaskOutput
from bench.tasks.senteval import (
    KFOLD_DATASETS,
    PROTOCOLS,
    ProtocolResult,
    hashed_subset,
    kfold_accuracy,
    train_test_accuracy,
)
from bench.vectors import Requests, VectorSource

__all__ = ["ClassificationTask", "DATASET_TITLES", "most_chosen"]

DATASET_TITLES = {
    "mr": "MR movie-review polarity (Pang & Lee 2005)",
    "cr": "CR product-review polarity (Hu & Liu 2004)",
    "subj": "SUBJ subjectivity (Pang & Lee 2004)",
    "mpqa": "MPQA opinion polarity (Wiebe et al. 2005)",
    "trec": "TREC question type, 6 coarse classes (Li & Roth 2002)",
    "sst2": "SST-2 binary sentiment (Socher et al. 2013): GLUE train/dev, SentEval's labelled test",
}


def most_chosen(chosen: list[str], layer_names: list[str]) -> str:
    """The layer most outer folds chose; a tie goes to the lower layer (never set order, which varies by run).

    >>> most_chosen(["3", "1", "3", "1", "2"], ["emb", "1", "2", "3"])
    '1'
    >>> most_chosen(["2", "2", "emb"], ["emb", "1", "2"])
    '2'
    """
    return max(chosen, key=lambda n: (chosen.count(n), -layer_names.index(n)))


class ClassificationTask(Task):
    """Frozen-feature sentence classification on one dataset, per layer."""

    defaults: dict[str, Any] = {"dataset": "mr", "protocol": "senteval-quick", "pooling": "mean",
                                "layer_mean": False, "layer_stride": 1, "max_items": "protocol",
                                "max_train": "protocol"}
    choices = {"protocol": tuple(PROTOCOLS), "pooling": ("mean", "max"), "dataset": tuple(SPLITS)}

    def __init__(self, **settings: Any) -> None:
        from bench.datasets import get_dataset

        dataset = settings.get("dataset", self.defaults["dataset"])
        ds = get_dataset(dataset)
        self.meta = TaskMeta(
            name=settings.pop("task_name", dataset), kind="classification",
            description=f"{DATASET_TITLES.get(dataset, ds.title)}: logistic regression on frozen pooled word "
            "vectors (SentEval protocol), per layer", metric="accuracy", datasets=(dataset,),
            license=ds.license, citation=ds.citation,
        )
        super().__init__(**settings)
        if int(self.settings["layer_stride"]) < 1:
            raise ValueError(f"{self.name}: layer_stride must be >= 1")

    # -- data ---------------------------------------------------------------------------
    def splits(self) -> dict[str, tuple[list[tuple[str, ...]], np.ndarray, list[str]]]:
        """name -> (sentences, labels, ids) of the (capped) splits the protocol uses."""
        name = self.settings["dataset"]
        proto = PROTOCOLS[self.settings["protocol"]]
        limit = self.settings["limit"]
        out = {}
        max_items = proto.max_items if self.settings["max_items"] == "protocol" else self.settings["max_items"]
        max_train = proto.max_train if self.settings["max_train"] == "protocol" else self.settings["max_train"]
        for split in SPLITS[name]:
            data = load_classification(name, split)
            cap = max_items if name in KFOLD_DATASETS else (max_train if split == "train" else None)
            if limit:
                cap = min(int(limit), cap or 10**9)
            keep = hashed_subset(list(data.ids), cap, f"{name}-{split}")
            out[split] = ([data.sentences[i] for i in keep], np.array(data.labels)[keep], [data.ids[i] for i in keep])
        return out

    def totals(self) -> dict[str, int]:
        return {s: len(load_classification(self.settings["dataset"], s).ids) for s in SPLITS[self.settings["dataset"]]}

    def inputs(self) -> Requests:
        req = Requests()
        for sents, _, _ in self.splits().values():
            req.add_pooled(sents, self.settings["pooling"])
        return req

    def _features(self, source: VectorSource, sentences: list[tuple[str, ...]]) -> np.ndarray:
        feats = source.pooled(sentences, self.settings["pooling"])  # (n, L, D)
        if self.settings["layer_mean"]:
            feats = feats.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
        return feats

    def _layers(self, source: VectorSource) -> list[int]:
        n = 1 if self.settings["layer_mean"] else len(source.layers)
        stride = int(self.settings["layer_stride"])
        return sorted(set(range(0, n, stride)) | {n - 1})

    # -- scoring ------------------------------------------------------------------------
    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        name = self.settings["dataset"]
        proto = PROTOCOLS[self.settings["protocol"]]
        kw = proto.settings_for(name)
        kw["seed"] = self.settings["seed"]
        kw["n_boot"] = self.settings["n_boot"]
        splits = self.splits()
        totals = self.totals()
        feats = {s: self._features(embedder, sents) for s, (sents, _, _) in splits.items()}
        layer_names = ["mean"] if self.settings["layer_mean"] else list(embedder.layers)
        results, per_layer = [], {}
        protocol = {"protocol": proto.name, "pooling": self.settings["pooling"],
                    "layer_mean": self.settings["layer_mean"], "features": "frozen pooled word vectors, standardised"
                    " on training data", "classifier": "LogisticRegression, C by inner CV (SST-2: dev)"}
        for k in self._layers(embedder):
            if name in KFOLD_DATASETS:
                X, y = feats["all"][:, k], splits["all"][1]
                r = kfold_accuracy(X, y, **kw)
                test_split = "all"
            else:
                dev = (feats["dev"][:, k], splits["dev"][1]) if "dev" in splits else None
                r = train_test_accuracy(feats["train"][:, k], splits["train"][1], feats["test"][:, k],
                                        splits["test"][1], dev=dev, **kw)
                test_split = "test"
            per_layer[k] = r
            n_scored = r.n
            results.append(self.result(embedder, layer_names[k], r.accuracy, (r.ci_low, r.ci_high), n_scored,
                                       totals[test_split], protocol=protocol, extra=r.summary(),
                                       sampled=len(splits[test_split][2]) if len(splits[test_split][2])
                                       < totals[test_split] else 0))
        return TaskOutput(results, self._selection(embedder, layer_names, per_layer, splits))

    def _selection(self, embedder: VectorSource, layer_names: list[str], per_layer: dict[int, ProtocolResult],
                   splits: dict[str, Any]) -> Selection:
        name = self.settings["dataset"]
        layers = sorted(per_layer)
        # a layer's selection score on the training data: its best inner-CV (or dev) accuracy
        if name in KFOLD_DATASETS:
            ids = splits["all"][2]
            folds = per_layer[layers[0]].fold
            correct = np.zeros(len(ids), dtype=float)
            chosen = []
            dev_scores = []
            for f in range(int(folds.max()) + 1):
                scores = [max(per_layer[k].selection_scores[f]) for k in layers]
                best = layers[int(np.argmax(scores))]
                chosen.append(layer_names[best])
                dev_scores.append(max(scores))
                rows = folds == f
                correct[rows] = per_layer[best].correct[rows]
            layer = most_chosen(chosen, layer_names)
            criterion = ("per outer fold, the layer with the best inner-CV accuracy on that fold's training part "
                         f"(layers chosen: {', '.join(chosen)})") if len(layers) > 1 else "only layer"
            split_name = f"{len(set(folds.tolist()))}-fold CV (each item predicted by the fold that held it out)"
            dev_value = float(np.mean(dev_scores))
        else:
            ids = splits["test"][2]
            scores = [max(per_layer[k].selection_scores[0]) for k in layers]
            best = layers[int(np.argmax(scores))]
            correct = per_layer[best].correct.astype(float)
            layer = layer_names[best]
            how = "accuracy on the dev set" if name == "sst2" else "inner CV accuracy on train"
            criterion = f"best {how}" if len(layers) > 1 else "only layer"
            split_name = "test"
            dev_value = float(max(scores))
        ci = bootstrap_ci(accuracy, correct, n_boot=self.settings["n_boot"], seed=self.settings["seed"])
        return Selection(layer, criterion, accuracy(correct), ci[0], ci[1], len(correct), split_name,
                         ItemScores(tuple(ids), tuple(map(float, correct)), (), "accuracy"), dev_value=dev_value)
