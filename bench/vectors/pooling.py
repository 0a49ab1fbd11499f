"""Pooling a sentence's word vectors into one vector per layer (sentence features).

The runner pools while it embeds (a pooled request keeps one (n_layers, dim) vector per
sentence instead of every word), so the pooling lives here, below the tasks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["POOLINGS", "pool_sentences", "pool_words"]

POOLINGS = ("mean", "max")


def pool_words(
    vectors: np.ndarray, how: str = "mean", *, skip_zero_rows: bool = True, layer_mean: bool = False
) -> np.ndarray:
    """Pool one sentence's word vectors into one vector per layer.

    Parameters
    ----------
    vectors : ndarray, shape (n_words, n_layers, dim)
        ``WordVectors.vectors`` of the sentence.
    how : {"mean", "max"}
        Element-wise mean or max over the words.
    skip_zero_rows : bool
        Leave out words whose vector is zero in every layer: a static model's OOV words
        (a contextual model's vectors are never all zero). A sentence with no word left
        gets zeros.
    layer_mean : bool
        Then average the pooled vectors over the layers (equal weights, as
        ``embed(layers="mean")``): the result has one layer.

    Returns
    -------
    ndarray of float32, shape (n_layers, dim), or (1, dim) with ``layer_mean``
        Means are accumulated in float64.

    Examples
    --------
    >>> v = np.array([[[1., 2.]], [[0., 0.]], [[3., -4.]]])   # 3 words, 1 layer, dim 2; word 2 is OOV
    >>> pool_words(v).tolist(), pool_words(v, "max").tolist()
    ([[2.0, -1.0]], [[3.0, 2.0]])
    >>> pool_words(v, skip_zero_rows=False).astype(float).round(3).tolist()
    [[1.333, -0.667]]
    >>> pool_words(np.zeros((0, 3, 4))).shape
    (3, 4)
    """
    if how not in POOLINGS:
        raise ValueError(f"pooling {how!r}; allowed: {POOLINGS}")
    v = np.asarray(vectors)
    if v.ndim != 3:
        raise ValueError(f"word vectors of shape {v.shape}, expected (n_words, n_layers, dim)")
    if skip_zero_rows and len(v):
        v = v[np.any(v != 0, axis=(1, 2))]
    if not len(v):
        out = np.zeros(v.shape[1:])
    elif how == "mean":
        out = v.mean(axis=0, dtype=np.float64)
    else:
        out = v.max(axis=0)
    if layer_mean:
        out = out.mean(axis=0, keepdims=True, dtype=np.float64)
    return np.asarray(out, dtype=np.float32)


def pool_sentences(
    word_vectors: Sequence[np.ndarray], how: str = "mean", *, skip_zero_rows: bool = True, layer_mean: bool = False,
) -> np.ndarray:
    """:func:`pool_words` for each sentence, stacked: (n_sentences, n_layers, dim) float32.

    All sentences must share n_layers and dim.

    >>> a, b = np.ones((2, 3, 4)), np.zeros((0, 3, 4))
    >>> pool_sentences([a, b]).shape, pool_sentences([a, b], layer_mean=True).shape
    ((2, 3, 4), (2, 1, 4))
    """
    if not len(word_vectors):
        raise ValueError("pool_sentences needs at least one sentence (its shape gives n_layers and dim)")
    pooled = [pool_words(v, how, skip_zero_rows=skip_zero_rows, layer_mean=layer_mean) for v in word_vectors]
    for i, p in enumerate(pooled):
        if p.shape != pooled[0].shape:
            raise ValueError(
                f"sentence {i}: word vectors of shape {np.shape(word_vectors[i])}, expected (n_words, "
                f"*{np.shape(word_vectors[0])[1:]})"
            )
    return np.stack(pooled)
