"""SCWS: Spearman of the in-context cosine of two words against human similarity ratings.

Protocol (Huang et al. 2012's evaluation, on frozen vectors)
-----------------------------------------------------------
- Each context is whitespace-tokenized; the ``<b> ... </b>`` markers locate the target,
  which stays one token. By default the model reads the dataset's whole context (about 100
  tokens; ``window=None``); ``window=w`` crops it to ``w`` tokens each side of the target,
  to bound the cost of a slow model (the protocol then says so).
- A pair's score is the cosine of the two targets' vectors, per layer; Spearman's rho with
  the average human rating over all 2,003 pairs (the standard number). ``max_pairs`` (default
  None: all) caps the pairs to a hash-chosen sample, the same for every model; ``sampled``
  then says how many were drawn. A pair with an all-zero target vector (a static model's
  OOV word) is dropped and counted (``n`` < ``sampled`` or ``total``).
- 241 pairs put the SAME word in two contexts: there a static model's cosine is 1 whatever
  the rating, and a random model's too, which gives static and random models a Spearman
  they did not earn (the random floor scores about 0.23 on all pairs). Every layer therefore
  also reports, in ``extra``, the Spearman over the pairs of two DIFFERENT words
  (``different_words_spearman`` with its CI and ``different_words_n``).
- 95% CI: percentile bootstrap over pairs.
- Layer selection: the pairs are split in halves by a hash of the pair id (the same split
  for every model); the layer with the best Spearman on the dev half (all its pairs) is
  scored on the test half; that dev Spearman is :attr:`Selection.dev_value`.

Static models score the same cosine as out of context: SCWS then measures plain word
similarity, which is what context is supposed to improve on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.datasets.scws import SCWSItem, load_scws
from bench.stats import bootstrap_ci, spearman
from bench.tasks.base import Selection, Task, TaskMeta, TaskOutput
from bench.tasks.context_vectors import crop, row_cosine, sample, target_vectors
from bench.tasks.similarity import select_by_dev_half
from bench.vectors import Requests, VectorSource

__all__ = ["SCWSTask", "same_word"]


def same_word(item: SCWSItem) -> bool:
    """True when both sides of the pair are the same word (case aside).

    >>> same_word(SCWSItem("1", "Bank", "bank", ("bank",), 0, ("bank",), 0, 5.0))
    True
    """
    return item.word1.lower() == item.word2.lower()


class SCWSTask(Task):
    """Contextual word similarity on SCWS."""

    meta = TaskMeta(
        name="scws",
        kind="context",
        description="SCWS: Spearman of the cosine of two words' in-context vectors against mean human "
        "ratings (2,003 pairs; without the 241 same-word pairs in extra)",
        metric="spearman",
        datasets=("scws",),
        license="no explicit license (README asks to cite); research use",
        citation="Huang, Socher, Manning & Ng 2012, Improving Word Representations via Global Context "
        "and Multiple Word Prototypes, ACL 2012",
        version="2",
    )
    defaults: dict[str, Any] = {"window": None, "max_pairs": None}

    def pairs(self) -> tuple[list[SCWSItem], int]:
        """The pairs scored (a hash sample when capped) and the number of pairs in the dataset."""
        everything = load_scws()
        caps = [int(c) for c in (self.settings["limit"], self.settings["max_pairs"]) if c is not None]
        return sample(everything, min(caps, default=None), lambda it: it.id, "scws-sample"), len(everything)

    def contexts(self, items: list[SCWSItem]) -> tuple[list[tuple[str, ...]], list[int]]:
        """The (cropped) contexts, all first contexts then all second ones, and their target indices."""
        window = self.settings["window"]
        sents, idx = [], []
        for ctx, i in [(it.context1, it.index1) for it in items] + [(it.context2, it.index2) for it in items]:
            s, j = crop(ctx, i, window)
            sents.append(s)
            idx.append(j)
        return sents, idx

    def inputs(self) -> Requests:
        sents, idx = self.contexts(self.pairs()[0])
        req = Requests()
        req.add_targets(sents, idx)
        return req

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        items, total = self.pairs()
        sents, idx = self.contexts(items)
        vecs, missing = target_vectors(embedder, sents, idx)
        n = len(items)
        sampled = n if n < total else 0
        keep = ~(missing[:n] | missing[n:])
        if keep.sum() < 3:
            raise ValueError(f"scws: only {int(keep.sum())} of {n} pairs have vectors for {embedder.name}")
        cos = row_cosine(vecs[:n], vecs[n:])[keep]
        gold = np.array([it.rating for it in items])[keep]
        kept = [it for it, k in zip(items, keep, strict=True) if k]
        different = np.array([not same_word(it) for it in kept])
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        window = self.settings["window"]
        protocol = {
            "similarity": "cosine of in-context target vectors",
            "context": "whole context" if window is None else f"+-{window} tokens",
            "ci": f"percentile bootstrap over pairs, {n_boot}",
        }
        results = []
        for k, layer in enumerate(embedder.layers):
            c = cos[:, k]
            result = self.result(
                embedder, layer, spearman(c, gold), bootstrap_ci(spearman, c, gold, n_boot=n_boot, seed=seed),
                len(kept), total, protocol=protocol, sampled=sampled,
                extra={
                    "different_words_spearman": spearman(c[different], gold[different]),
                    "different_words_ci": list(
                        bootstrap_ci(spearman, c[different], gold[different], n_boot=n_boot, seed=seed)
                    ),
                    "different_words_n": int(different.sum()),
                    "same_word_pairs": int((~different).sum()),
                    "dropped_pairs": int(n - keep.sum()),
                },
            )
            results.append(result)
        return TaskOutput(results, self._selection(embedder, [it.id for it in kept], cos, gold))

    def _selection(self, embedder: VectorSource, ids: list[str], cos: np.ndarray, gold: np.ndarray) -> Selection:
        """The layer with the best Spearman on the dev half of the pairs, scored on the other half."""
        return select_by_dev_half(self, embedder, ids, cos, gold, unit="pairs")
