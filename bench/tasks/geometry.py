"""Layer geometry after Ethayarajh (2019): how context-specific are a model's word vectors?

Protocol
--------
- Sentences: ``max_sentences`` (default 300) sentences of Brown's HELD-OUT split
  (:func:`~bench.datasets.corpora.brown_split`: every 20th sentence, never seen by the
  stand-ins word2vec-brown, elmo-brown and ulmfit-brown, which were trained on the rest), of
  ``min_len``..``max_len`` tokens, chosen by a hash of the sentence number (the same sample
  for every model), embedded once.
- Words: alphabetic tokens, identified by their EXACT form ("The" and "the" are two words:
  the models see case, and a context-free layer must give a word's occurrences the same
  vector). A word occurrence whose vector is all zeros in every layer (a static model's OOV
  word) is skipped.
- Self-similarity of a word: mean cosine between its vectors in different sentences (one
  occurrence per sentence, at most ``max_occurrences`` sentences by hash), for words in at
  least ``min_occurrences`` sentences; averaged over those words. A context-free layer
  scores exactly 1.
- Intra-sentence similarity: mean cosine between each word's vector and the mean vector of
  its sentence's words; averaged over sentences.
- Anisotropy baseline: mean cosine of ``n_pairs`` random pairs of occurrences of DIFFERENT
  words (seeded). Adjusted scores subtract it, per layer (Ethayarajh's correction).
- Main metric: anisotropy-adjusted self-similarity on RAW cosine (LOWER = more
  context-specific; a context-free layer scores 1 - baseline), with a 95% CI by bootstrap
  over words (baseline held fixed). Raw self-similarity, the baseline and intra-sentence
  similarity are in ``extra``.
- Standardised geometry beside it (``extra["standardized"]``): the same three measures after
  z-scoring every dimension of every layer (:mod:`bench.tasks.standardize`, Timkey & van
  Schijndel 2021), with statistics from ``standardize_sentences`` Brown TRAIN sentences (0:
  off). A few rogue dimensions can make every pair of vectors look alike (a high baseline);
  standardised, they no longer decide the cosine. ``value``/``ci`` there are the
  standardised adjusted self-similarity.
- Coverage: ``total`` is the words in ``min_occurrences``+ sampled sentences, ``n`` those
  scored (enough occurrences with vectors); the sentence sample is in ``protocol``.
- No layer selection: the task describes each layer, it has no "better" score.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from bench.datasets.corpora import brown_split
from bench.tasks.base import Task, TaskMeta, TaskOutput, stable_fraction
from bench.tasks.context_vectors import normalize
from bench.tasks.standardize import CITATION as STANDARDIZE_CITATION
from bench.tasks.standardize import DEFAULT_SENTENCES, Standardizer, describe_sample, fit_on_sample, sample_requests
from bench.vectors import Requests, VectorSource

__all__ = ["GeometryTask", "intra_sentence_similarity", "self_similarity"]

Occurrence = tuple[int, int]  # (sentence number in the sample, word position)


def self_similarity(unit_vectors: np.ndarray) -> float:
    """Mean cosine over distinct pairs of unit-length rows (n >= 2).

    >>> x = normalize(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    >>> round(self_similarity(x), 6)  # (0 + .707 + .707) / 3
    0.471405
    """
    n = len(unit_vectors)
    s = unit_vectors @ unit_vectors.T
    return float((s.sum() - np.trace(s)) / (n * (n - 1)))


def intra_sentence_similarity(vectors: np.ndarray) -> float | np.ndarray:
    """Mean cosine between each row and the mean of the rows, per layer: (n, [n_layers,] dim) -> float or (n_layers,).

    >>> round(float(intra_sentence_similarity(np.array([[1.0, 0.0], [0.0, 1.0]]))), 6)  # both at 45 degrees
    0.707107
    """
    v = np.asarray(vectors, np.float64)
    mean = v.mean(0, keepdims=True)
    similarity: float | np.ndarray = (normalize(v) * normalize(mean)).sum(-1).mean(0)
    return similarity


class _Accumulator:
    """Per-word sums of unit vectors, per layer: self-similarity without keeping the vectors.

    For unit vectors u_1..u_n the mean cosine over distinct pairs is
    (|sum u|^2 - sum |u|^2) / (n (n - 1)).
    """

    def __init__(self) -> None:
        self.sums: dict[str, np.ndarray] = {}
        self.sq: dict[str, np.ndarray] = {}
        self.count: dict[str, int] = defaultdict(int)

    def add(self, word: str, unit: np.ndarray) -> None:  # unit: (n_layers, dim) float64
        if word in self.sums:
            self.sums[word] += unit
            self.sq[word] += (unit * unit).sum(-1)
        else:
            self.sums[word], self.sq[word] = unit.copy(), (unit * unit).sum(-1)
        self.count[word] += 1

    def self_similarity(self, word: str) -> np.ndarray:  # (n_layers,)
        n = self.count[word]
        s = self.sums[word]
        similarity: np.ndarray = ((s * s).sum(-1) - self.sq[word]) / (n * (n - 1))
        return similarity


class GeometryTask(Task):
    """Self-similarity, intra-sentence similarity and anisotropy per layer (Ethayarajh 2019)."""

    meta = TaskMeta(
        name="geometry",
        kind="geometry",
        description="Ethayarajh (2019) geometry on held-out Brown sentences, words by exact form: "
        "anisotropy-adjusted self-similarity of words across contexts on raw cosine (lower = more "
        "context-specific); intra-sentence similarity, the anisotropy baseline and the same measures after "
        "per-dimension standardisation (Timkey & van Schijndel 2021) in extra",
        metric="adjusted self-similarity",
        datasets=("brown",),
        license="Brown: may be used for non-commercial purposes (NLTK metadata)",
        citation="Ethayarajh 2019, How Contextual are Contextualized Word Representations? Comparing the "
        f"Geometry of BERT, ELMo, and GPT-2 Embeddings, EMNLP-IJCNLP 2019; {STANDARDIZE_CITATION}",
        higher_is_better=False,
        # 2: exact word forms, Brown held-out split, standardised measures in extra
        version="2",
    )
    defaults: dict[str, Any] = {
        "max_sentences": 300,
        "min_len": 5,
        "max_len": 40,
        "min_occurrences": 5,
        "max_occurrences": 20,
        "n_pairs": 2000,
        "standardize_sentences": DEFAULT_SENTENCES,
    }

    def _eligible(self) -> list[tuple[int, tuple[str, ...]]]:
        lo, hi = self.settings["min_len"], self.settings["max_len"]
        _, held_out = brown_split()
        return [(i, s) for i, s in enumerate(held_out) if lo <= len(s) <= hi]

    def sentences(self) -> list[tuple[str, ...]]:
        """The sampled held-out sentences, in corpus order (the same for every model)."""
        cap = self.settings["limit"] or self.settings["max_sentences"]
        cands = sorted(self._eligible(), key=lambda p: stable_fraction(str(p[0]), "geometry"))
        return [s for _, s in sorted(cands[: int(cap)])]

    def inputs(self) -> Requests:
        """Every alphabetic word of the sampled sentences, and the standardisation sample."""
        req = Requests()
        for s in self.sentences():
            pos = [pi for pi, w in enumerate(s) if w.isalpha()]
            req.add_targets([s] * len(pos), pos)
        if self.settings["standardize_sentences"]:
            req.merge(sample_requests(self.settings["standardize_sentences"]))
        return req

    def _plan(self, sents: list[tuple[str, ...]]
              ) -> tuple[dict[str, list[Occurrence]], list[tuple[Occurrence, Occurrence]]]:
        """Occurrences for self-similarity (per word) and the random pairs of the baseline."""
        occ_by_word: dict[str, list[Occurrence]] = defaultdict(list)
        for si, s in enumerate(sents):
            seen = set()
            for pi, w in enumerate(s):
                if w.isalpha() and w not in seen:  # exact form: one occurrence per sentence
                    seen.add(w)
                    occ_by_word[w].append((si, pi))
        min_occ, max_occ = self.settings["min_occurrences"], self.settings["max_occurrences"]
        chosen = {
            w: sorted(sorted(o, key=lambda x: stable_fraction(f"{w}:{x[0]}", "geometry"))[:max_occ])
            for w, o in occ_by_word.items()
            if len(o) >= min_occ
        }
        all_occ = [(si, pi) for si, s in enumerate(sents) for pi, w in enumerate(s) if w.isalpha()]
        rng = np.random.default_rng(self.settings["seed"])
        pairs: list[tuple[Occurrence, Occurrence]] = []
        for _ in range(20 * self.settings["n_pairs"]):
            if len(pairs) >= self.settings["n_pairs"] or not all_occ:
                break
            a, b = rng.integers(0, len(all_occ), 2)
            (sa, pa), (sb, pb) = all_occ[a], all_occ[b]
            if sents[sa][pa] != sents[sb][pb]:
                pairs.append((all_occ[a], all_occ[b]))
        return chosen, pairs

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        sents = self.sentences()
        chosen, pairs = self._plan(sents)
        word_of = {o: w for w, occ in chosen.items() for o in occ}
        pair_members = {o for p in pairs for o in p}
        n_std = self.settings["standardize_sentences"]
        std = fit_on_sample(embedder, n_std) if n_std else None
        variants = ["raw", "standardized"] if std is not None else ["raw"]
        L = len(embedder.layers)
        acc = {v: _Accumulator() for v in variants}
        intra = {v: np.full((len(sents), L), np.nan) for v in variants}
        kept: dict[Occurrence, np.ndarray] = {}  # raw vectors of the baseline pairs' occurrences
        for start in range(0, len(sents), 64):  # bounded memory: 64 sentences at a time
            occ = [(si, pi) for si in range(start, min(start + 64, len(sents)))
                   for pi, w in enumerate(sents[si]) if w.isalpha()]
            if not occ:
                continue
            vecs, _ = embedder.targets([sents[si] for si, _ in occ], [pi for _, pi in occ])
            rows_of: dict[int, list[int]] = defaultdict(list)
            for k, (si, _) in enumerate(occ):
                rows_of[si].append(k)
            for si, rows in rows_of.items():
                v = vecs[rows].astype(np.float64)  # (alphabetic words, L, dim)
                alive = np.any(v.reshape(len(v), -1), axis=1)
                views = {"raw": v}
                if std is not None:
                    views["standardized"] = std.transform(v)
                for name, x in views.items():
                    if alive.sum() >= 2:
                        intra[name][si] = intra_sentence_similarity(x[alive])
                    units = normalize(x)
                    for r in np.flatnonzero(alive):
                        o = occ[rows[r]]
                        if o in word_of:
                            acc[name].add(word_of[o], units[r])
                for r in np.flatnonzero(alive):
                    if occ[rows[r]] in pair_members:
                        kept[occ[rows[r]]] = vecs[rows[r]]
        usable = [(a, b) for a, b in pairs if a in kept and b in kept]
        if not usable:
            raise ValueError(f"geometry: no word pairs with vectors for {embedder.name}")
        base = {v: np.zeros(L) for v in variants}
        for start in range(0, len(usable), 256):
            part = usable[start : start + 256]
            a = np.stack([kept[x] for x, _ in part]).astype(np.float64)
            b = np.stack([kept[y] for _, y in part]).astype(np.float64)
            base["raw"] += (normalize(a) * normalize(b)).sum(-1).sum(0)
            if std is not None:
                base["standardized"] += (normalize(std.transform(a)) * normalize(std.transform(b))).sum(-1).sum(0)
        base = {v: s / len(usable) for v, s in base.items()}
        min_occ = self.settings["min_occurrences"]
        words = [w for w in chosen if acc["raw"].count[w] >= min_occ]
        if not words:
            raise ValueError(f"geometry: no word occurs in {min_occ}+ sentences with vectors for {embedder.name}")
        S = {v: np.array([acc[v].self_similarity(w) for w in words]) for v in variants}  # (n_words, L)
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        idx = np.random.default_rng(seed).integers(0, len(words), size=(n_boot, len(words)))
        lo, hi = self.settings["min_len"], self.settings["max_len"]
        protocol = {
            "corpus": f"Brown held-out split (every 20th sentence): {len(sents)} of {len(self._eligible())} "
            f"sentences of {lo}-{hi} tokens, by hash",
            "words": "alphabetic tokens, exact form (case kept)",
            "main": "raw cosine; standardized cosine in extra['standardized']" if std is not None else "raw cosine",
            "ci": f"percentile bootstrap over words ({n_boot}), baseline held fixed",
        }
        if std is not None:
            protocol["standardizer"] = f"{Standardizer.name}, fitted on {describe_sample(n_std)}"

        def ci_of(adj: np.ndarray) -> tuple[float, float]:
            boot = adj[idx].mean(1)
            return float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))

        results = []
        for k, layer in enumerate(embedder.layers):
            adj = S["raw"][:, k] - base["raw"][k]
            intra_k = float(np.nanmean(intra["raw"][:, k]))
            extra: dict[str, Any] = {
                "self_similarity": float(S["raw"][:, k].mean()),
                "intra_sentence": intra_k,
                "intra_sentence_adjusted": intra_k - float(base["raw"][k]),
                "anisotropy_baseline": float(base["raw"][k]),
                "n_baseline_pairs": len(usable),
                "n_sentences": int(np.isfinite(intra["raw"][:, k]).sum()),
            }
            if std is not None:
                adj_z = S["standardized"][:, k] - base["standardized"][k]
                intra_z = float(np.nanmean(intra["standardized"][:, k]))
                extra["standardized"] = {
                    "value": float(adj_z.mean()),
                    "ci": list(ci_of(adj_z)),
                    "self_similarity": float(S["standardized"][:, k].mean()),
                    "intra_sentence": intra_z,
                    "intra_sentence_adjusted": intra_z - float(base["standardized"][k]),
                    "anisotropy_baseline": float(base["standardized"][k]),
                    "n_sample_vectors": std.n,
                }
            results.append(self.result(embedder, layer, float(adj.mean()), ci_of(adj), len(words), len(chosen),
                                       protocol=protocol, extra=extra))
        return TaskOutput(results, None)
