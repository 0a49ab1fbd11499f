"""Per-dimension standardisation of a model's vectors, fitted on a sample that is not test data.

Why
---
In transformer language models a few "rogue" dimensions take values orders of magnitude
larger than the rest (SmolLM2-135M reaches 2.5e4) and dominate every cosine: two vectors
are similar because they share those few coordinates, whatever the rest say. Timkey & van
Schijndel (2021) show that z-scoring each dimension (subtract its mean, divide by its
standard deviation, both estimated on a corpus sample) removes that artefact and changes
what cosine-based measures say about a layer. ctxbench reports the raw cosine as the main
number and the standardised one beside it (in ``extra``), so a claim that only holds under
one of them is visible.

What
----
- :class:`Standardizer` (name :data:`Standardizer.name`): per layer, per dimension, the mean
  and the population standard deviation of the sample vectors; ``transform`` maps ``x`` to
  ``(x - mean) / std``. Dimensions that are constant in the sample (std <= ``eps``, e.g. the
  zero padding of a narrower layer) carry nothing to scale by and become 0. A vector that is
  all zeros in a layer (the model had nothing for the word: a static model's OOV word) stays
  all zeros rather than becoming ``-mean / std``.
- The sample (:func:`standardization_sample`): ``n_sentences`` (default
  :data:`DEFAULT_SENTENCES`) sentences of Brown's TRAIN
  split (:func:`~bench.datasets.corpora.brown_split`; every test set of ctxbench is other
  data: similarity pairs, and geometry reads the HELD-OUT split), 5 to 40 tokens, chosen by a
  hash of the sentence number (salt :data:`SALT`: the same sentences for every model), and
  EVERY word position of them. Tasks declare it in ``inputs()`` (:func:`sample_requests`),
  so the runner embeds it once per model and every task that standardises reads the same
  vectors. Rows with no vector (all zeros in every layer) are left out of the statistics.

Fairness for static models
--------------------------
A static model is standardised the same way: its vectors for the sample's tokens (so each
word weighted by its frequency in running text, as a contextual model's occurrences are),
mean and spread per dimension, the same transform. It is the same operation on the same
sample for every model, so raw-vs-raw and standardised-vs-standardised comparisons are both
like for like. It is not neutral: centring and scaling are a known improvement for static
vectors too (Mu & Viswanath 2018 remove the common mean direction), so a static model's
standardised score may rise as well, and that is part of the comparison, not a bias of it.
Two caveats: a static model's OOV tokens of the sample are skipped (its statistics describe
its in-vocabulary tokens only), and word2vec-brown / elmo-brown / ulmfit-brown were trained
on that same train split (only first and second moments are taken from it, no labels).
The transform is affine, so the mean of standardised vectors is the standardised mean: a
word's vector averaged over contexts needs no special case.

What it does not fix
--------------------
A contextual model's word-alone vector (a one-word sentence) is not like the sample's
in-context tokens, and standardising with in-context statistics does not make it so. Measured
on SmolLM2-135M (Brown sample of 300 sentences, SimLex-999's 1,028 words): the one content
token after BOS reaches activations of 2.7e4 (in-context tokens: at most 8e2), and the
word-alone vectors share a large common offset: in blocks 3-9 their mean pairwise cosine is
0.91 raw and still 0.65 standardised, against 0.52-0.57 raw and 0.002 standardised for in-context
tokens. SimLex-999 Spearman there stays flat under both (0.059-0.062 raw, 0.061-0.066
standardised): that flatness is a property of one-word inputs to the decoder, not only of
rogue dimensions. Context-averaged vectors (static-from-contextual) are means of in-context
tokens, the distribution the statistics describe.

Examples
--------
>>> x = np.array([[[1.0, 10.0]], [[3.0, 30.0]]])          # 2 vectors, 1 layer, 2 dims
>>> s = Standardizer().fit(x)
>>> s.mean.tolist(), s.std.tolist()
([[2.0, 20.0]], [[1.0, 10.0]])
>>> s.transform(x)[:, 0].tolist()
[[-1.0, -1.0], [1.0, 1.0]]
>>> s.transform(np.zeros((1, 1, 2))).tolist()              # no vector stays no vector
[[[0.0, 0.0]]]
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from bench.datasets.corpora import brown_split
from bench.tasks.base import stable_fraction
from bench.vectors import Requests, VectorSource

__all__ = ["DEFAULT_SENTENCES", "SALT", "Standardizer", "describe_sample", "fit_on_sample", "sample_requests",
           "standardization_sample"]

#: hash salt that picks the sample's sentences (the sample's fixed "seed")
SALT = "standardize"
#: sentence length bounds of the sample (tokens): bounded cost per sentence
MIN_LEN, MAX_LEN = 5, 40
#: sentences in the sample by default (~1,900 token vectors). Measured on SmolLM2-135M and
#: MiniLM-L6: standardised SimLex-999 / MEN Spearman with 100 sentences is within 0.001 of the
#: value with 300, and standardised geometry within 0.003, at a third of the embedding cost.
DEFAULT_SENTENCES = 100
CITATION = ("Timkey & van Schijndel 2021, All Bark and No Bite: Rogue Dimensions in Transformer Language Models "
            "Obscure Representational Quality, EMNLP 2021")


class Standardizer:
    """Per-layer, per-dimension z-scoring: ``fit`` on sample vectors, ``transform`` any vectors.

    Parameters
    ----------
    eps : float
        Dimensions whose sample standard deviation is at most ``eps`` are set to 0.

    Attributes
    ----------
    mean, std : ndarray (n_layers, dim), float64
        Sample mean and population standard deviation of each dimension of each layer.
    n : int
        Sample vectors the statistics were estimated from.
    """

    name: ClassVar[str] = "z-score per dimension per layer"

    def __init__(self, eps: float = 1e-8) -> None:
        self.eps = float(eps)
        self.n = 0
        self.mean: np.ndarray | None = None
        self._m2: np.ndarray | None = None  # sum of squared deviations (Chan et al.'s pairwise update)

    def partial_fit(self, vectors: np.ndarray) -> Standardizer:
        """Add (n, n_layers, dim) sample vectors; rows all zero in every layer (no vector) are skipped.

        Merged chunk by chunk with the pairwise update of Chan, Golub & LeVeque (1979), in float64,
        so a dimension whose mean is far larger than its spread loses no precision.
        """
        x = np.asarray(vectors)
        if x.ndim != 3:
            raise ValueError(f"Standardizer: expected (n, n_layers, dim) vectors, got shape {x.shape}")
        alive = x.reshape(len(x), -1).any(axis=1)
        if not alive.all():
            x = x[alive]
        if not len(x):
            return self
        if self.mean is not None and x.shape[1:] != self.mean.shape:
            raise ValueError(f"Standardizer: vectors of shape {x.shape[1:]} after {self.mean.shape}")
        n_b, mean_b = len(x), x.mean(axis=0, dtype=np.float64)
        dev = x - mean_b  # float64
        m2_b = np.einsum("ijk,ijk->jk", dev, dev)
        if self.mean is None or self._m2 is None:
            self.n, self.mean, self._m2 = n_b, mean_b, m2_b
            return self
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self._m2 = self._m2 + m2_b + delta**2 * (self.n * n_b / n)
        self.n = n
        return self

    def fit(self, vectors: np.ndarray) -> Standardizer:
        """Statistics of these (n, n_layers, dim) vectors alone (forgets any earlier fit)."""
        self.n, self.mean, self._m2 = 0, None, None
        return self.partial_fit(vectors)

    @property
    def std(self) -> np.ndarray:
        if self._m2 is None:
            raise ValueError("Standardizer: call fit() first (no sample vectors seen)")
        return np.sqrt(self._m2 / self.n)

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """``(x - mean) / std`` of (..., n_layers, dim) vectors, as float64; see the module docstring.

        All-zero (vector, layer) slices stay zero; constant dimensions become 0.
        """
        if self.mean is None:
            raise ValueError("Standardizer: call fit() first (no sample vectors seen)")
        x = np.asarray(vectors, np.float64)
        if x.shape[-2:] != self.mean.shape:
            raise ValueError(f"Standardizer fitted on {self.mean.shape} vectors, given {x.shape[-2:]}")
        std = self.std
        live = std > self.eps
        scale = np.divide(1.0, std, out=np.zeros_like(std), where=live)
        z = (x - self.mean) * scale
        return np.where(x.any(axis=-1, keepdims=True), z, 0.0)

    def describe(self) -> dict[str, Any]:
        """What a protocol records: the step's name and the sample size (vectors)."""
        return {"name": self.name, "n_vectors": self.n, "constant_dims_zeroed": f"std <= {self.eps:g}"}


