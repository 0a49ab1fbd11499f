"""Static vectors distilled from a contextual model (Bommasani et al. 2020), on word similarity.

Protocol
--------
- For each word of the similarity sets (setting ``datasets``), up to ``n_contexts`` Brown
  sentences containing it (case-insensitive token match; chosen by a hash, the same for
  every model) are cropped to ``window`` tokens each side of its first occurrence and
  embedded (defaults 2 contexts, window 5, for the suite's time budget; Bommasani et al.
  pooled over many more contexts, so raise ``n_contexts`` for the full protocol). The
  word's vector, per layer, is the mean of its in-context vectors (Bommasani et al.'s
  "mean" pooling over contexts; occurrences with all-zero vectors are skipped).
- Each dataset is scored as in the similarity task: Spearman of cosine against the human
  scores, over the pairs whose two words occur in the Brown sample (``n`` of ``total``).
  The decontextualized vectors (each word alone as a one-word sentence) are scored on the
  SAME pairs and reported next to them in ``extra``.
- The main number is the first dataset's Spearman of the RAW cosine; every dataset is in
  ``extra``. 95% CI: percentile bootstrap over pairs.
- Standardised cosine beside it, as in the similarity task: every vector z-scored per
  dimension and layer (:mod:`bench.tasks.standardize`, Timkey & van Schijndel 2021; the
  transform is affine, so standardising the mean of a word's in-context vectors is the mean
  of the standardised ones), statistics from ``standardize_sentences`` Brown TRAIN sentences
  (0: off). Per dataset in ``extra[dataset]["standardized"]`` (aggregated with its CI, and
  decontextualized), and the first dataset's aggregated score in ``extra["standardized"]``
  (``value``, ``ci``).
- Coverage: ``total`` is every pair of the first dataset, ``sampled`` the first ``limit``
  pairs when capped, ``n`` the pairs scored (both words have Brown contexts).
- Layer selection: as in the similarity task, the best layer on a hash-chosen dev half of
  the first dataset's pairs, scored on the other half; its dev-half Spearman is the
  selection's ``dev_value``.

Contexts come from all of Brown (including the train split the Brown stand-ins were trained
on): the contexts are inputs, not labels; the scores are against human similarity ratings.

For a static model the mean of identical vectors is the vector itself: the aggregated and
the decontextualized scores coincide (up to the pairs covered by Brown).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from bench.datasets.corpora import brown_sentences
from bench.datasets.similarity import load_pairs
from bench.stats import bootstrap_ci, spearman
from bench.tasks.base import Task, TaskMeta, TaskOutput, stable_fraction
from bench.tasks.context_vectors import crop, row_cosine
from bench.tasks.similarity import embed_words_alone, select_by_dev_half
from bench.tasks.standardize import CITATION as STANDARDIZE_CITATION
from bench.tasks.standardize import DEFAULT_SENTENCES, Standardizer, describe_sample, fit_on_sample, sample_requests
from bench.vectors import Requests, VectorSource, as_source
from embeddings.base import Embedder

__all__ = ["StaticFromContextualTask", "aggregate_vectors", "context_items", "find_contexts"]


def find_contexts(
    words: set[str], sentences: tuple[tuple[str, ...], ...], n_contexts: int, salt: str = "sfc"
) -> dict[str, list[tuple[int, int]]]:
    """Per word: up to ``n_contexts`` (sentence number, position of first occurrence), by hash.

    >>> find_contexts({"bank"}, (("The", "Bank", "."), ("no",), ("a", "bank", "bank")), 5)
    {'bank': [(0, 1), (2, 1)]}
    """
    found: dict[str, list[tuple[int, int]]] = {}
    for si, sent in enumerate(sentences):
        seen = set()
        for pi, tok in enumerate(sent):
            w = tok.lower()
            if w in words and w not in seen:
                seen.add(w)
                found.setdefault(w, []).append((si, pi))
    return {
        w: sorted(sorted(occ, key=lambda o: stable_fraction(f"{w}:{o[0]}", salt))[:n_contexts])
        for w, occ in sorted(found.items())
    }


def context_items(contexts: dict[str, list[tuple[int, int]]], sentences: tuple[tuple[str, ...], ...],
                  window: int | None) -> tuple[list[str], list[tuple[str, ...]], list[int]]:
    """(owner word, cropped sentence, target index) of every context occurrence."""
    owners, sents, idx = [], [], []
    for w, occ in contexts.items():
        for si, pi in occ:
            s, j = crop(sentences[si], pi, window)
            owners.append(w)
            sents.append(s)
            idx.append(j)
    return owners, sents, idx


def aggregate_vectors(
    embedder: VectorSource | Embedder,
    contexts: dict[str, list[tuple[int, int]]],
    sentences: tuple[tuple[str, ...], ...],
    window: int | None,
    *,
    chunk: int = 4096,
) -> dict[str, np.ndarray]:
    """Per word: the mean (n_layers, dim) of its non-zero in-context vectors (words with none left out).

    Read in chunks of ``chunk`` occurrences, so memory stays bounded however many contexts.
    """
    embedder = as_source(embedder)
    owners, sents, idx = context_items(contexts, sentences, window)
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for start in range(0, len(owners), chunk):
        rows, _ = embedder.targets(sents[start : start + chunk], idx[start : start + chunk])
        for i, v in enumerate(rows, start=start):
            if not np.any(v):
                continue
            w = owners[i]
            sums[w] = sums.get(w, 0) + v.astype(np.float64)
            counts[w] = counts.get(w, 0) + 1
    return {w: (sums[w] / counts[w]).astype(np.float32) for w in sums}


def _standardized(std: Standardizer, vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each word's (n_layers, dim) vector standardised (float32)."""
    if not vectors:
        return {}
    words = list(vectors)
    return dict(zip(words, std.transform(np.stack([vectors[w] for w in words])).astype(np.float32), strict=True))


