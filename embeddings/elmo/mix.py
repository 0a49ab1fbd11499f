"""ELMo's scalar mix of layers (Peters et al. 2018, eq. 1).

``ELMo_k = gamma * sum_j softmax(s)_j * h_{k,j}``: softmax-normalised scalar weights per
layer, times a scale ``gamma``. With all ``s_j`` equal and ``gamma = 1`` it is the plain
layer mean that ``embed(..., layers="mean")`` gives.

Examples
--------
>>> import numpy as np
>>> v = np.stack([np.zeros((2, 3)), np.ones((2, 3))], axis=1).astype(np.float32)  # (2, 2 layers, 3)
>>> scalar_mix(v, [0.0, 0.0]).tolist()
[[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
>>> round(float(scalar_mix(v, [0.0, np.log(3.0)], gamma=2.0)[0, 0]), 6)
1.5
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def scalar_mix(vectors: np.ndarray, weights: Sequence[float] | np.ndarray, gamma: float = 1.0) -> np.ndarray:
    """Mix the layers of ``vectors`` (..., n_layers, dim) into (..., dim), float32.

    Parameters
    ----------
    vectors : array (..., n_layers, dim)
        E.g. ``WordVectors.vectors`` of an ELMo embedder (layers token, lstm1, lstm2).
    weights : n_layers floats
        Unnormalised scalar weights ``s``; they are softmax-normalised.
    gamma : float
        Scale of the mixed vector.
    """
    v = np.asarray(vectors, dtype=np.float32)
    s = np.asarray(weights, dtype=np.float64)
    if s.ndim != 1 or v.ndim < 2 or s.shape[0] != v.shape[-2]:
        raise ValueError(f"need one weight per layer: {s.shape} weights for vectors of shape {v.shape} "
                         "(..., n_layers, dim)")
    p = np.exp(s - s.max())
    p /= p.sum()
    return (gamma * np.tensordot(v, p.astype(np.float32), axes=([-2], [0]))).astype(np.float32)
