"""CachedEmbedder: identical results, fewer model calls, bounded memory, capabilities kept."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.cached import CachedEmbedder
from embeddings.random_vectors import RandomEmbedder
from embeddings.testing import check_embedder


class Counting(RandomEmbedder):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls: list[list[str]] = []

    def _embed(self, sentences):
        self.calls += sentences
        return super()._embed(sentences)

    def vocabulary(self):
        return ["a", "b"]


def test_results_equal_and_each_sentence_computed_once():
    inner = Counting(dim=4, n_layers=2)
    emb = CachedEmbedder(inner)
    sents = [["a", "b"], ["c"], ["a", "b"]]
    first = emb.embed(sents)
    second = emb.embed(sents, layers="mean")
    assert [s for s in inner.calls] == [["c"], ["a", "b"]]  # sorted by length, each once
    for x, y in zip(first, inner.embed(sents)):
        np.testing.assert_array_equal(x.vectors, y.vectors)
    np.testing.assert_allclose(second[0].vectors[:, 0], first[0].vectors.mean(axis=1), rtol=1e-6)
    assert emb.vocabulary() == ["a", "b"] and emb.fingerprint() == inner.fingerprint()


def test_memory_bound_evicts_oldest_and_results_stay_right():
    inner = Counting(dim=8)
    emb = CachedEmbedder(inner, max_bytes=3 * 8 * 4)  # room for three one-word sentences
    words = [[w] for w in "abcdef"]
    out = emb.embed(words)
    assert emb._bytes <= emb.max_bytes and len(emb._cache) == 3
    for wv, ref in zip(out, inner.embed(words)):
        np.testing.assert_array_equal(wv.vectors, ref.vectors)


def test_cached_embedder_conforms_and_refuses_stateful_models():
    check_embedder(CachedEmbedder(RandomEmbedder(dim=4, n_layers=2, oov_words=["zzz"])))
    stateful = RandomEmbedder(dim=2)
    stateful.stateful = True
    with pytest.raises(ValueError, match="stateful"):
        CachedEmbedder(stateful)
