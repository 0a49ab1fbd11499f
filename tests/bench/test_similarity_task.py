"""Similarity-type tasks: raw and standardised cosine side by side, dev scores of the selection, coverage."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from context_toys import BEFORE, CueEmbedder
from scipy.stats import spearmanr

import bench.tasks.static_from_contextual as sfc_mod
from bench.datasets.similarity import load_pairs
from bench.tasks import get_task
from bench.tasks.base import stable_fraction
from embeddings.base import Embedder
from embeddings.random_vectors import RandomEmbedder

WORDS = [f"w{i}" for i in range(60)]


def _signal(word: str, dim: int = 16, salt: str = "") -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(f"{salt}{word}".encode()).digest()[:8], "little")
    return np.random.default_rng(seed).normal(0, 1, dim)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


class Rogue(Embedder):
    """Static, 1 layer: 16 ordinary dimensions and 2 rogue ones (spread 1e4) that swamp the raw cosine."""

    family = "other"
    contextual = False
    direction = "none"
    name = "rogue"
    layers = ["emb"]
    layer_dims = [18]

    def _embed(self, sentences):
        out = []
        for s in sentences:
            rows = [np.concatenate([1e4 * _signal(w, 2, "rogue"), _signal(w)])[None] for w in s]
            out.append((np.stack(rows).astype(np.float32), np.zeros(len(s), bool)))
        return out


class TwoLayers(Embedder):
    """Static, 2 layers: ``good`` is the signal, ``bad`` unrelated vectors."""

    family = "other"
    contextual = False
    direction = "none"
    name = "two-layers"
    layers = ["bad", "good"]
    layer_dims = [16, 16]

    def _embed(self, sentences):
        out = []
        for s in sentences:
            rows = np.stack([np.stack([_signal(w, salt="bad"), _signal(w)]) for w in s]).astype(np.float32)
            out.append((rows, np.zeros(len(s), bool)))
        return out


@pytest.fixture(scope="module")
def toy_pairs() -> list[tuple[str, str, float]]:
    """Pairs whose gold score is the true cosine of the words' ordinary dimensions, plus a little noise
    (so near-ties of gold are not near-ties of the model's float32 cosines)."""
    rng = np.random.default_rng(0)
    every = [(i, j) for i in range(len(WORDS)) for j in range(i + 1, len(WORDS))]
    idx = [every[k] for k in rng.choice(len(every), size=120, replace=False)]
    return [(WORDS[i], WORDS[j], _cos(_signal(WORDS[i]), _signal(WORDS[j])) + 0.05 * rng.normal()) for i, j in idx]


def _similarity(pairs, **settings):
    task = get_task("ws353", n_boot=100, **settings)
    task.split_pairs = lambda: list(pairs)  # the task's own code, on toy pairs as the whole dataset
    return task


def test_raw_and_standardized_side_by_side(toy_pairs):
    out = _similarity(toy_pairs, standardize_sentences=40).run(Rogue())
    (r,) = out.results
    z = r.extra["standardized"]
    assert abs(r.value) < 0.3  # the main number is the raw cosine, swamped by the rogue dimensions
    assert z["value"] > 0.8 and z["ci"][0] <= z["value"] <= z["ci"][1]
    assert z["n_sample_vectors"] > 300  # every position of 40 Brown train sentences
    assert r.protocol["main"].startswith("raw cosine") and "z-score" in r.protocol["standardizer"]
    assert r.protocol["task_version"] == "2"
    (off,) = _similarity(toy_pairs, standardize_sentences=0).run(Rogue()).results
    assert "standardized" not in off.extra and off.value == r.value


def test_dev_value_is_the_chosen_layers_dev_spearman(toy_pairs):
    task = _similarity(toy_pairs, standardize_sentences=0)
    sel = task.run(TwoLayers()).selection
    ids = [f"{a}|{b}" for a, b, _ in toy_pairs]
    dev = [i for i, x in enumerate(ids) if stable_fraction(x, task.name) < 0.5]
    assert 10 < len(dev) < len(ids) - 10
    cos = [_cos(_signal(toy_pairs[i][0]), _signal(toy_pairs[i][1])) for i in dev]
    assert sel.layer == "good"
    assert sel.dev_value == pytest.approx(spearmanr(cos, [toy_pairs[i][2] for i in dev])[0])
    assert sel.dev_value > 0.7
    assert sel.n == len(ids) - len(dev)


def test_a_single_layer_model_gets_its_dev_score_too(toy_pairs):
    task = _similarity(toy_pairs, standardize_sentences=0)
    sel = task.run(RandomEmbedder(dim=8)).selection
    assert sel.criterion == "only layer" and np.isfinite(sel.dev_value) and -1 <= sel.dev_value <= 1


def test_coverage_total_is_the_dataset_sampled_the_cap():
    total = len(load_pairs("ws353"))
    (capped,) = get_task("ws353", limit=20, n_boot=20, standardize_sentences=0).run(RandomEmbedder(dim=8)).results
    assert (capped.total, capped.sampled, capped.n) == (total, 20, 20)
    (oov,) = get_task("ws353", n_boot=20, standardize_sentences=0).run(
        RandomEmbedder(dim=8, oov_words=["tiger"])).results
    tiger_pairs = sum(1 for a, b, _ in load_pairs("ws353") if "tiger" in (a, b))
    assert tiger_pairs > 0 and (oov.total, oov.sampled, oov.n) == (total, 0, total - tiger_pairs)
    assert oov.extra["oov_pairs"] == tiger_pairs


def test_static_from_contextual_standardized_and_dev_value(monkeypatch):
    sents = tuple(tuple(s) for key in BEFORE for s in BEFORE[key])
    pairs = [("bank", "river", 3.0), ("bass", "trout", 5.0), ("money", "loan", 9.0), ("bank", "money", 4.0),
             ("river", "water", 6.0), ("guitar", "bass", 7.0), ("loan", "bank", 8.0), ("fish", "trout", 2.0)]
    monkeypatch.setattr(sfc_mod, "brown_sentences", lambda: sents)
    monkeypatch.setattr(sfc_mod, "load_pairs", lambda name: pairs)
    task = get_task("static-from-contextual", datasets=["ws353"], n_boot=50, standardize_sentences=20, limit=6)
    out = task.run(CueEmbedder("bi"))
    for r in out.results:
        d = r.extra["ws353"]
        assert {"spearman", "decontextualized"} <= set(d["standardized"])
        np.testing.assert_equal(r.extra["standardized"]["value"], d["standardized"]["spearman"])
        assert (r.total, r.sampled) == (8, 6) and r.n <= 6
    sel = out.selection
    keep = {(a, b): s for a, b, s in pairs[:6]}
    dev = [k for k in keep if stable_fraction(f"{k[0]}|{k[1]}", task.name) < 0.5]
    layer = out.results[[x.layer for x in out.results].index(sel.layer)]
    assert layer.layer == sel.layer
    if len(dev) >= 3:
        assert np.isfinite(sel.dev_value)
    else:
        assert np.isnan(sel.dev_value)
