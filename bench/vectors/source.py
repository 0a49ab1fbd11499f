"""Where tasks get vectors from: a model seen only through what tasks asked for.

Tasks do not call ``Embedder.embed`` themselves. They read vectors from a
:class:`VectorSource` — the vectors of given word positions (:meth:`VectorSource.targets`),
of words alone (:meth:`VectorSource.words_alone`), or of whole sentences pooled
(:meth:`VectorSource.pooled`) — and the source carries the model's metadata (name, layers,
family, ...). Two sources:

- :class:`DirectSource` computes what is asked, when it is asked (a task run on its own);
- :class:`PlannedSource` serves what the runner embedded beforehand for every task of a
  model (each distinct sentence once, in one canonical order, kept in the on-disk
  :class:`~bench.vectors.cache.EmbeddingCache`); anything not planned is computed and
  counted (``strict=True`` refuses it, which is how the tests check the declarations).

Examples
--------
>>> from embeddings.random_vectors import RandomEmbedder
>>> src = DirectSource(RandomEmbedder(dim=4))
>>> vecs, oov = src.targets([["the", "bank"], ["a", "bank", "loan"]], [1, 1])
>>> vecs.shape, bool(np.allclose(vecs[0], vecs[1])), oov.tolist()
((2, 1, 4), True, [False, False])
>>> src.pooled([["a", "b"]]).shape
(1, 1, 4)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from bench.vectors.pooling import pool_words
from bench.vectors.requests import Requests, Sentence
from embeddings.base import Embedder
from embeddings.progress import progress_bar

logger = logging.getLogger(__name__)

Row = tuple[np.ndarray, bool]
Table = dict[tuple[Sentence, int | str], Row]


def pool_row(vectors: np.ndarray, how: str = "mean") -> tuple[np.ndarray, bool]:
    """(n_layers, dim) pooling of a sentence's (n_words, n_layers, dim) vectors, skipping all-zero rows
    (:func:`bench.vectors.pooling.pool_words`), and whether no word had a vector (the result is zeros).

    >>> v = np.array([[[1.0, 2.0]], [[0.0, 0.0]], [[3.0, 0.0]]], np.float32)
    >>> pool_row(v, "mean")[0].tolist(), pool_row(v, "max")[0].tolist()
    ([[2.0, 1.0]], [[3.0, 2.0]])
    """
    empty = not vectors.reshape(len(vectors), -1).any() if len(vectors) else True
    return pool_words(vectors, how), bool(empty)


def compute(embedder: Embedder, requests: Requests, *, chunk: int = 256, progress: bool | None = None
            ) -> Iterator[list[tuple[Sentence, int | str, np.ndarray, bool]]]:
    """Embed the requested sentences in the canonical order; yield (sentence, item, vector, oov) rows.

    A static (non-contextual) model gives a word the same vector in any sentence, so its
    requests are served from the distinct words, embedded in long chunks.
    """
    if not embedder.contextual and not requests.pooled:
        words = sorted({s[i] for s, pos in requests.targets.items() for i in pos})
        vec: dict[str, Row] = {}
        for k in range(0, len(words), 4096):
            part = words[k : k + 4096]
            (wv,) = embedder.embed([part], progress=False)
            vec.update((w, (wv.vectors[j], bool(wv.oov[j]))) for j, w in enumerate(part))
        yield [(s, i, *vec[s[i]]) for s, pos in requests.targets.items() for i in sorted(pos)]
        return
    sentences = requests.sentences()
    starts = range(0, len(sentences), chunk)
    show = progress if progress is not None else len(starts) > 1
    for start in progress_bar(starts, desc=f"embed {embedder.name}", unit="chunk", disable=not show):
        batch = sentences[start : start + chunk]
        rows: list[tuple[Sentence, int | str, np.ndarray, bool]] = []
        for sent, wv in zip(batch, embedder.embed([list(s) for s in batch], progress=False), strict=True):
            for i in sorted(requests.targets.get(sent, ())):
                rows.append((sent, i, np.array(wv.vectors[i]), bool(wv.oov[i])))
            for how in sorted(requests.pooled.get(sent, ())):
                rows.append((sent, how, *pool_row(wv.vectors, how)))
        yield rows


class VectorSource:
    """A model's metadata plus access to the vectors tasks need (see the module docstring)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.family = embedder.family
        self.contextual = embedder.contextual
        self.direction = embedder.direction
        self.static_source = embedder.static_source
        self.layers = list(embedder.layers)
        self.layer_dims = list(embedder.layer_dims)
        self.checkpoint = embedder.checkpoint or embedder.name

    @property
    def dim(self) -> int:
        return int(max(self.layer_dims))

    def vocabulary(self) -> list[str] | None:
        return self.embedder.vocabulary()

    def describe(self) -> dict[str, Any]:
        return self.embedder.describe()

    # -- what tasks call ------------------------------------------------------------------
    def fetch(self, requests: Requests) -> Table:
        """Every requested item: {(sentence, position or pooling): (vector, oov)}."""
        raise NotImplementedError

    def targets(self, sentences: Sequence[Sequence[str]], indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors (n, n_layers, dim) of ``sentences[k][indices[k]]`` and the OOV mask (n,)."""
        if len(sentences) != len(indices):
            raise ValueError(f"{len(sentences)} sentences but {len(indices)} target indices")
        req = Requests()
        req.add_targets(sentences, indices)
        table = self.fetch(req)
        n = len(sentences)
        vecs = np.zeros((n, len(self.layers), self.dim), np.float32)
        oov = np.zeros(n, bool)
        for k, (s, i) in enumerate(zip(sentences, indices, strict=True)):
            vecs[k], oov[k] = table[(tuple(s), int(i))]
        return vecs, oov

    def words_alone(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each word as a one-word sentence: vectors (n, n_layers, dim) and the OOV mask."""
        return self.targets([[w] for w in words], [0] * len(words))

    def pooled(self, sentences: Sequence[Sequence[str]], pooling: str = "mean") -> np.ndarray:
        """Pooled word vectors (n, n_layers, dim) of each sentence (all-zero rows skipped)."""
        req = Requests()
        req.add_pooled(sentences, pooling)
        table = self.fetch(req)
        return np.stack([table[(tuple(s), pooling)][0] for s in sentences]) if len(sentences) else \
            np.zeros((0, len(self.layers), self.dim), np.float32)


class DirectSource(VectorSource):
    """Computes what is asked when it is asked, with a bounded in-memory memo."""

    def __init__(self, embedder: Embedder, *, memo_bytes: int = 1 << 30) -> None:
        super().__init__(embedder)
        self._memo: Table = {}
        self._bytes = 0
        self.memo_bytes = memo_bytes

    def fetch(self, requests: Requests) -> Table:
        missing = Requests()
        table: Table = {}
        for s, pos in requests.targets.items():
            for i in pos:
                if (s, i) in self._memo:
                    table[(s, i)] = self._memo[(s, i)]
                else:
                    missing.targets.setdefault(s, set()).add(i)
        for s, pools in requests.pooled.items():
            for p in pools:
                if (s, p) in self._memo:
                    table[(s, p)] = self._memo[(s, p)]
                else:
                    missing.pooled.setdefault(s, set()).add(p)
        if missing:
            for rows in compute(self.embedder, missing):
                for s, item, vec, oov in rows:
                    table[(s, item)] = (vec, oov)
                    if self._bytes + vec.nbytes <= self.memo_bytes:
                        self._memo[(s, item)] = (vec, oov)
                        self._bytes += vec.nbytes
        return table


def as_source(x: Embedder | VectorSource) -> VectorSource:
    """A source for ``x``: itself if it is one, else a :class:`DirectSource` around the embedder."""
    return x if isinstance(x, VectorSource) else DirectSource(x)
