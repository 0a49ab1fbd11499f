"""Geometry: a context-free layer scores its exact value; words by exact form; held-out sentences; standardised."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from bench.datasets.corpora import brown_split
from bench.tasks.geometry import GeometryTask, intra_sentence_similarity
from bench.tasks.standardize import standardization_sample
from embeddings.base import Embedder

# the same words in different cases; "The"/"the", "Bank"/"bank", "Rates"/"rates" each in 2+ sentences
CASED = [
    ("The", "bank", "raised", "rates"),
    ("the", "Bank", "cut", "rates"),
    ("The", "river", "bank", "flooded"),
    ("Rates", "rose", "at", "the", "bank"),
    ("the", "Bank", "and", "the", "river"),
    ("Rates", "fell", "at", "the", "Bank"),
]


def _hash_vec(text: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).normal(0, 1, dim).astype(np.float32)


class CaseKeeping(Embedder):
    """Two layers, neither lower-cases: ``emb`` = a vector per exact form (context-free), ``ctx`` = that
    plus a vector of the sentence (context-specific). Any word has a vector (no OOV)."""

    family = "other"
    contextual = True
    direction = "bi"
    name = "case-keeping"
    layers = ["emb", "ctx"]
    layer_dims = [24, 24]

    def _embed(self, sentences):
        out = []
        for s in sentences:
            ctx = _hash_vec("sentence:" + " ".join(s), 24)
            rows = np.stack([np.stack([_hash_vec(w, 24), _hash_vec(w, 24) + 2 * ctx]) for w in s])
            out.append((rows, np.zeros(len(s), bool)))
        return out


class CaseKeepingStatic(Embedder):
    family = "other"
    contextual = False
    direction = "none"
    name = "case-keeping-static"
    layers = ["emb"]
    layer_dims = [24]

    def _embed(self, sentences):
        return [(np.stack([_hash_vec(w, 24)[None] for w in s]), np.zeros(len(s), bool)) for s in sentences]


@pytest.fixture
def cased(monkeypatch):
    monkeypatch.setattr(GeometryTask, "sentences", lambda self: list(CASED))


@pytest.mark.parametrize("embedder", [CaseKeepingStatic(), CaseKeeping()], ids=["static", "context-free-layer"])
def test_a_context_free_layer_scores_exactly_one_minus_the_baseline(cased, embedder):
    out = GeometryTask(min_occurrences=2, n_pairs=200, n_boot=100, standardize_sentences=30).run(embedder)
    r = out.results[0]  # the context-free layer
    assert r.layer == "emb"
    # exact forms: The, the, Bank, bank, Rates, rates all occur in 2+ sentences (lower-cased, 'the' and
    # 'The' would be one word whose occurrences have two different vectors: self-similarity < 1)
    assert r.n == r.total == 8  # the 6 above, 'river' and 'at'
    assert r.extra["self_similarity"] == pytest.approx(1.0, abs=1e-12)
    assert r.value == pytest.approx(1.0 - r.extra["anisotropy_baseline"], abs=1e-12)
    z = r.extra["standardized"]  # standardising a context-free layer keeps it context-free
    assert z["self_similarity"] == pytest.approx(1.0, abs=1e-12)
    assert z["value"] == pytest.approx(1.0 - z["anisotropy_baseline"], abs=1e-12)
    assert z["anisotropy_baseline"] != pytest.approx(r.extra["anisotropy_baseline"], abs=1e-6)
    assert r.protocol["words"].startswith("alphabetic tokens, exact form")
    assert "raw cosine" in r.protocol["main"] and "z-score" in r.protocol["standardizer"]


def test_the_context_layer_is_below_one(cased):
    r = GeometryTask(min_occurrences=2, n_pairs=200, n_boot=100, standardize_sentences=0).run(CaseKeeping())
    emb, ctx = r.results
    assert ctx.extra["self_similarity"] < 0.5 < emb.extra["self_similarity"]
    assert "standardized" not in ctx.extra and ctx.protocol["main"] == "raw cosine"


def test_sentences_are_held_out_brown_and_apart_from_the_standardisation_sample():
    task = GeometryTask(max_sentences=100)
    sents = task.sentences()
    train, held_out = brown_split()
    assert len(sents) == 100 and set(sents) <= set(held_out)
    assert not set(sents) & set(standardization_sample(300))
    assert all(5 <= len(s) <= 40 for s in sents)
    assert "held-out" in task.meta.description and "exact form" in task.meta.description
    assert task.meta.version == "2"


def test_intra_sentence_similarity_per_layer_by_hand():
    v = np.array([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]])  # 2 words, 2 layers
    assert intra_sentence_similarity(v) == pytest.approx([np.sqrt(0.5), 1.0])
