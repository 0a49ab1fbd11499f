"""Per-dimension standardisation: statistics by hand, a rogue dimension removed, fitted on the sample only."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from bench.datasets.corpora import brown_split
from bench.tasks.standardize import (
    Standardizer,
    fit_on_sample,
    sample_requests,
    standardization_sample,
)
from bench.vectors import DirectSource, PlannedSource
from embeddings.base import Embedder


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def test_statistics_and_transform_by_hand():
    x = np.array([[[1.0, 5.0, 0.0]], [[3.0, 5.0, 0.0]], [[5.0, 5.0, 0.0]]])  # dims: spread, constant, padding
    s = Standardizer().fit(x)
    assert s.mean.tolist() == [[3.0, 5.0, 0.0]]
    assert np.allclose(s.std, [[np.sqrt(8 / 3), 0.0, 0.0]])  # population std
    z = s.transform(np.array([[[3.0 + np.sqrt(8 / 3), 9.0, 7.0]]]))
    assert np.allclose(z, [[[1.0, 0.0, 0.0]]])  # constant and padded dims carry nothing: 0


def test_chunked_fit_equals_one_fit_even_with_a_huge_mean():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (500, 2, 6))
    x[:, :, 0] = 2.5e4 + rng.normal(0, 0.01, (500, 2))  # a rogue dimension: huge mean, tiny spread
    chunked = Standardizer()
    for start in range(0, 500, 37):
        chunked.partial_fit(x[start : start + 37])
    assert chunked.n == 500
    assert np.allclose(chunked.mean, x.mean(0), rtol=0, atol=1e-9)
    assert np.allclose(chunked.std, x.std(0), rtol=1e-7)


def test_rows_without_a_vector_are_not_in_the_statistics_and_stay_zero():
    x = np.array([[[2.0, 4.0]], [[0.0, 0.0]], [[4.0, 8.0]]])
    s = Standardizer().fit(x)
    assert s.n == 2 and s.mean.tolist() == [[3.0, 6.0]]
    assert s.transform(np.zeros((2, 1, 2))).tolist() == [[[0.0, 0.0]], [[0.0, 0.0]]]
    with pytest.raises(ValueError, match="fit"):
        Standardizer().transform(x)
    with pytest.raises(ValueError, match=r"\(1, 2\)"):
        s.transform(np.zeros((1, 2, 2)))


def test_huge_dimensions_no_longer_decide_the_cosine():
    """Raw cosine follows two rogue dimensions; standardised cosine recovers the others' structure."""
    rng = np.random.default_rng(1)

    def rogue(n: int) -> np.ndarray:  # orders of magnitude above the rest, in mean and spread
        return np.stack([rng.normal(2.5e4, 1e4, n), rng.normal(0, 1e4, n)], axis=1)

    def with_rogue(signal: np.ndarray) -> np.ndarray:
        return np.concatenate([rogue(len(signal)), signal], axis=1)[:, None, :]  # (n, 1 layer, 34)

    sample = with_rogue(rng.normal(0, 1, (4000, 32)))
    sa = rng.normal(0, 1, (300, 32))
    sb = sa + rng.uniform(0.1, 3.0, (300, 1)) * rng.normal(0, 1, (300, 32))  # graded noise: cosines span (0, 1)
    a, b = with_rogue(sa), with_rogue(sb)
    truth = _cos(sa, sb)  # the structure of the 32 ordinary dimensions
    raw = _cos(a[:, 0], b[:, 0])
    std = Standardizer().fit(sample)
    z = _cos(std.transform(a)[:, 0], std.transform(b)[:, 0])
    assert abs(np.corrcoef(raw, truth)[0, 1]) < 0.2  # raw: the rogue dimensions decide
    assert np.corrcoef(z, truth)[0, 1] > 0.97
    assert np.abs(z - truth).mean() < 0.05


class HashWords(Embedder):
    """Contextual, 2 layers: the word's hash vector, and that plus its sentence's. Records what it embeds."""

    family = "other"
    contextual = True
    direction = "bi"
    name = "hash-words"
    layers = ["emb", "ctx"]
    layer_dims = [6, 6]

    def __init__(self) -> None:
        self.seen: list[tuple[str, ...]] = []

    @staticmethod
    def vec(text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).normal(0, 1, 6).astype(np.float32)

    def _embed(self, sentences):
        out = []
        for s in sentences:
            self.seen.append(tuple(s))
            ctx = self.vec(" ".join(s))
            out.append((np.stack([np.stack([self.vec(w), self.vec(w) + ctx]) for w in s]), np.zeros(len(s), bool)))
        return out


def test_the_sample_is_brown_train_sentences_the_same_for_every_call():
    sample = standardization_sample(50)
    train, held_out = brown_split()
    assert len(sample) == 50 and len(set(sample)) == 50
    assert set(sample) <= set(train) and not set(sample) & (set(held_out) - set(train))
    assert all(5 <= len(s) <= 40 for s in sample)
    assert standardization_sample(50) == sample
    assert set(standardization_sample(20)) < set(sample)  # a larger N extends a smaller one


def test_fit_reads_the_sample_and_nothing_else():
    sample = standardization_sample(20)
    emb = HashWords()
    # a strict source prepared with the sample alone: reading anything else (a test word) raises
    source = PlannedSource(emb, None, strict=True)
    source.prepare(sample_requests(20))
    std = fit_on_sample(source, 20)
    assert source.unplanned == 0
    # the statistics are those of every position of the sample's sentences, computed directly
    vecs = np.concatenate([wv.vectors for wv in HashWords().embed([list(s) for s in sample])])
    assert std.n == len(vecs) == sum(map(len, sample))
    assert np.allclose(std.mean, vecs.mean(0, dtype=np.float64)) and np.allclose(std.std, vecs.std(0, dtype=np.float64))


def test_fit_is_done_once_per_source_and_a_copy_is_returned():
    emb = HashWords()
    source = DirectSource(emb)
    first = fit_on_sample(source, 10)
    n_embedded = len(emb.seen)
    first.mean += 100.0  # changing one copy changes nothing for the next caller
    second = fit_on_sample(source, 10)
    assert len(emb.seen) == n_embedded  # nothing embedded or read again
    assert np.allclose(second.mean + 100.0, first.mean)