def standardization_sample(n_sentences: int) -> list[tuple[str, ...]]:
    """The sample's sentences: ``n_sentences`` Brown TRAIN sentences of 5-40 tokens, by hash, in corpus order.

    The same for every model and every task (it depends only on ``n_sentences``); the
    held-out split, which the geometry task reads, is never in it.
    """
    if int(n_sentences) < 1:
        raise ValueError(f"standardization sample: n_sentences must be positive, got {n_sentences}")
    train, _ = brown_split()
    cands = [(i, s) for i, s in enumerate(train) if MIN_LEN <= len(s) <= MAX_LEN]
    cands.sort(key=lambda p: stable_fraction(str(p[0]), SALT))
    return [s for _, s in sorted(cands[: int(n_sentences)])]


def sample_requests(n_sentences: int) -> Requests:
    """Every word position of the sample's sentences (what :func:`fit_on_sample` reads)."""
    req = Requests()
    req.add_sentences(standardization_sample(n_sentences))
    return req


def describe_sample(n_sentences: int) -> str:
    return (f"every position of {n_sentences} Brown train sentences ({MIN_LEN}-{MAX_LEN} tokens, "
            f"hash salt {SALT!r}); never test data")


#: fitted statistics per source (a cache, not state: a pure function of the source's vectors and
#: the sample; it dies with the source). Reading SmolLM2's 5.6k sample vectors back from the
#: embedding cache takes ~6 s, and up to 15 tasks of a model standardise with the same sample.
_FITTED: weakref.WeakKeyDictionary[VectorSource, dict[int, tuple[int, np.ndarray, np.ndarray]]] = \
    weakref.WeakKeyDictionary()