class StaticFromContextualTask(Task):
    """Word similarity from context-averaged vectors, beside the decontextualized ones."""

    meta = TaskMeta(
        name="static-from-contextual",
        kind="similarity",
        description="Bommasani et al. (2020): a word's vector = mean of its in-context vectors over Brown "
        "sentences; Spearman on word similarity (first dataset main, decontextualized in extra)",
        metric="spearman",
        datasets=("brown", "simlex999", "ws353"),
        license="Brown: non-commercial (NLTK); similarity sets: see datasets.md",
        citation="Bommasani, Davis & Cardie 2020, Interpreting Pretrained Contextualized Representations via "
        f"Reductions to Static Embeddings, ACL 2020; standardised cosine: {STANDARDIZE_CITATION}",
        # 2: standardised cosine in extra, dev_value, total = every pair of the first dataset
        version="2",
    )
    defaults: dict[str, Any] = {
        "datasets": ["simlex999", "ws353"],
        "n_contexts": 2,
        "window": 5,
        "dev_fraction": 0.5,
        "standardize_sentences": DEFAULT_SENTENCES,
    }

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        ds = tuple(self.settings["datasets"])
        if not ds:
            raise ValueError("static-from-contextual: setting 'datasets' is empty")
        self.meta = TaskMeta(**{**self.meta.__dict__, "datasets": ("brown", *ds)})

    def _all_pairs(self) -> dict[str, list[Any]]:
        return {d: load_pairs(d) for d in self.settings["datasets"]}

    def _pairs_words_contexts(self) -> tuple[dict[str, list[Any]], set[str], dict[str, list[tuple[int, int]]]]:
        pairs = self._all_pairs()
        if self.settings["limit"]:
            pairs = {d: p[: int(self.settings["limit"])] for d, p in pairs.items()}
        words = {w.lower() for p in pairs.values() for a, b, _ in p for w in (a, b)}
        return pairs, words, find_contexts(words, brown_sentences(), self.settings["n_contexts"])

    def inputs(self) -> Requests:
        _, words, contexts = self._pairs_words_contexts()
        _, sents, idx = context_items(contexts, brown_sentences(), self.settings["window"])
        req = Requests()
        req.add_targets(sents, idx)
        req.add_words(sorted(words))
        if self.settings["standardize_sentences"]:
            req.merge(sample_requests(self.settings["standardize_sentences"]))
        return req

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        names = list(self.settings["datasets"])
        pairs, words, contexts = self._pairs_words_contexts()
        sentences = brown_sentences()
        agg = aggregate_vectors(embedder, contexts, sentences, self.settings["window"])
        alone, _ = embed_words_alone(embedder, sorted(words))
        n_std = self.settings["standardize_sentences"]
        std = fit_on_sample(embedder, n_std) if n_std else None
        if std is not None:  # each word once; an affine map, so the mean over contexts commutes with it
            agg_z, alone_z = _standardized(std, agg), _standardized(std, alone)
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        dataset_total = {d: len(p) for d, p in self._all_pairs().items()}
        scored = {}
        for d in names:
            keep = [
                (a.lower(), b.lower(), s) for a, b, s in pairs[d] if a.lower() in agg and b.lower() in agg
            ]
            if len(keep) < 3:
                raise ValueError(
                    f"static-from-contextual: only {len(keep)} pairs of {d} have Brown contexts "
                    f"for {embedder.name}"
                )
            gold = np.array([s for _, _, s in keep])
            cos_agg = row_cosine(
                np.stack([agg[a] for a, _, _ in keep]), np.stack([agg[b] for _, b, _ in keep])
            )
            cos_alone = row_cosine(
                np.stack([alone[a] for a, _, _ in keep]), np.stack([alone[b] for _, b, _ in keep])
            )
            cos_z = None
            if std is not None:
                cos_z = (row_cosine(np.stack([agg_z[a] for a, _, _ in keep]), np.stack([agg_z[b] for _, b, _ in keep])),
                         row_cosine(np.stack([alone_z[a] for a, _, _ in keep]),
                                    np.stack([alone_z[b] for _, b, _ in keep])))
            scored[d] = (keep, gold, cos_agg, cos_alone, len(pairs[d]), cos_z)
        protocol = {
            "corpus": "Brown",
            "pooling": "mean over contexts",
            "similarity": "cosine",
            "main": "raw cosine; standardized cosine in extra['standardized']" if std is not None else "raw cosine",
            "ci": f"percentile bootstrap over pairs, {n_boot}",
        }
        if std is not None:
            protocol["standardizer"] = f"{Standardizer.name}, fitted on {describe_sample(n_std)}"

        def ci(x: np.ndarray, gold: np.ndarray) -> list[float]:
            return list(bootstrap_ci(spearman, x, gold, n_boot=n_boot, seed=seed))

        results = []
        for k, layer in enumerate(embedder.layers):
            extra: dict[str, Any] = {"words_with_contexts": len(agg), "words": len(words)}
            for d in names:
                keep, gold, ca, cl, attempted, cz = scored[d]
                extra[d] = {
                    "spearman": spearman(ca[:, k], gold),
                    "ci": ci(ca[:, k], gold),
                    "decontextualized": spearman(cl[:, k], gold),
                    "decontextualized_ci": ci(cl[:, k], gold),
                    "n": len(keep),
                    "total": dataset_total[d],
                    "sampled": attempted if attempted < dataset_total[d] else 0,
                }
                if cz is not None:
                    extra[d]["standardized"] = {
                        "spearman": spearman(cz[0][:, k], gold), "ci": ci(cz[0][:, k], gold),
                        # no CI for this one: a third bootstrap per layer for a number the similarity
                        # task already reports with its CI (on all of the dataset's pairs)
                        "decontextualized": spearman(cz[1][:, k], gold),
                    }
            first = extra[names[0]]
            if std is not None:
                extra["standardized"] = {"value": first["standardized"]["spearman"],
                                         "ci": first["standardized"]["ci"], "n_sample_vectors": std.n}
            r = self.result(embedder, layer, first["spearman"], tuple(first["ci"]), first["n"], first["total"],
                            protocol=protocol, extra=extra)
            results.append(replace(r, sampled=first["sampled"]))
        keep, gold, ca, _, _, _ = scored[names[0]]
        ids = [f"{a}|{b}" for a, b, _ in keep]
        return TaskOutput(
            results, select_by_dev_half(self, embedder, ids, ca, gold, self.settings["dev_fraction"])
        )
