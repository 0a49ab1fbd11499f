"""A reference adapter: random static vectors derived from a hash of each word.

It is the smallest complete :class:`~embeddings.base.Embedder` (read it before writing an
adapter), the floor row of result tables, and the test double of the runner's tests.

Examples
--------
>>> emb = RandomEmbedder(dim=3, seed=0)
>>> a = emb.embed([["bank", "river"], ["bank"]])
>>> bool((a[0].vectors[0] == a[1].vectors[0]).all())   # static: same word, same vector
True
>>> emb.embed([["x"]])[0].vectors.shape
(1, 1, 3)
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from embeddings.base import Embedder


def random_identity(**options: Any) -> str:
    """Identity of ``load("random", **options)``: its config (cheap to build, nothing to load)."""
    import json

    return "random:" + json.dumps(RandomEmbedder(**options).config(), sort_keys=True)


class RandomEmbedder(Embedder):
    """Gaussian vectors seeded by (seed, word): deterministic, static, never OOV.

    Parameters
    ----------
    dim : int
        Vector width.
    n_layers : int
        Number of (identical-in-distribution, independent) layers: lets tests exercise
        multi-layer code with a static model. Layers are named ``emb``, ``1``, ...
    seed : int
    lowercase : bool
        Lower-case words before hashing.
    oov_words : collection of str
        Words to treat as out of vocabulary (zeros, oov=True); for testing OOV handling.
    """

    family = "other"
    contextual = False
    direction = "none"

    def __init__(self, *, dim: int = 50, n_layers: int = 1, seed: int = 0, lowercase: bool = False,
                 oov_words: tuple[str, ...] | list[str] = (), name: str = "random") -> None:
        if dim < 1 or n_layers < 1:
            raise ValueError(f"dim and n_layers must be >= 1, got dim={dim}, n_layers={n_layers}")
        self.name = name
        self.seed = seed
        self.lowercase = lowercase
        self.oov_words = frozenset(oov_words)
        self.layers = ["emb"] + [str(i) for i in range(1, n_layers)]
        self.layer_dims = [dim] * n_layers

    def config(self) -> dict[str, Any]:
        return {"name": "random", "dim": self.dim, "n_layers": len(self.layers), "seed": self.seed,
                "lowercase": self.lowercase, "oov_words": sorted(self.oov_words)}

    def weights_identity(self) -> str:
        return f"random-seed{self.seed}"

    def vector(self, word: str) -> np.ndarray:
        """(n_layers, dim) vectors of one word."""
        w = word.lower() if self.lowercase else word
        digest = hashlib.sha256(f"{self.seed}\0{w}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        return rng.standard_normal((len(self.layers), self.dim)).astype(np.float32)

    def _embed(self, sentences: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for words in sentences:
            oov = np.array([w in self.oov_words for w in words], dtype=bool)
            vecs = np.stack([np.zeros((len(self.layers), self.dim), np.float32) if o else self.vector(w)
                             for w, o in zip(words, oov)])
            out.append((vecs, oov))
        return out
