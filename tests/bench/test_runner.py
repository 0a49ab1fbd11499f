"""Runner + store: resumable runs, no duplicate cells, failures recorded and isolated."""

from __future__ import annotations

import json

import pytest

import embeddings
from bench.report import write_report
from bench.runner import run_suite
from bench.store import ResultStore
from bench.suite import Suite
from embeddings.random_vectors import RandomEmbedder

SUITE = {"name": "t", "settings": {"n_boot": 50}, "embedders": ["random", {"name": "random", "options": {"seed": 1}}],
         "tasks": ["ws353", {"name": "simlex999", "settings": {"limit": 100}}]}


def test_run_writes_one_cell_per_embedder_and_task(tmp_path):
    store = ResultStore(tmp_path)
    summary = run_suite(Suite.from_dict(SUITE), store)
    assert (summary.ran, summary.failed) == (4, 0)
    cells = store.cells()
    assert len(cells) == 4 and all(c["status"] == "ok" for c in cells)
    limited = next(c for c in cells if c["task"] == "simlex999")
    assert limited["results"][0]["total"] == 100 and limited["results"][0]["protocol"]["limit"] == 100
    lines = (tmp_path / "cells.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line)["key"] for line in lines)


def test_interrupted_run_resumes_without_duplicates(tmp_path):
    store = ResultStore(tmp_path)
    calls = []

    def flaky_loader(name, **options):
        calls.append(options.get("seed", 0))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user hits Ctrl-C while the second model loads
        return embeddings.load(name, **options)

    with pytest.raises(KeyboardInterrupt):
        run_suite(Suite.from_dict(SUITE), store, loader=flaky_loader)
    assert len(store.records()) == 2  # the first model's two cells were kept
    summary = run_suite(Suite.from_dict(SUITE), store)
    assert (summary.ran, summary.skipped) == (2, 2)
    keys = [r["key"] for r in store.records()]
    assert len(keys) == len(set(keys)) == 4


def test_a_failing_model_or_task_loses_nothing_else(tmp_path):
    store = ResultStore(tmp_path)
    suite = Suite.from_dict({"embedders": ["random", "randon"], "tasks": ["ws353", "simlex999"]},
                            source="s.yaml")

    class Boom(RandomEmbedder):
        def _embed(self, sentences):
            if any("tiger" in s for s in sentences):
                raise RuntimeError("boom on tiger")
            return super()._embed(sentences)

    def loader(name, **options):
        if name == "random":
            return Boom(dim=10)
        return embeddings.load(name, **options)

    summary = run_suite(suite, store, loader=loader)
    by = {(c["embedder"], c["task"]): c for c in store.cells()}
    assert by[("random", "ws353")]["status"] == "failed" and "boom on tiger" in by[("random", "ws353")]["error"]
    assert by[("random", "simlex999")]["status"] == "ok"
    assert by[("randon", "ws353")]["stage"] == "load"
    assert "did you mean" in by[("randon", "ws353")]["error"]
    assert summary.failed == 3
    # the failed cells are retried on the next run; the finished one is not
    again = run_suite(suite, store, loader=loader)
    assert again.skipped == 1
    files = {p.name for p in write_report(store)}
    assert {"summary.md", "layers.md", "failures.md", "results.csv"} <= files
    assert "boom on tiger" in (tmp_path / "failures.md").read_text()


def test_store_reports_a_corrupt_line_with_its_number(tmp_path):
    (tmp_path / "cells.jsonl").write_text('{"key": "a", "embedder": "e", "task": "t", "status": "ok"}\n{oops\n')
    with pytest.raises(ValueError, match=r"cells.jsonl:2"):
        ResultStore(tmp_path).cells()


def test_suite_errors_are_precise(tmp_path):
    with pytest.raises(ValueError, match="unknown suite keys"):
        Suite.from_dict({"embedders": ["random"], "tasks": ["ws353"], "task": []})
    with pytest.raises(FileNotFoundError, match="did you mean 'default'"):
        Suite.load("defualt")
    bad = tmp_path / "bad.yaml"
    bad.write_text("embedders: [random\ntasks: [ws353]\n")
    with pytest.raises(ValueError, match="bad.yaml:"):
        Suite.load(bad)
    with pytest.raises(KeyError, match="did you mean 'simlex999'"):
        Suite.from_dict({"embedders": ["random"], "tasks": ["simlex"]}).validate_names()
