"""The ray executor: same tables as a local run, one load per model, failures isolated, resumable.

One small Ray cluster (2 CPUs, no dashboard) serves the whole module. Everything a worker
runs from this file (the test embedder, the counting loader, the test tasks) is pickled by
value, since workers cannot import a test module.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the ray executor needs Ray: pip install 'ctxbench[ray]'")

import embeddings  # noqa: E402
from bench.report import write_report  # noqa: E402
from bench.runner import run_suite  # noqa: E402
from bench.store import ResultStore  # noqa: E402
from bench.suite import Suite  # noqa: E402
from bench.tasks import TaskMeta, TaskOutput  # noqa: E402
from bench.tasks import registry as task_registry  # noqa: E402
from bench.tasks.base import Task  # noqa: E402
from embeddings.base import Embedder  # noqa: E402

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

REPO = Path(__file__).resolve().parents[2]
LOADS = "CTXBENCH_TEST_LOADS"  # forwarded to workers like every CTXBENCH_ variable


class ContextCount(Embedder):
    """A cheap contextual model: a word's vector hashes the word plus its sentence."""

    family = "other"
    contextual = True
    direction = "bi"

    def __init__(self, *, dim: int = 8, seed: int = 0) -> None:
        self.name = "ray-test-context"
        self.seed = seed
        self.layers = ["emb", "1"]
        self.layer_dims = [dim, dim]

    def config(self):
        return {"name": self.name, "dim": self.dim, "seed": self.seed}

    @staticmethod
    def _vec(text: str, n: int) -> np.ndarray:
        digest = hashlib.sha256(text.encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little")).standard_normal(n).astype(np.float32)

    def _embed(self, sentences):
        out = []
        for words in sentences:
            ctx = self._vec(f"{self.seed}|" + " ".join(words), self.dim)
            rows = np.stack([np.stack([self._vec(f"{self.seed}:{w}", self.dim),
                                       self._vec(f"{self.seed}:{w}", self.dim) + ctx]) for w in words])
            out.append((rows, np.zeros(len(words), bool)))
        return out


embeddings.registry.register("ray-test-context", ContextCount, replace=True, family="other")


def counting_loader(name, **options):
    """Loads like embeddings.load, and appends one line per load (name, options, pid) to $CTXBENCH_TEST_LOADS."""
    with open(os.environ[LOADS], "a", encoding="utf-8") as f:
        f.write(json.dumps({"name": name, "options": options, "pid": os.getpid()}) + "\n")
    if name == "ray-test-context":  # not registered in a worker (it never imports this file)
        return ContextCount(**options)
    return embeddings.load(name, **options)


class RaisesTask(Task):
    """Raises while scoring, telling which process it ran in."""

    meta = TaskMeta(name="ray-test-raises", kind="similarity", description="raises", metric="none", datasets=(),
                    license="none", citation="none")

    def evaluate(self, source) -> TaskOutput:
        raise RuntimeError(f"raised in pid {os.getpid()}")


class CrashesTask(Task):
    """Kills its worker process while scoring (a crash Ray itself reports)."""

    meta = TaskMeta(name="ray-test-crashes", kind="similarity", description="crashes", metric="none",
                    datasets=(), license="none", citation="none")

    def evaluate(self, source) -> TaskOutput:
        os._exit(3)


task_registry.register("ray-test-raises", RaisesTask, replace=True)
task_registry.register("ray-test-crashes", CrashesTask, replace=True)

# two actors at once (0.5 CPU each) beside one cell at a time (1 CPU) on the 2-CPU test cluster;
# distinct model names, since reports key rows by name (two specs of one name make tables depend on store order)
SUITE = {"name": "r", "settings": {"n_boot": 50},
         "embedders": ["random", "ray-test-context"],
         "tasks": ["ws353", {"name": "simlex999", "settings": {"limit": 100}}, "polysemy-probe", "direction-probe"],
         "ray": {"default": {"num_cpus": 0.5}, "cell": {"num_cpus": 1}}}
TABLES = ("summary.md", "layers.md", "results.csv", "headline.md")


@pytest.fixture(scope="module")
def cluster():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    if started:
        ray.shutdown()


def run_in(root: Path, executor: str, suite: dict, monkeypatch) -> object:
    """One run into root/results with its own embedding cache and load log."""
    root.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("CTXBENCH_CACHE", str(root / "cache"))
    monkeypatch.setenv(LOADS, str(root / "loads.jsonl"))
    summary = run_suite(Suite.from_dict(suite), ResultStore(root / "results"), loader=counting_loader,
                        executor=executor)
    write_report(ResultStore(root / "results"))
    return summary


@pytest.fixture(scope="module")
def both_runs(cluster, tmp_path_factory):
    """The same suite run by the local executor and by the ray executor, each cold."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("both")
    try:
        local = run_in(root / "local", "local", SUITE, mp)
        t0 = time.perf_counter()
        remote = run_in(root / "ray", "ray", SUITE, mp)
        seconds = time.perf_counter() - t0
    finally:
        mp.undo()
    return root, local, remote, seconds


def test_ray_tables_are_byte_identical_to_a_local_run(both_runs):
    root, local, remote, _ = both_runs
    assert (local.ran, local.failed) == (8, 0)
    assert (remote.ran, remote.failed, remote.skipped) == (8, 0, 0)
    for name in TABLES:
        a = (root / "local" / "results" / name).read_bytes()
        assert a == (root / "ray" / "results" / name).read_bytes(), name
    keys = {c.key for c in ResultStore(root / "local" / "results").cells()}
    assert keys == {c.key for c in ResultStore(root / "ray" / "results").cells()}
    assert "ray-test-context" in (root / "ray" / "results" / "summary.md").read_text()


def test_each_model_is_loaded_once_in_its_actor_not_in_the_driver(both_runs):
    root, *_ = both_runs
    loads = [json.loads(line) for line in (root / "ray" / "loads.jsonl").read_text().splitlines()]
    models = sorted(json.dumps([d["name"], d["options"]], sort_keys=True) for d in loads)
    assert models == sorted({*models}) and len(models) == 2  # two models, each loaded exactly once
    assert all(d["pid"] != os.getpid() for d in loads)
    local = (root / "local" / "loads.jsonl").read_text().splitlines()
    assert len(local) == 2 and all(json.loads(d)["pid"] == os.getpid() for d in local)


def test_a_cell_that_raises_or_crashes_on_a_worker_fails_alone(cluster, tmp_path, monkeypatch):
    suite = {"name": "f", "settings": {"n_boot": 50}, "embedders": ["ray-test-context"],
             "tasks": ["ws353", "ray-test-raises", "ray-test-crashes", "polysemy-probe"]}
    summary = run_in(tmp_path, "ray", suite, monkeypatch)
    by = {c.task: c for c in ResultStore(tmp_path / "results").cells()}
    assert len(by) == 4 and (summary.ran, summary.failed) == (2, 2)
    assert by["ws353"].ok and by["polysemy-probe"].ok
    raised = by["ray-test-raises"]  # raised in the task's code on a worker: run_cell records it there
    pid = int(raised.error.rsplit(" ", 1)[1])
    assert raised.status == "failed" and raised.stage == "task" and pid != os.getpid()
    assert "in evaluate" in raised.traceback and "raise RuntimeError" in raised.traceback
    crashed = by["ray-test-crashes"]  # the worker process died: the driver records what Ray reports
    assert crashed.status == "failed" and crashed.stage == "task" and crashed.identity is not None
    assert "died" in crashed.error.lower() or "crash" in crashed.error.lower(), crashed.error
    assert "raised in pid" in (tmp_path / "results" / "failures.md").read_text()


def test_a_killed_driver_resumes_without_duplicates(cluster, tmp_path, monkeypatch):
    suite = {"name": "k", "settings": {"n_boot": 50},
             "embedders": ["random", {"name": "random", "options": {"seed": 1}}],
             "tasks": ["ws353", "ws353-sim", "simlex999", "rg65"],
             "ray": {"default": {"num_cpus": 0.5}, "cell": {"num_cpus": 1}}}
    (tmp_path / "k.yaml").write_text(json.dumps(suite))  # JSON is YAML
    out = tmp_path / "results"
    env = {**os.environ, "RAY_ADDRESS": cluster, "PYTHONPATH": str(REPO), "CTXBENCH_CACHE": str(tmp_path / "cache"),
           "CTXBENCH_PROGRESS": "0"}
    log = open(tmp_path / "driver.log", "wb")  # a file, not a pipe: a full pipe would block the driver
    proc = subprocess.Popen([sys.executable, "-m", "bench.cli", "run", str(tmp_path / "k.yaml"), "--executor", "ray",
                             "--out", str(out), "--no-report"], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 240  # generous: a loaded machine starts a driver slowly
    store = out / "cells.jsonl"
    while time.monotonic() < deadline and proc.poll() is None:
        if store.exists() and store.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.02)
    log.close()
    driver_log = (tmp_path / "driver.log").read_text(errors="replace")[-2000:]
    assert proc.poll() is None, f"the run ended before it could be killed: {driver_log}"
    assert store.exists(), f"no cell stored within the deadline: {driver_log}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    before = [json.loads(line) for line in store.read_bytes().split(b"\n")[:-1]]  # complete lines only
    assert 1 <= len(before) < 8, "killed mid-run: some cells stored, not all"

    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    summary = run_suite(Suite.load(tmp_path / "k.yaml"), ResultStore(out), executor="ray")
    keys = [r.key for r in ResultStore(out).records()]
    assert len(keys) == len(set(keys)) == 8
    assert summary.skipped == len(before) and summary.ran == 8 - len(before) and summary.failed == 0
    lines = store.read_text().splitlines()
    assert len(lines) == 8 and all(json.loads(line)["status"] == "ok" for line in lines)


def test_requests_the_cluster_cannot_meet_fail_and_a_lone_actor_scores_its_own_cells(cluster, tmp_path, monkeypatch):
    suite = {"name": "c", "settings": {"n_boot": 50}, "embedders": ["random", "ray-test-context"],
             "tasks": ["ws353", "polysemy-probe"],
             # every CPU to the actor: no room for a cell beside it; a GPU the cluster does not have
             "ray": {"default": {"num_cpus": 2}, "resources": {"random": {"num_gpus": 1}}}}
    summary = run_in(tmp_path, "ray", suite, monkeypatch)
    by = {(c.embedder, c.task): c for c in ResultStore(tmp_path / "results").cells()}
    assert (summary.ran, summary.failed) == (2, 2)
    assert by[("ray-test-context", "ws353")].ok and by[("ray-test-context", "polysemy-probe")].ok
    gpu = by[("random", "ws353")]
    assert gpu.stage == "load" and "asks for" in gpu.error and "'GPU': 0.0" in gpu.error
    assert not [line for line in (tmp_path / "loads.jsonl").read_text().splitlines() if '"random"' in line]
