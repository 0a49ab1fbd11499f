"""Vectors of target words in their sentences, for every layer, in bounded memory.

The context tasks (WiC, SCWS, CoarseWSD-20, the probes, static-from-contextual) all need the
same thing: the vector of word ``index`` of each sentence, per layer. This module embeds
the distinct sentences once, longest-last in chunks (so memory stays bounded however many
sentences), and keeps only the target rows. It sees only the
:class:`~embeddings.base.Embedder` interface: static models return their one vector.

Examples
--------
>>> from embeddings.random_vectors import RandomEmbedder
>>> emb = RandomEmbedder(dim=4)
>>> vecs, missing = target_vectors(emb, [["the", "bank"], ["a", "bank", "loan"]], [1, 1])
>>> vecs.shape, bool(np.allclose(vecs[0], vecs[1])), missing.tolist()
((2, 1, 4), True, [False, False])
>>> crop(("a", "b", "c", "d", "e"), 3, 1)
(('c', 'd', 'e'), 1)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from embeddings.base import Embedder
from embeddings.progress import progress_bar

__all__ = [
    "cosine_matrix",
    "crop",
    "iter_target_vectors",
    "normalize",
    "row_cosine",
    "sample",
    "target_vectors",
]


def crop(tokens: Sequence[str], index: int, window: int | None) -> tuple[tuple[str, ...], int]:
    """Keep at most ``window`` tokens each side of ``tokens[index]``; returns (tokens, new index)."""
    tokens = tuple(tokens)
    if window is None or window < 0:
        return tokens, index
    start = max(0, index - window)
    return tokens[start : index + window + 1], index - start


def iter_target_vectors(
    embedder: Embedder,
    sentences: Sequence[Sequence[str]],
    indices: Sequence[int],
    *,
    chunk: int = 256,
    progress: bool | None = None,
) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """Yield ``(item numbers, vectors (k, n_layers, dim), oov (k,))`` chunk by chunk.

    Identical sentences are embedded once; every item whose sentence is in the chunk is
    yielded with it. Items come in an order sorted by sentence length, not input order.
    """
    if len(sentences) != len(indices):
        raise ValueError(f"{len(sentences)} sentences but {len(indices)} target indices")
    by_sentence: dict[tuple[str, ...], list[int]] = {}
    for i, (sent, idx) in enumerate(zip(sentences, indices, strict=True)):
        sent = tuple(sent)
        if not 0 <= idx < len(sent):
            raise IndexError(f"item {i}: target index {idx} outside a sentence of {len(sent)} words")
        by_sentence.setdefault(sent, []).append(i)
    unique = sorted(by_sentence, key=len)
    starts = range(0, len(unique), chunk)
    show = progress if progress is not None else len(starts) > 1
    for start in progress_bar(starts, desc=f"embed {embedder.name}", unit="chunk", disable=not show):
        part = unique[start : start + chunk]
        out = embedder.embed([list(s) for s in part], progress=False)
        items, rows, oovs = [], [], []
        for sent, wv in zip(part, out, strict=True):
            for i in by_sentence[sent]:
                items.append(i)
                rows.append(wv.vectors[indices[i]])
                oovs.append(bool(wv.oov[indices[i]]))
        yield items, np.stack(rows), np.array(oovs, dtype=bool)


def target_vectors(
    embedder: Embedder, sentences: Sequence[Sequence[str]], indices: Sequence[int], *, chunk: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Vectors (n, n_layers, dim) of ``sentences[i][indices[i]]`` in input order, and a bool mask
    (n,) of the items whose vector is all zeros in every layer (the model had nothing for the word).
    """
    n = len(sentences)
    vecs = np.zeros((n, len(embedder.layers), embedder.dim), np.float32)
    for items, rows, _oov in iter_target_vectors(embedder, sentences, indices, chunk=chunk):
        vecs[items] = rows
    missing = ~np.any(vecs.reshape(n, -1), axis=1) if n else np.zeros(0, bool)
    return vecs, missing


def row_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of matching rows along the last axis; 0 where either row is all zeros."""
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (a * b).sum(-1) / (na * nb)
    return np.where((na > 0) & (nb > 0), cos, 0.0)


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length along the last axis (zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x, dtype=np.float64), where=norm > 0)


def cosine_matrix(x: np.ndarray) -> np.ndarray:
    """All-pairs cosine of the rows of ``x`` (n, d) -> (n, n)."""
    u = normalize(np.asarray(x, np.float64))
    return u @ u.T


def sample(items: Sequence, limit: int | None, key, salt: str) -> list:
    """At most ``limit`` items, chosen by a hash of ``key(item)`` (model-independent), in input order.

    >>> sample(list(range(10)), 3, str, "x") == sample(list(range(10)), 3, str, "x")
    True
    >>> sample([1, 2], None, str, "x")
    [1, 2]
    """
    from bench.tasks.base import stable_fraction

    items = list(items)
    if limit is None or len(items) <= int(limit):
        return items
    ranked = sorted(range(len(items)), key=lambda i: stable_fraction(str(key(items[i])), salt))
    keep = sorted(ranked[: int(limit)])
    return [items[i] for i in keep]
