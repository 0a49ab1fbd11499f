"""Word similarity: Spearman of cosine similarity against human scores, per layer.

Protocol
--------
- Contextual models see each word ALONE, as a one-word sentence (decontextualized vectors,
  Bommasani et al. 2020); static models look the word up. Same code path for both.
- A pair is OOV when either word is OOV for the model (or has a zero vector). ``oov="drop"``
  (default; gensim's ``evaluate_word_pairs`` and most papers) drops it and counts it in
  ``n`` vs ``total``; ``oov="mean"`` gives an OOV word the mean vector of the dataset's
  in-vocabulary words (per layer), in the spirit of word-embeddings-benchmarks, which
  imputes the vocabulary mean; every pair is then scored.
- 95% CI: percentile bootstrap over pairs (1,000 resamples, seeded).
- Main number: Spearman of the RAW cosine. Beside it, ``extra["standardized"]`` (``value``,
  ``ci``) is the Spearman of the cosine after z-scoring every dimension of every layer
  (:mod:`bench.tasks.standardize`, Timkey & van Schijndel 2021), with statistics from
  ``standardize_sentences`` Brown TRAIN sentences (every position; 0 turns it off): a few
  outlier dimensions can dominate a raw cosine, so a conclusion that holds only on one of the
  two is an artefact of that choice. Static models are standardised the same way (see
  :mod:`bench.tasks.standardize` for why that is fair, and its caveats).
- Coverage: ``total`` is every pair of the dataset; with ``limit`` the first ``limit`` pairs
  are used (``sampled``); ``n`` are those scored.
- Layer selection for headline comparisons: pairs are split in two halves by a hash of the
  pair (the same split for every model); the layer with the best Spearman on the dev half is
  scored on the test half, and its dev-half Spearman is the selection's ``dev_value`` (what
  picks a representative model without test data). Per-layer numbers in the tables use all
  pairs.

Examples
--------
>>> from embeddings.random_vectors import RandomEmbedder
>>> task = SimilarityTask(dataset="ws353")   # doctest: +SKIP
>>> out = task.run(RandomEmbedder(dim=50))   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np

from bench.datasets import get_dataset
from bench.datasets.similarity import Pair, load_pairs
from bench.stats import bootstrap_ci, spearman
from bench.tasks.base import ItemScores, Selection, Task, TaskMeta, TaskOutput, stable_fraction
from bench.tasks.context_vectors import pair_cosine
from bench.tasks.standardize import CITATION as STANDARDIZE_CITATION
from bench.tasks.standardize import DEFAULT_SENTENCES, Standardizer, describe_sample, fit_on_sample, sample_requests
from bench.vectors import Requests, VectorSource

logger = logging.getLogger(__name__)


def embed_words_alone(source: VectorSource, words: list[str]) -> tuple[dict[str, np.ndarray], set[str]]:
    """Each word as a one-word sentence: word -> (n_layers, dim) vectors, and the OOV words."""
    unique = sorted(set(words))
    vecs_arr, oov_arr = source.words_alone(unique)
    vecs = {w: vecs_arr[k] for k, w in enumerate(unique)}
    oov = {w for k, w in enumerate(unique) if oov_arr[k] or not np.any(vecs_arr[k])}
    return vecs, oov


def select_by_dev_half(
    task: Task,
    embedder: VectorSource,
    ids: list[str],
    scores: np.ndarray,
    gold: np.ndarray,
    dev_fraction: float = 0.5,
    *,
    unit: str = "items",
) -> Selection:
    """Pick the layer with the best Spearman on a hash-chosen dev part; score it on the rest.

    ``scores`` is (n_items, n_layers); the split depends only on the item ids and task name,
    so it is the same for every model. ``unit`` names the items in the criterion text. The
    selection's ``dev_value`` is the chosen layer's dev Spearman (a single-layer model's too;
    NaN when the dev part has fewer than 3 items).
    """
    dev = np.array([stable_fraction(x, task.name) < dev_fraction for x in ids], dtype=bool)
    dev_scores = [spearman(scores[dev, k], gold[dev]) if dev.sum() >= 3 else float("nan")
                  for k in range(scores.shape[1])]
    if len(embedder.layers) == 1 or dev.sum() < 3 or not np.any(np.isfinite(dev_scores)):
        best, criterion = 0, "only layer" if len(embedder.layers) == 1 else "first layer (dev too small)"
    else:
        best = int(np.nanargmax(dev_scores))
        criterion = f"best Spearman on the dev half of the {unit} (hash split)"
    test = ~dev
    pred = scores[test, best]
    ci = bootstrap_ci(spearman, pred, gold[test], n_boot=task.settings["n_boot"], seed=task.settings["seed"])
    items = ItemScores(tuple(np.array(ids)[test]), tuple(map(float, pred)), tuple(map(float, gold[test])),
                       "spearman")
    return Selection(embedder.layers[best], criterion, spearman(pred, gold[test]), ci[0], ci[1],
                     int(test.sum()), f"test half of the {unit}", items, dev_value=float(dev_scores[best]))


class SimilarityTask(Task):
    """Spearman correlation of cosine similarities with human ratings on one pair dataset."""

    defaults: dict[str, Any] = {"dataset": "ws353", "oov": "drop", "dev_fraction": 0.5,
                                "standardize_sentences": DEFAULT_SENTENCES}
    choices = {"oov": ("drop", "mean")}

    def __init__(self, **settings: Any) -> None:
        dataset = settings.get("dataset", self.defaults["dataset"])
        ds = get_dataset(dataset)
        self.meta = TaskMeta(
            name=settings.pop("task_name", dataset), kind="similarity",
            description=f"Spearman of cosine vs human scores on {ds.title}",
            metric="spearman", datasets=(dataset,), license=ds.license,
            citation=f"{ds.citation}; standardised cosine: {STANDARDIZE_CITATION}",
            # 2: standardised cosine in extra, dev_value, total = every pair of the dataset
            version="2",
        )
        super().__init__(**settings)

    def split_pairs(self) -> list[Pair]:
        """Every pair of the dataset (``total``)."""
        return load_pairs(self.settings["dataset"])

    def pairs(self) -> list[Pair]:
        """The pairs attempted: the first ``limit`` when capped."""
        pairs = self.split_pairs()
        limit = self.settings["limit"]
        return pairs[: int(limit)] if limit else pairs

    def inputs(self) -> Requests:
        req = Requests()
        req.add_words(w for p in self.pairs() for w in p[:2])
        if self.settings["standardize_sentences"]:
            req.merge(sample_requests(self.settings["standardize_sentences"]))
        return req

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        pairs = self.pairs()
        total = len(pairs)  # the pairs attempted (the sample when capped)
        dataset_total = len(self.split_pairs())
        sampled = total if total < dataset_total else 0
        vecs, oov_words = embed_words_alone(embedder, [w for p in pairs for w in p[:2]])
        keep = [i for i, (a, b, _) in enumerate(pairs) if a not in oov_words and b not in oov_words]
        if self.settings["oov"] == "mean" and len(keep) < total:
            known = [vecs[w] for w in vecs if w not in oov_words]
            mean = np.mean(known, axis=0) if known else np.zeros_like(next(iter(vecs.values())))
            vecs = {w: (mean if w in oov_words else v) for w, v in vecs.items()}
            keep = list(range(total))
        if len(keep) < 3:
            raise ValueError(f"{self.name}: only {len(keep)} of {total} pairs are in the vocabulary of "
                             f"{embedder.name}; nothing to correlate")
        gold = np.array([pairs[i][2] for i in keep])
        left, right = [pairs[i][0] for i in keep], [pairs[i][1] for i in keep]
        cos = pair_cosine(vecs, left, right)  # (n, L)
        n_std = self.settings["standardize_sentences"]
        std = fit_on_sample(embedder, n_std) if n_std else None
        cos_z = None
        if std is not None:  # transform each distinct word once (an affine map: imputed means included)
            names = list(vecs)
            z = dict(zip(names, std.transform(np.stack([vecs[w] for w in names])).astype(np.float32), strict=True))
            cos_z = pair_cosine(z, left, right)
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        protocol = {"context": "word alone (one-word sentence)", "similarity": "cosine",
                    "main": "raw cosine; standardized cosine in extra['standardized']" if std is not None
                    else "raw cosine",
                    "ci": f"percentile bootstrap over pairs, {n_boot} resamples"}
        if std is not None:
            protocol["standardizer"] = f"{Standardizer.name}, fitted on {describe_sample(n_std)}"
        oov_pairs = sum(1 for a_, b_, _ in pairs if a_ in oov_words or b_ in oov_words)
        results = []
        for k, layer in enumerate(embedder.layers):
            rho = spearman(cos[:, k], gold)
            ci = bootstrap_ci(spearman, cos[:, k], gold, n_boot=n_boot, seed=seed)
            extra: dict[str, Any] = {"oov_pairs": oov_pairs}
            if std is not None and cos_z is not None:
                extra["standardized"] = {
                    "value": spearman(cos_z[:, k], gold),
                    "ci": list(bootstrap_ci(spearman, cos_z[:, k], gold, n_boot=n_boot, seed=seed)),
                    "n_sample_vectors": std.n,
                }
            r = self.result(embedder, layer, rho, ci, len(keep), dataset_total, protocol=protocol, extra=extra)
            results.append(replace(r, sampled=sampled))
        ids = [f"{pairs[i][0]}|{pairs[i][1]}" for i in keep]
        return TaskOutput(results, select_by_dev_half(self, embedder, ids, cos, gold,
                                                      self.settings["dev_fraction"], unit="pairs"))
