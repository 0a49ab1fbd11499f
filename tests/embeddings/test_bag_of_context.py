"""bow:<name>: hand-computed vectors, the combined-cosine property, conformance, identity, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors

import embeddings
from embeddings.bag_of_context import BagOfContextEmbedder, context_means
from embeddings.cached import CachedEmbedder
from embeddings.random_vectors import RandomEmbedder
from embeddings.static import StaticEmbedder
from embeddings.testing import check_embedder

R = 1 / np.sqrt(2)


@pytest.fixture
def toy() -> StaticEmbedder:
    """Four 2-d vectors; 'nil' is in the vocabulary but all zeros, 'zebra' is OOV."""
    kv = KeyedVectors(vector_size=2)
    kv.add_vectors(["a", "b", "c", "nil"], np.array([[1, 0], [0, 2], [3, 0], [0, 0]], dtype=np.float32))
    return StaticEmbedder(kv, name="toy", family="glove")


SENT = ["a", "b", "zebra", "c", "a"]
WORD = [[1, 0], [0, 2], [0, 0], [3, 0], [1, 0]]


@pytest.mark.parametrize("window, context", [
    # 'zebra' (OOV) is never counted; the target itself never is
    (1, [[0, 2], [1, 0], [1.5, 1], [1, 0], [3, 0]]),
    (2, [[0, 2], [2, 0], [1.25, 0.5], [0.5, 1], [3, 0]]),
    # whole sentence: usable sum (5, 2) over 4 words, minus the target when it is usable
    (None, [[4 / 3, 2 / 3], [5 / 3, 0], [1.25, 0.5], [2 / 3, 2 / 3], [4 / 3, 2 / 3]]),
])
def test_word_and_context_layers_equal_a_hand_computation(toy, window, context):
    wv = BagOfContextEmbedder(toy, window=window).embed([SENT])[0]
    assert wv.layers == ["word", "context", "combined"] and wv.vectors.shape == (5, 3, 4)
    np.testing.assert_allclose(wv.vectors[:, 0, :2], WORD)
    np.testing.assert_allclose(wv.vectors[:, 1, :2], context, rtol=1e-6)
    assert not wv.vectors[:, :2, 2:].any()  # word and context layers are zero-padded to 2d
    assert wv.oov.tolist() == [False, False, True, False, False]


def test_combined_layer_equals_a_hand_computation(toy):
    wv = BagOfContextEmbedder(toy, window=1).embed([SENT])[0]
    ctx2 = np.array([1.5, 1]) / np.sqrt(3.25)
    expected = [
        [R, 0, 0, R],
        [0, R, R, 0],
        [0, 0, ctx2[0] * R, ctx2[1] * R],  # OOV word: zero word part, context part kept
        [R, 0, R, 0],
        [R, 0, R, 0],
    ]
    np.testing.assert_allclose(wv.layer("combined"), expected, rtol=1e-6, atol=1e-7)


def test_zero_vectors_are_skipped_and_no_context_gives_zeros(toy):
    emb = BagOfContextEmbedder(toy, window=2)
    three, two = emb.embed([["a", "nil", "b"], ["a", "nil"]])
    # 'nil' (in the vocabulary, all zeros) is not counted: 'a' sees only 'b', not (b + 0) / 2
    np.testing.assert_allclose(three.layer("context")[:, :2], [[0, 2], [0.5, 1], [1, 0]])
    assert three.oov.tolist() == [False, False, False]
    np.testing.assert_allclose(three.layer("combined"), [[R, 0, 0, R], [0, 0, 0.5 / np.sqrt(1.25) * R,
                                                                        1 / np.sqrt(1.25) * R], [0, R, R, 0]])
    # 'a' reaches only 'nil': no context word left, so zeros
    np.testing.assert_allclose(two.layer("context")[:, :2], [[0, 0], [1, 0]])
    np.testing.assert_allclose(two.layer("combined")[0], [R, 0, 0, 0])


def test_one_word_sentences(toy):
    emb = BagOfContextEmbedder(toy)
    b, zebra = emb.embed([["b"], ["zebra"]])
    np.testing.assert_allclose(b.vectors[0], [[0, 2, 0, 0], [0, 0, 0, 0], [0, R, 0, 0]])
    assert not zebra.vectors.any() and zebra.oov.tolist() == [True]


def test_windows_never_cross_sentences(toy):
    emb = BagOfContextEmbedder(toy, window=None)
    together = emb.embed([["a", "b"], ["c", "c"]])
    assert together[0].layer("context")[:, :2].tolist() == [[0, 2], [1, 0]]
    assert together[1].layer("context")[:, :2].tolist() == [[3, 0], [3, 0]]


def _brute_context(v, usable, window):
    n = len(v)
    out = np.zeros_like(v)
    for i in range(n):
        lo, hi = (0, n) if window is None else (max(0, i - window), min(n, i + window + 1))
        js = [j for j in range(lo, hi) if j != i and usable[j]]
        if js:
            out[i] = v[js].mean(axis=0)
    return out


@pytest.mark.parametrize("window", [1, 3, 10, None])
def test_context_means_match_a_direct_loop_on_random_data(window):
    rng = np.random.default_rng(window or 0)
    lengths = [1, 2, 7, 40, 3, 1, 25]
    v = (rng.standard_normal((sum(lengths), 5)) * 10).astype(np.float32)
    usable = rng.random(len(v)) < 0.7
    starts = np.cumsum([0] + lengths)
    expected = np.concatenate([_brute_context(v[a:b], usable[a:b], window) for a, b in zip(starts, starts[1:])])
    together = context_means(v, usable, lengths, window)
    np.testing.assert_allclose(together, expected, rtol=1e-5, atol=1e-6)
    # each sentence alone, and in chunks of a few sentences, gives the very same bits
    alone = np.concatenate([context_means(v[a:b], usable[a:b], [b - a], window) for a, b in zip(starts, starts[1:])])
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(context_means(v, usable, lengths, window, max_bytes=2000), together)


def test_no_context_is_exactly_zero_even_after_large_values():
    # running sums carry 1e10 from the first word: 'c' has no usable neighbour, and must get 0, not rounding
    v = np.array([[1e10], [0.0], [0.1], [0.0]], dtype=np.float32)
    out = context_means(v, np.array([True, False, True, False]), [4], window=1)
    assert out[2, 0] == 0.0 and out[0, 0] == 0.0
    # float64 running sums keep 1e10 + 0.1 to ~1e-6, plenty beside float32 output
    assert out[3, 0] == pytest.approx(0.1, rel=1e-5) and out[1, 0] == pytest.approx(5e9)


def test_context_means_refuses_lengths_that_do_not_add_up():
    with pytest.raises(ValueError, match="sum to the number of vectors"):
        context_means(np.zeros((3, 2)), np.ones(3, bool), [1, 1], 2)


def _cos(x, y):
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def test_combined_cosine_is_the_mean_of_word_and_context_cosines():
    emb = embeddings.load("bow:random", dim=16, seed=3, window=3)
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(30)]
    sents = [[vocab[k] for k in rng.integers(0, 30, size=rng.integers(2, 12))] for _ in range(20)]
    rows = np.concatenate([wv.vectors for wv in emb.embed(sents)])
    pairs = rng.integers(0, len(rows), size=(200, 2))
    for i, j in pairs:
        word, ctx, comb = rows[i, 0, :16], rows[i, 1, :16], rows[i, 2]
        word2, ctx2, comb2 = rows[j, 0, :16], rows[j, 1, :16], rows[j, 2]
        assert _cos(comb, comb2) == pytest.approx((_cos(word, word2) + _cos(ctx, ctx2)) / 2, abs=1e-5)


@pytest.mark.parametrize("name, options", [
    ("bow:random", {"dim": 8}),
    ("bow:random", {"dim": 6, "n_layers": 3, "inner_layer": -1, "window": None, "oov_words": ["qzxjvwkq"]}),
])
def test_conformance_kit_passes(name, options):
    check_embedder(embeddings.load(name, **options))


def test_bow_over_glove_conforms_and_separates_contexts_of_bank():
    emb = embeddings.load("bow:glove-6b-50d")
    check_embedder(emb)
    river, money = emb.embed([["I", "sat", "by", "the", "bank", "of", "the", "river"],
                              ["I", "paid", "money", "into", "the", "bank", "account", "today"]])
    np.testing.assert_array_equal(river.layer("word")[4], money.layer("word")[5])
    glove_bank = embeddings.load("glove-6b-50d").embed([["bank"]])[0].vectors[0, 0]
    np.testing.assert_array_equal(river.layer("word")[4, :50], glove_bank)
    assert _cos(river.layer("context")[4], money.layer("context")[5]) < 0.99
    assert emb.family == "glove" and emb.static_source and emb.contextual
    assert "over glove.6B.50d" in emb.checkpoint


class _Contextual(RandomEmbedder):
    """A fake contextual model: every vector is shifted by the sentence length."""

    contextual = True
    direction = "bi"

    def _embed(self, sentences):
        return [(v + len(s), o) for s, (v, o) in zip(sentences, super()._embed(sentences))]


def test_contextual_inner_model_gives_its_decontextualized_vectors():
    inner = _Contextual(dim=4, n_layers=2, oov_words=["unk"])
    emb = BagOfContextEmbedder(inner, inner_layer="1")
    a, b = emb.embed([["x", "bank", "unk"], ["y", "z", "bank", "w"]])
    alone = inner.vector("bank")[1] + 1  # the one-word sentence's shift
    np.testing.assert_allclose(a.layer("word")[1, :4], alone)
    np.testing.assert_allclose(b.layer("word")[2, :4], alone)
    # 'unk' is OOV with a non-zero (unknown-token) vector: marked, shown, never used as context
    np.testing.assert_allclose(a.layer("word")[2, :4], np.ones(4))
    assert a.oov.tolist() == [False, False, True]
    np.testing.assert_allclose(a.layer("context")[1, :4], inner.vector("x")[1] + 1)


class _Counting(RandomEmbedder):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls: list[list[list[str]]] = []

    def embed(self, sentences, layers=None, *, progress=None):
        self.calls.append([list(s) for s in sentences])
        return super().embed(sentences, layers, progress=progress)


def test_each_distinct_word_is_embedded_once_in_one_inner_call():
    inner = _Counting(dim=4)
    emb = BagOfContextEmbedder(inner)
    first = emb.embed([["a", "b", "a"], ["b", "c"]])
    assert len(inner.calls) == 1 and sorted(inner.calls[0]) == [["a"], ["b"], ["c"]]
    again = emb.embed([["c", "a"], ["a", "b", "a"]])
    emb.embed([["a", "d"]])
    assert inner.calls[1:] == [[["d"]]]
    np.testing.assert_array_equal(first[0].vectors, again[1].vectors)


def test_a_tiny_memo_forgets_words_and_results_stay_right():
    emb = BagOfContextEmbedder(RandomEmbedder(dim=4), window=2)
    reference = emb.embed([["a", "b", "c", "d", "e"]])[0].vectors
    small = BagOfContextEmbedder(RandomEmbedder(dim=4), window=2)
    small.memo_bytes = 2 * 16  # two 4-d float32 vectors
    np.testing.assert_array_equal(small.embed([["a", "b", "c", "d", "e"]])[0].vectors, reference)
    assert len(small._memo) == 2


def test_config_round_trip_gives_the_same_fingerprint():
    for options in ({"dim": 8}, {"dim": 6, "n_layers": 3, "seed": 2, "inner_layer": -1, "window": None}):
        emb = embeddings.load("bow:random", **options)
        cfg = emb.config()
        assert cfg["name"] == "bow:random" and embeddings.load(**cfg).fingerprint() == emb.fingerprint()
    base = embeddings.load("bow:random", dim=8)
    assert base.config() == {"name": "bow:random", "window": 10, "inner_layer": "emb", "dim": 8, "n_layers": 1,
                             "seed": 0, "lowercase": False, "oov_words": []}
    # the same layer by index or by name is the same model; another window or inner model is not
    assert embeddings.load("bow:random", dim=8, inner_layer="emb").fingerprint() == base.fingerprint()
    assert embeddings.load("bow:random", dim=8, window=5).fingerprint() != base.fingerprint()
    assert embeddings.load("bow:random", dim=8, seed=1).fingerprint() != base.fingerprint()
    assert base.fingerprint() != RandomEmbedder(dim=8).fingerprint()


def test_nested_bags_stateful_models_and_bad_options_are_refused():
    with pytest.raises(ValueError, match="bow:bow"):
        embeddings.load("bow:bow:random")
    inner = BagOfContextEmbedder(RandomEmbedder(dim=2))
    for wrapped in (inner, CachedEmbedder(inner)):
        with pytest.raises(ValueError, match="already a bag of context"):
            BagOfContextEmbedder(wrapped)
    stateful = RandomEmbedder(dim=2)
    stateful.stateful = True
    with pytest.raises(ValueError, match="stateful"):
        BagOfContextEmbedder(stateful)
    for window in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="window must be"):
            BagOfContextEmbedder(RandomEmbedder(dim=2), window=window)
    with pytest.raises(ValueError, match="unknown layer 'lstm9'.*layers are"):
        embeddings.load("bow:random", dim=2, inner_layer="lstm9")
    with pytest.raises(ValueError, match="needs a model name"):
        embeddings.load("bow:")
    with pytest.raises(KeyError, match="did you mean 'glove-6b-50d'"):
        embeddings.load("bow:glove-6b-5d")


def test_static_side_is_declared_and_survives_the_runner_cache():
    emb = CachedEmbedder(embeddings.load("bow:random", dim=4))
    assert emb.static_source and emb.describe()["static_source"]
    assert not embeddings.load("random").describe()["static_source"]


def test_the_name_listing_shows_the_prefix():
    with pytest.raises(KeyError, match=r"bow:<name>"):
        embeddings.load("no-such-model")
    assert "bow:glove-6b-50d" in embeddings.registry
