"""Embedding once: declared inputs, the planned source, the on-disk cache, canonical tables."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pytest

from bench.report import write_report
from bench.runner import run_suite
from bench.store import ResultStore
from bench.suite import Suite
from bench.tasks import get_task
from bench.vectors import DirectSource, EmbeddingCache, PlannedSource, Requests, UndeclaredInput
from embeddings.base import Embedder

CALLS: Counter[tuple[str, ...]] = Counter()


class ContextHash(Embedder):
    """A cheap contextual model: a word's vector is a hash of the word plus a little of its sentence.

    Every sentence it embeds is counted in ``CALLS``.
    """

    family = "other"
    contextual = True
    direction = "bi"

    def __init__(self, *, dim: int = 8, seed: int = 0) -> None:
        self.name = "context-hash"
        self.seed = seed
        self.layers = ["emb", "1"]
        self.layer_dims = [dim, dim]

    def config(self):
        return {"name": "context-hash", "dim": self.dim, "seed": self.seed}

    @staticmethod
    def _vec(text: str, n: int) -> np.ndarray:
        digest = hashlib.sha256(text.encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little")).standard_normal(n).astype(np.float32)

    def _embed(self, sentences):
        out = []
        for words in sentences:
            CALLS[tuple(words)] += 1
            ctx = self._vec(f"{self.seed}|" + " ".join(words), self.dim)
            rows = np.stack([np.stack([self._vec(f"{self.seed}:{w}", self.dim),
                                       self._vec(f"{self.seed}:{w}", self.dim) + ctx]) for w in words])
            out.append((rows, np.zeros(len(words), bool)))
        return out


@pytest.fixture(autouse=True)
def _fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    CALLS.clear()


def loader(name, **options):
    return ContextHash(**options)


SUITE = {"name": "v", "settings": {"n_boot": 50},
         "embedders": ["random"],  # the name is only for identity; the loader builds ContextHash
         "tasks": ["ws353", "ws353-sim", "polysemy-probe", "direction-probe"]}


def test_sentences_shared_by_tasks_and_runs_are_embedded_once(tmp_path):
    run_suite(Suite.from_dict(SUITE), ResultStore(tmp_path / "a"), loader=loader)
    assert CALLS and max(CALLS.values()) == 1  # ws353-sim's words and the probes' shared sentences: once
    assert ("tiger",) in CALLS
    first = sum(CALLS.values())
    CALLS.clear()
    # a second run into a fresh store: everything comes from the embedding cache
    summary = run_suite(Suite.from_dict(SUITE), ResultStore(tmp_path / "b"), loader=loader)
    assert summary.ran == 4 and sum(CALLS.values()) == 0 and first > 100


def test_a_changed_model_or_option_misses_the_cache(tmp_path):
    run_suite(Suite.from_dict(SUITE), ResultStore(tmp_path / "a"), loader=loader)
    CALLS.clear()
    run_suite(Suite.from_dict(SUITE), ResultStore(tmp_path / "b"), loader=lambda n, **o: ContextHash(seed=1))
    assert sum(CALLS.values()) > 100  # another fingerprint: nothing reused


def test_tables_do_not_depend_on_task_order_or_a_resumed_warm_run(tmp_path, monkeypatch):
    forward = run_suite(Suite.from_dict(SUITE), ResultStore(tmp_path / "a"), loader=loader)
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache2"))  # cold again, other order
    backward = {**SUITE, "tasks": list(reversed(SUITE["tasks"]))}
    run_suite(Suite.from_dict(backward), ResultStore(tmp_path / "b"), loader=loader)
    # resumed: half the suite, then all of it, with the (now warm) cache
    run_suite(Suite.from_dict(SUITE).select(tasks=["direction-probe", "ws353"]), ResultStore(tmp_path / "c"),
              loader=loader)
    run_suite(Suite.from_dict(SUITE), ResultStore(tmp_path / "c"), loader=loader)
    assert forward.ran == 4
    for d in ("a", "b", "c"):
        write_report(ResultStore(tmp_path / d))
    for name in ("summary.md", "layers.md", "headline.md", "results.csv"):
        a = (tmp_path / "a" / name).read_text()
        assert a == (tmp_path / "b" / name).read_text(), name
        assert a == (tmp_path / "c" / name).read_text(), name


@pytest.mark.parametrize("task", ["ws353", "analogy-google-closed", "wic", "scws", "coarsewsd20",
                                  "polysemy-probe", "direction-probe", "geometry", "static-from-contextual"])
def test_every_task_declares_what_it_reads(task):
    t = get_task(task, limit=12, n_boot=20)
    source = PlannedSource(ContextHash(), None, strict=True)
    source.prepare(t.inputs())
    out = t.run(source)  # a strict source raises UndeclaredInput on anything not declared
    assert out.results and source.unplanned == 0


def test_a_strict_source_refuses_undeclared_reads():
    source = PlannedSource(ContextHash(), None, strict=True)
    source.prepare(Requests())
    with pytest.raises(UndeclaredInput):
        source.targets([["a", "b"]], [0])


def test_planned_and_direct_sources_agree_and_the_cache_is_bit_exact(tmp_path):
    req = Requests()
    req.add_targets([["the", "river", "bank"], ["a", "bank"]], [2, 1])
    req.add_pooled([["the", "river", "bank"]])
    cache = EmbeddingCache(tmp_path, "fp", n_layers=2, dim=8)
    planned = PlannedSource(ContextHash(), cache)
    planned.prepare(req)
    direct = DirectSource(ContextHash())
    a, _ = planned.targets([["the", "river", "bank"], ["a", "bank"]], [2, 1])
    b, _ = direct.targets([["the", "river", "bank"], ["a", "bank"]], [2, 1])
    assert np.array_equal(a, b) and not np.array_equal(a[0], a[1])
    assert np.array_equal(planned.pooled([["the", "river", "bank"]]), direct.pooled([["the", "river", "bank"]]))
    assert planned.computed == 3 and planned.unplanned == 0


def test_the_cache_keeps_within_its_bound(tmp_path):
    cache = EmbeddingCache(tmp_path, "fp", n_layers=1, dim=4, max_bytes=16 * 10)  # room for 10 rows
    for k in range(25):
        cache.put_many([(bytes([k]) * 16, np.full((1, 4), k, np.float32), False)])
    assert len(cache) <= 10
    assert bytes([24]) * 16 in cache.get_many([bytes([24]) * 16])  # the newest survive