def fit_on_sample(source: VectorSource, n_sentences: int, *, chunk: int = 512,
                  sentences: Sequence[Sequence[str]] | None = None) -> Standardizer:
    """A :class:`Standardizer` fitted on the sample's vectors from ``source``, read ``chunk`` positions at a time.

    ``sentences`` replaces the Brown sample (tests); by default it is
    :func:`standardization_sample` ``(n_sentences)``, and the fit is done once per source
    (later calls with the same ``n_sentences`` get a fresh Standardizer with the same statistics).
    """
    memo = _FITTED.setdefault(source, {}) if sentences is None else {}
    if n_sentences in memo:
        std = Standardizer()
        std.n, std.mean, std._m2 = (memo[n_sentences][0], memo[n_sentences][1].copy(),
                                    memo[n_sentences][2].copy())
        return std
    sents = [tuple(s) for s in (sentences if sentences is not None else standardization_sample(n_sentences))]
    positions = [(s, i) for s in sents for i in range(len(s))]
    std = Standardizer()
    for start in range(0, len(positions), chunk):
        part = positions[start : start + chunk]
        vecs, _ = source.targets([s for s, _ in part], [i for _, i in part])
        std.partial_fit(vecs)
    if std.n == 0:
        raise ValueError(f"standardization: {source.name} has no vector for any token of the sample")
    if sentences is None:
        assert std.mean is not None and std._m2 is not None
        memo[n_sentences] = (std.n, std.mean.copy(), std._m2.copy())
    return std
