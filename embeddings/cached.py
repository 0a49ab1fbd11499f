"""An in-memory sentence cache around any embedder, for using the adapters outside the benchmark.

(The benchmark's runner does not use it: it embeds each task's declared inputs once into its own
on-disk cache, `bench.vectors`.)

Tasks of a suite embed the same inputs again and again (the words of WS353 alone, then
of its similarity and relatedness subsets; the same probe sentences for two probes). A
sentence's vectors depend only on the sentence for a stateless embedder, so they are
computed once per model and run. The cache holds at most ``max_bytes`` of vectors and
forgets the oldest entries first.

Examples
--------
>>> from embeddings.random_vectors import RandomEmbedder
>>> inner = RandomEmbedder(dim=4)
>>> emb = CachedEmbedder(inner)
>>> a = emb.embed([["river", "bank"]]); b = emb.embed([["river", "bank"], ["bank"]])
>>> emb.hits, emb.misses
(1, 2)
>>> bool((a[0].vectors == b[0].vectors).all()), emb.fingerprint() == inner.fingerprint()
(True, True)
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from embeddings.base import Embedder


class CachedEmbedder(Embedder):
    """Wraps ``inner``: same name, layers, config and fingerprint; results memoised per sentence."""

    def __init__(self, inner: Embedder, *, max_bytes: int = 2 * 1024**3) -> None:
        if inner.stateful:
            raise ValueError(f"{inner.name} is stateful: its vectors depend on earlier calls, "
                             "so they cannot be cached per sentence")
        self.inner = inner
        self.max_bytes = max_bytes
        self._cache: OrderedDict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        for attr in ("name", "family", "contextual", "direction", "layers", "layer_dims", "batch_size",
                     "checkpoint", "static_source"):
            setattr(self, attr, getattr(inner, attr))
        self.sort_by_length = inner.sort_by_length  # type: ignore[misc]

    def vocabulary(self) -> list[str] | None:
        return self.inner.vocabulary()

    def config(self) -> dict[str, Any]:
        return self.inner.config()

    def weights_identity(self) -> str:
        return self.inner.weights_identity()

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def _embed(self, sentences: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        keys = [tuple(s) for s in sentences]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            for key, result in zip(missing, self.inner._embed([list(k) for k in missing])):
                self._store(key, result)
        out = []
        for k in keys:
            if k in self._cache:
                out.append(self._cache[k])
            else:  # evicted within this very batch (tiny max_bytes): recompute
                out.append(self.inner._embed([list(k)])[0])
        return out

    def _store(self, key: tuple[str, ...], result: tuple[np.ndarray, np.ndarray]) -> None:
        vecs, oov = result
        vecs = np.asarray(vecs, dtype=np.float32)
        vecs.setflags(write=False)
        self._cache[key] = (vecs, np.asarray(oov, dtype=bool))
        self._bytes += vecs.nbytes
        while self._bytes > self.max_bytes and self._cache:
            _, (old, _) = self._cache.popitem(last=False)
            self._bytes -= old.nbytes
