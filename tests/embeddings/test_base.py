"""The Embedder contract, checked on the reference adapter and on broken adapters."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.base import Embedder, WordVectors, pad_layers
from embeddings.random_vectors import RandomEmbedder


def test_shapes_alignment_and_layer_names():
    emb = RandomEmbedder(dim=6, n_layers=3)
    out = emb.embed([["a", "b", "c"], ["d"]])
    assert [wv.vectors.shape for wv in out] == [(3, 3, 6), (1, 3, 6)]
    assert out[0].layers == ["emb", "1", "2"]
    assert out[0].words == ("a", "b", "c")
    # alignment: a word's row equals the word embedded alone
    np.testing.assert_array_equal(out[0].vectors[1], emb.embed([["b"]])[0].vectors[0])


def test_empty_inputs():
    emb = RandomEmbedder(dim=5, n_layers=2)
    assert emb.embed([]) == []
    wv = emb.embed([[]])[0]
    assert wv.vectors.shape == (0, 2, 5) and wv.oov.shape == (0,) and wv.vectors.dtype == np.float32


def test_layer_selection_by_name_index_and_mean():
    emb = RandomEmbedder(dim=4, n_layers=3)
    full = emb.embed([["x", "y"]])[0].vectors
    assert np.array_equal(emb.embed([["x", "y"]], layers=[-1, 0])[0].vectors, full[:, [2, 0]])
    assert emb.embed([["x"]], layers=["2", "emb"])[0].layers == ["2", "emb"]
    mean = emb.embed([["x", "y"]], layers="mean")[0]
    assert mean.layers == ["mean"]
    np.testing.assert_allclose(mean.vectors[:, 0], full.mean(axis=1), rtol=1e-6)
    with pytest.raises(IndexError):
        emb.embed([["x"]], layers=[3])
    with pytest.raises(ValueError, match="unknown layer 'top'"):
        emb.embed([["x"]], layers="top")


def test_oov_words_are_zero_and_flagged():
    emb = RandomEmbedder(dim=3, oov_words=["zzz"])
    wv = emb.embed([["a", "zzz"]])[0]
    assert wv.oov.tolist() == [False, True]
    assert not wv.vectors[1].any() and wv.vectors[0].any()


@pytest.mark.parametrize("bad", ["a sentence", ["a sentence"], [["ok", 3]]])
def test_bad_input_is_refused_with_a_clear_error(bad):
    with pytest.raises(TypeError, match="sentence|word"):
        RandomEmbedder(dim=2).embed(bad)


def test_sorting_by_length_keeps_input_order():
    emb = RandomEmbedder(dim=2)
    emb.batch_size = 2
    sents = [["a"] * n for n in (5, 1, 3, 0, 2)]
    assert [len(wv) for wv in emb.embed(sents)] == [5, 1, 3, 0, 2]


def test_fingerprint_depends_on_options_and_is_stable():
    a, b = RandomEmbedder(dim=4, seed=1), RandomEmbedder(dim=4, seed=2)
    assert a.fingerprint() == RandomEmbedder(dim=4, seed=1).fingerprint()
    assert a.fingerprint() != b.fingerprint()


def test_wordvectors_validates_its_arrays():
    with pytest.raises(ValueError, match="NaN"):
        WordVectors(np.full((1, 1, 2), np.nan, np.float32), np.zeros(1, bool), ["emb"])
    with pytest.raises(TypeError, match="float32"):
        WordVectors(np.zeros((1, 1, 2)), np.zeros(1, bool), ["emb"])
    with pytest.raises(ValueError, match="layer names"):
        WordVectors(np.zeros((1, 2, 2), np.float32), np.zeros(1, bool), ["emb"])


def test_padding_narrow_layers_keeps_cosines():
    rng = np.random.default_rng(0)
    narrow, wide = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 5)).astype(np.float32)
    padded = pad_layers([narrow, wide], 5)
    assert padded.shape == (4, 2, 5) and not padded[:, 0, 3:].any()

    def cos(m):
        m = m / np.linalg.norm(m, axis=1, keepdims=True)
        return m @ m.T

    np.testing.assert_allclose(cos(padded[:, 0]), cos(narrow), rtol=1e-5)


class _WrongShape(Embedder):
    name, layers, layer_dims = "broken", ["emb"], [3]

    def _embed(self, sentences):
        return [(np.zeros((len(s) + 1, 1, 3), np.float32), np.zeros(len(s) + 1, bool)) for s in sentences]


def test_adapter_bugs_are_caught_at_the_boundary():
    with pytest.raises(RuntimeError, match="shape"):
        _WrongShape().embed([["a"]])
