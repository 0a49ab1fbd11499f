"""The runner: resumable runs, cell identity, no duplicate cells, failures recorded and isolated."""

from __future__ import annotations

import json
import time

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
    assert len(cells) == 4 and all(c.ok for c in cells)
    limited = next(c for c in cells if c.task == "simlex999")
    # the cap is the sample; total stays the whole dataset (SimLex-999: 999 pairs)
    assert (limited.results[0].sampled, limited.results[0].total) == (100, 999)
    assert limited.results[0].protocol["limit"] == 100
    assert limited.identity is not None and limited.identity.settings["limit"] == 100
    assert limited.identity.dataset_sha256 and limited.identity.embedder_identity.startswith("random:")
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
    keys = [r.key for r in store.records()]
    assert len(keys) == len(set(keys)) == 4


def test_a_changed_task_version_reruns_exactly_the_affected_cells(tmp_path, monkeypatch):
    from bench.tasks.similarity import SimilarityTask

    store = ResultStore(tmp_path)
    run_suite(Suite.from_dict(SUITE), store)
    real_init = SimilarityTask.__init__

    def bumped(self, **settings):  # a protocol change to ws353 only: its task version moves
        real_init(self, **settings)
        if self.meta.name == "ws353":
            self.meta = type(self.meta)(**{**self.meta.__dict__, "version": self.meta.version + "-bumped"})

    monkeypatch.setattr(SimilarityTask, "__init__", bumped)
    summary = run_suite(Suite.from_dict(SUITE), store)
    assert (summary.ran, summary.skipped) == (2, 2)
    assert {c.task for c in store.cells() if c.identity.task_version.endswith("-bumped")} == {"ws353"}
    assert len(store.cells()) == 4 and len(store.records()) == 4  # superseded versions compacted away


def test_a_changed_dataset_checksum_reruns_its_cells(tmp_path, monkeypatch):
    from bench.tasks.base import Task

    store = ResultStore(tmp_path)
    run_suite(Suite.from_dict(SUITE), store)
    real = Task.dataset_sha256

    def changed(self):
        pins = real(self)
        return {k: ("0" * 64 if k.startswith("simlex999/") else v) for k, v in pins.items()}

    monkeypatch.setattr(Task, "dataset_sha256", changed)
    summary = run_suite(Suite.from_dict(SUITE), store)
    assert (summary.ran, summary.skipped) == (2, 2)
    assert all(c.task == "simlex999" for c in store.cells() if c.identity.dataset_sha256.get("simlex999/pairs")
               == "0" * 64)


def test_rerun_forces_the_selected_cells(tmp_path):
    store = ResultStore(tmp_path)
    suite = Suite.from_dict(SUITE)
    run_suite(suite, store)
    before = {c.slot: c.finished for c in store.cells()}
    time.sleep(1.1)  # finished times have one-second resolution
    again = run_suite(suite.select(tasks=["ws353"]), store, rerun=True)
    assert (again.ran, again.skipped) == (2, 0)
    cells = store.cells()
    assert len(cells) == 4
    for c in cells:  # the re-run records replaced the old ones; the others are untouched
        assert (c.finished > before[c.slot]) == (c.task == "ws353"), c.slot


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
    by = {(c.embedder, c.task): c for c in store.cells()}
    assert by[("random", "ws353")].status == "failed" and "boom on tiger" in by[("random", "ws353")].error
    assert "Traceback" in by[("random", "ws353")].traceback
    assert by[("random", "simlex999")].ok
    assert by[("randon", "ws353")].stage == "load"
    assert "did you mean" in by[("randon", "ws353")].error
    assert summary.failed == 3
    # the failed cells are retried on the next run; the finished one is not
    again = run_suite(suite, store, loader=loader)
    assert again.skipped == 1
    files = {p.name for p in write_report(store)}
    assert {"summary.md", "layers.md", "failures.md", "results.csv"} <= files
    assert "boom on tiger" in (tmp_path / "failures.md").read_text()


def test_models_are_not_loaded_when_every_cell_is_finished(tmp_path):
    store = ResultStore(tmp_path)
    run_suite(Suite.from_dict(SUITE), store)

    def no_loading(name, **options):
        raise AssertionError("a finished suite must not load any model")

    summary = run_suite(Suite.from_dict(SUITE), store, loader=no_loading)
    assert (summary.ran, summary.skipped, summary.failed) == (0, 4, 0)


def test_per_model_overrides_cap_one_model_and_show_in_its_cells(tmp_path):
    suite = Suite.from_dict({
        "name": "o", "settings": {"n_boot": 50},
        "embedders": ["random", {"name": "random", "options": {"seed": 1}}],
        "tasks": ["ws353"],
        "overrides": [{"embedders": ["random"], "tasks": ["ws353"], "settings": {"limit": 40}}],
    })
    store = ResultStore(tmp_path)
    run_suite(suite, store)
    # both specs are named "random": the override applies to both; the sample is recorded as such
    assert sorted((c.results[0].sampled, c.results[0].total) for c in store.cells()) == [(40, 353), (40, 353)]
    with pytest.raises(ValueError, match=r"overrides\[0\]"):
        Suite.from_dict({"embedders": ["random"], "tasks": ["ws353"], "overrides": [{"tasks": ["ws353"]}]})
    with pytest.raises(ValueError, match="executor 'slurm'"):
        Suite.from_dict({"embedders": ["random"], "tasks": ["ws353"], "executor": "slurm"})


def test_a_run_killed_with_sigkill_resumes_to_the_same_tables(tmp_path):
    """kill -9 in the middle of a suite, run the same command again: the tables of an uninterrupted run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nsettings: {n_boot: 200}\nembedders: [random, {name: random, options: {seed: 1}}]\n"
                     "tasks: [ws353, simlex999, men, rg65, mc30, mturk287, polysemy-probe, direction-probe]\n")
    env = {**os.environ, "CTXBENCH_PROGRESS": "0"}

    def command(out):
        return [sys.executable, "-m", "bench.cli", "run", str(suite), "--out", str(out)]

    subprocess.run(command(tmp_path / "whole"), env=env, check=True, capture_output=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(command(killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = killed / "cells.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (store.exists() and store.read_bytes().count(b"\n") >= 2):
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = store.read_bytes().count(b"\n")
    assert 2 <= done < 16, f"the kill should land mid-suite ({done} of 16 cells stored)"
    subprocess.run(command(killed), env=env, check=True, capture_output=True)
    cells = [json.loads(line) for line in store.read_text().splitlines()]
    assert len(cells) == 16 and len({c["key"] for c in cells}) == 16
    for table in ("summary.md", "layers.md", "results.csv", "headline.md"):
        assert (killed / table).read_bytes() == (tmp_path / "whole" / table).read_bytes(), table
