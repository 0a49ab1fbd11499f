"""Layer geometry after Ethayarajh (2019): how context-specific are a model's word vectors?

Protocol
--------
- A sample of ``max_sentences`` (default 300) Brown sentences (chosen by a hash of the sentence number,
  ``min_len``..``max_len`` tokens; the same sample for every model) is embedded once.
  Only alphabetic tokens count as words (lower-cased for identity); a word occurrence whose
  vector is all zeros in every layer (a static model's OOV word) is skipped.
- Self-similarity of a word: mean cosine between its vectors in different sentences (one
  occurrence per sentence, at most ``max_occurrences`` sentences by hash), for words in at
  least ``min_occurrences`` sentences; averaged over those words.
- Intra-sentence similarity: mean cosine between each word's vector and the mean vector of
  its sentence; averaged over sentences.
- Anisotropy baseline: mean cosine of ``n_pairs`` random pairs of occurrences of DIFFERENT
  words (seeded). Adjusted scores subtract it, per layer (Ethayarajh's correction).
- Main metric: anisotropy-adjusted self-similarity (LOWER = more context-specific; a static
  model scores 1 - baseline), with a 95% CI by bootstrap over words. Raw scores, the
  baseline and adjusted intra-sentence similarity are in ``extra``.
- No layer selection: the task describes each layer, it has no "better" score.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from bench.datasets.corpora import brown_sentences
from bench.tasks.base import Task, TaskMeta, TaskOutput, stable_fraction
from bench.tasks.context_vectors import normalize
from bench.vectors import Requests, VectorSource

__all__ = ["GeometryTask", "self_similarity", "intra_sentence_similarity"]


def self_similarity(unit_vectors: np.ndarray) -> float:
    """Mean cosine over distinct pairs of unit-length rows (n >= 2).

    >>> x = normalize(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    >>> round(self_similarity(x), 6)  # (0 + .707 + .707) / 3
    0.471405
    """
    n = len(unit_vectors)
    s = unit_vectors @ unit_vectors.T
    return float((s.sum() - np.trace(s)) / (n * (n - 1)))


def intra_sentence_similarity(vectors: np.ndarray) -> float:
    """Mean cosine between each row and the mean of the rows.

    >>> round(intra_sentence_similarity(np.array([[1.0, 0.0], [0.0, 1.0]])), 6)  # both at 45 degrees
    0.707107
    """
    mean = vectors.mean(0, keepdims=True)
    return float((normalize(vectors) @ normalize(mean).T).mean())


class GeometryTask(Task):
    """Self-similarity, intra-sentence similarity and anisotropy per layer (Ethayarajh 2019)."""

    meta = TaskMeta(
        name="geometry",
        kind="geometry",
        description="Ethayarajh (2019) geometry on a Brown sample: anisotropy-adjusted self-similarity of "
        "words across contexts (lower = more context-specific); intra-sentence similarity and "
        "the anisotropy baseline in extra",
        metric="adjusted self-similarity",
        datasets=("brown",),
        license="Brown: may be used for non-commercial purposes (NLTK metadata)",
        citation="Ethayarajh 2019, How Contextual are Contextualized Word Representations? Comparing the "
        "Geometry of BERT, ELMo, and GPT-2 Embeddings, EMNLP-IJCNLP 2019",
        higher_is_better=False,
    )
    defaults: dict[str, Any] = {
        "max_sentences": 300,
        "min_len": 5,
        "max_len": 40,
        "min_occurrences": 5,
        "max_occurrences": 20,
        "n_pairs": 2000,
    }

    def sentences(self) -> list[tuple[str, ...]]:
        lo, hi = self.settings["min_len"], self.settings["max_len"]
        cap = self.settings["limit"] or self.settings["max_sentences"]
        cands = [(i, s) for i, s in enumerate(brown_sentences()) if lo <= len(s) <= hi]
        cands.sort(key=lambda p: stable_fraction(str(p[0]), "geometry"))
        return [s for _, s in sorted(cands[: int(cap)])]

    def inputs(self) -> Requests:
        """Every alphabetic word of the sampled sentences."""
        req = Requests()
        for s in self.sentences():
            pos = [pi for pi, w in enumerate(s) if w.isalpha()]
            req.add_targets([s] * len(pos), pos)
        return req

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        sents = self.sentences()
        words = [[w.lower() if w.isalpha() else None for w in s] for s in sents]
        # occurrences: (sentence, position) of alphabetic words; one per sentence per word
        occ_by_word: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for si, ws in enumerate(words):
            seen = set()
            for pi, w in enumerate(ws):
                if w is not None and w not in seen:
                    seen.add(w)
                    occ_by_word[w].append((si, pi))
        min_occ, max_occ = self.settings["min_occurrences"], self.settings["max_occurrences"]
        selfsim_occ = {
            w: sorted(o, key=lambda x: stable_fraction(f"{w}:{x[0]}", "geometry"))[:max_occ]
            for w, o in occ_by_word.items()
            if len(o) >= min_occ
        }
        all_occ = [(si, pi) for si, ws in enumerate(words) for pi, w in enumerate(ws) if w is not None]
        rng = np.random.default_rng(self.settings["seed"])
        pairs: list[tuple[tuple[int, int], tuple[int, int]]] = []
        for _ in range(20 * self.settings["n_pairs"]):
            if len(pairs) >= self.settings["n_pairs"]:
                break
            a, b = rng.integers(0, len(all_occ), 2)
            (sa, pa), (sb, pb) = all_occ[a], all_occ[b]
            if words[sa][pa] != words[sb][pb]:
                pairs.append((all_occ[a], all_occ[b]))
        needed = {o for occ in selfsim_occ.values() for o in occ} | {o for p in pairs for o in p}
        L = len(embedder.layers)
        store: dict[tuple[int, int], np.ndarray] = {}
        intra = np.full((len(sents), L), np.nan)
        occ = [(si, pi) for si, ws in enumerate(words) for pi, w in enumerate(ws) if w is not None]
        vecs, _ = embedder.targets([sents[si] for si, _ in occ], [pi for _, pi in occ])
        by_sentence: dict[int, list[int]] = defaultdict(list)
        for k, (si, _) in enumerate(occ):
            by_sentence[si].append(k)
        for si, rows in by_sentence.items():
            v = vecs[rows]  # (alphabetic words, L, dim)
            alive = np.any(v.reshape(len(v), -1), axis=1)
            for k in np.flatnonzero(alive):
                o = occ[rows[k]]
                if o in needed:
                    store[o] = normalize(v[k].astype(np.float64)).astype(np.float32)
            if alive.sum() >= 2:
                for layer in range(L):
                    intra[si, layer] = intra_sentence_similarity(v[alive, layer].astype(np.float64))
        # anisotropy baseline per layer
        pa = [(store[a], store[b]) for a, b in pairs if a in store and b in store]
        if not pa:
            raise ValueError(f"geometry: no word pairs with vectors for {embedder.name}")
        base = np.mean([(x * y).sum(-1) for x, y in pa], axis=0)  # (L,)
        selfsim_words = []
        sims = []
        for w, occ in selfsim_occ.items():
            vs = [store[o] for o in occ if o in store]
            if len(vs) >= min_occ:
                m = np.stack(vs)  # (n, L, dim)
                sims.append([self_similarity(m[:, k]) for k in range(L)])
                selfsim_words.append(w)
        if not sims:
            raise ValueError(
                f"geometry: no word occurs in {min_occ}+ sentences with vectors for {embedder.name}"
            )
        S = np.array(sims)  # (n_words, L)
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        idx = np.random.default_rng(seed).integers(0, len(S), size=(n_boot, len(S)))
        protocol = {
            "corpus": "Brown sample",
            "n_sentences": len(sents),
            "words": "alphabetic tokens, lower-cased",
            "ci": f"percentile bootstrap over words ({n_boot}), baseline held fixed",
        }
        results = []
        for k, layer in enumerate(embedder.layers):
            adj = S[:, k] - base[k]
            boot = adj[idx].mean(1)
            ci = (float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975)))
            intra_k = float(np.nanmean(intra[:, k]))
            results.append(
                self.result(
                    embedder,
                    layer,
                    float(adj.mean()),
                    ci,
                    len(S),
                    len(selfsim_occ),
                    protocol=protocol,
                    extra={
                        "self_similarity": float(S[:, k].mean()),
                        "intra_sentence": intra_k,
                        "intra_sentence_adjusted": intra_k - float(base[k]),
                        "anisotropy_baseline": float(base[k]),
                        "n_baseline_pairs": len(pa),
                        "n_sentences": int(np.isfinite(intra[:, k]).sum()),
                    },
                )
            )
        return TaskOutput(results, None)
