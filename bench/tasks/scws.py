"""SCWS: Spearman of the in-context cosine of two words against human similarity ratings.

Protocol
--------
- Each context is whitespace-tokenized; the ``<b> ... </b>`` markers locate the target,
  which stays one token. Contexts are cropped to ``window`` tokens each side of the target
  (default 5; ``None`` keeps the whole ~100-token context) to bound the cost, and at most
  ``max_pairs`` pairs (default 1,000 of 2,003, by a hash of the pair id, salted apart from
  the dev/test split below) are scored.
- A pair's score is the cosine of the two targets' vectors, per layer; Spearman's rho with
  the average human rating over the pairs. A pair with an all-zero target vector (a static
  model's OOV word) is dropped and counted (``n`` < ``total``).
- 95% CI: percentile bootstrap over pairs.
- Layer selection: pairs are split in halves by a hash of the pair id (the same split for
  every model); the layer with the best Spearman on the dev half is scored on the test half.

Static models score the same cosine as out of context: SCWS then measures plain word
similarity, which is what context is supposed to improve on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.datasets.scws import SCWSItem, load_scws
from bench.stats import bootstrap_ci, spearman
from bench.tasks.base import Task, TaskMeta, TaskOutput
from bench.tasks.context_vectors import crop, row_cosine, sample, target_vectors
from bench.tasks.similarity import select_by_dev_half
from bench.vectors import Requests, VectorSource

__all__ = ["SCWSTask"]


class SCWSTask(Task):
    """Contextual word similarity on SCWS."""

    meta = TaskMeta(
        name="scws",
        kind="context",
        description="SCWS: Spearman of the cosine of two words' in-context vectors against mean human "
        "ratings (2,003 pairs)",
        metric="spearman",
        datasets=("scws",),
        license="no explicit license (README asks to cite); research use",
        citation="Huang, Socher, Manning & Ng 2012, Improving Word Representations via Global Context "
        "and Multiple Word Prototypes, ACL 2012",
    )
    defaults: dict[str, Any] = {"window": 5, "max_pairs": 1000}

    def contexts(self) -> tuple[list[SCWSItem], list[tuple[str, ...]], list[int]]:
        """The sampled pairs, and their cropped contexts (all first contexts, then all second) with targets."""
        items = sample(
            load_scws(), self.settings["limit"] or self.settings["max_pairs"], lambda it: it.id, "scws-sample"
        )
        window = self.settings["window"]
        sents, idx = [], []
        for ctx, i in [(it.context1, it.index1) for it in items] + [(it.context2, it.index2) for it in items]:
            s, j = crop(ctx, i, window)
            sents.append(s)
            idx.append(j)
        return items, sents, idx

    def inputs(self) -> Requests:
        _, sents, idx = self.contexts()
        req = Requests()
        req.add_targets(sents, idx)
        return req

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        items, sents, idx = self.contexts()
        vecs, missing = target_vectors(embedder, sents, idx)
        n = len(items)
        keep = ~(missing[:n] | missing[n:])
        if keep.sum() < 3:
            raise ValueError(f"scws: only {int(keep.sum())} of {n} pairs have vectors for {embedder.name}")
        cos = row_cosine(vecs[:n], vecs[n:])[keep]
        gold = np.array([it.rating for it in items])[keep]
        ids = [it.id for it, k in zip(items, keep, strict=True) if k]
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        protocol = {
            "similarity": "cosine of in-context target vectors",
            "context": f"+-{self.settings['window']} tokens",
            "ci": f"percentile bootstrap over pairs, {n_boot}",
        }
        results = []
        for k, layer in enumerate(embedder.layers):
            rho = spearman(cos[:, k], gold)
            ci = bootstrap_ci(spearman, cos[:, k], gold, n_boot=n_boot, seed=seed)
            results.append(
                self.result(
                    embedder,
                    layer,
                    rho,
                    ci,
                    int(keep.sum()),
                    n,
                    protocol=protocol,
                    extra={"dropped_pairs": int(n - keep.sum())},
                )
            )
        return TaskOutput(results, select_by_dev_half(self, embedder, ids, cos, gold))
