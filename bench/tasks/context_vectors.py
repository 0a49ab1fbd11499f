"""Vectors of target words in their sentences, for every layer, and the geometry helpers on them.

The context tasks (WiC, SCWS, CoarseWSD-20, the probes, static-from-contextual) all need the
vector of word ``index`` of each sentence, per layer: :func:`target_vectors` reads them from a
:class:`~bench.vectors.source.VectorSource` (which embeds each distinct sentence once) and
marks the items whose vector is all zeros (a static model's OOV word). Task code sees only
the source: static models return their one vector.

Examples
--------
>>> from embeddings.random_vectors import RandomEmbedder
>>> from bench.vectors import DirectSource
>>> source = DirectSource(RandomEmbedder(dim=4))
>>> vecs, missing = target_vectors(source, [["the", "bank"], ["a", "bank", "loan"]], [1, 1])
>>> vecs.shape, bool(np.allclose(vecs[0], vecs[1])), missing.tolist()
((2, 1, 4), True, [False, False])
>>> crop(("a", "b", "c", "d", "e"), 3, 1)
(('c', 'd', 'e'), 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from bench.vectors import VectorSource

__all__ = [
    "cosine_matrix",
    "crop",
    "normalize",
    "pair_cosine",
    "row_cosine",
    "sample",
    "target_vectors",
]

T = TypeVar("T")


def crop(tokens: Sequence[str], index: int, window: int | None) -> tuple[tuple[str, ...], int]:
    """Keep at most ``window`` tokens each side of ``tokens[index]``; returns (tokens, new index)."""
    tokens = tuple(tokens)
    if window is None or window < 0:
        return tokens, index
    start = max(0, index - window)
    return tokens[start : index + window + 1], index - start


def target_vectors(
    source: VectorSource, sentences: Sequence[Sequence[str]], indices: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Vectors (n, n_layers, dim) of ``sentences[i][indices[i]]`` in input order, and a bool mask
    (n,) of the items whose vector is all zeros in every layer (the model had nothing for the word).
    """
    for i, (sent, idx) in enumerate(zip(sentences, indices, strict=True)):
        if not 0 <= idx < len(sent):
            raise IndexError(f"item {i}: target index {idx} outside a sentence of {len(sent)} words")
    vecs, _ = source.targets(sentences, indices)
    n = len(sentences)
    missing = ~np.any(vecs.reshape(n, -1), axis=1) if n else np.zeros(0, bool)
    return vecs, missing


def row_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of matching rows along the last axis; 0 where either row is all zeros."""
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (a * b).sum(-1) / (na * nb)
    matched: np.ndarray = np.where((na > 0) & (nb > 0), cos, 0.0)
    return matched


def pair_cosine(vectors: dict[str, np.ndarray], left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    """:func:`row_cosine` of ``vectors[left[i]]`` and ``vectors[right[i]]`` -> (n, layers).

    The same numbers as stacking both sides and calling :func:`row_cosine` (each dot
    product and norm is the same contiguous reduction), without materialising two
    (pairs, layers, dim) copies: one (pairs, dim) layer at a time.
    """
    words = list(vectors)
    position = {w: i for i, w in enumerate(words)}
    table = np.stack([vectors[w] for w in words])  # (words, layers, dim): each word once
    ia = np.array([position[w] for w in left], dtype=np.intp)
    ib = np.array([position[w] for w in right], dtype=np.intp)
    norms = np.linalg.norm(table, axis=-1)
    dots = np.empty((len(ia), table.shape[1]), dtype=norms.dtype)
    for k in range(table.shape[1]):
        layer = np.ascontiguousarray(table[:, k, :])
        dots[:, k] = (layer[ia] * layer[ib]).sum(-1)
    na, nb = norms[ia], norms[ib]
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = dots / (na * nb)
    matched: np.ndarray = np.where((na > 0) & (nb > 0), cos, 0.0)
    return matched


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length along the last axis (zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    units: np.ndarray = np.divide(x, norm, out=np.zeros_like(x, dtype=np.float64), where=norm > 0)
    return units


def cosine_matrix(x: np.ndarray) -> np.ndarray:
    """All-pairs cosine of the rows of ``x`` (n, d) -> (n, n)."""
    u = normalize(np.asarray(x, np.float64))
    cos: np.ndarray = u @ u.T
    return cos


def sample(items: Sequence[T], limit: int | None, key: Callable[[T], object], salt: str) -> list[T]:
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
