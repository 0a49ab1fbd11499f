"""The cost estimate: measured figures scaled by declared work and model size, with the stated schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.cell import Cell
from bench.costs import estimate, main, measure
from bench.runner import run_suite
from bench.store import ResultStore
from bench.suite import Suite
from bench.tasks import get_task
from bench.vectors import Requests
from embeddings.base import Embedder

# no standardisation sample: its 100 shared Brown sentences would dominate these small tasks' inputs
NO_STD = {"standardize_sentences": 0}
TARGET = {"name": "target", "embedders": ["minilm-l6", "glove-6b-50d"], "settings": NO_STD,
          "tasks": ["ws353", "simlex999"]}


def cell(embedder: str, task: str, settings: dict, seconds: float, info: dict) -> Cell:
    return Cell(key=f"{embedder}::{task}#{len(settings)}", slot=f"{embedder}::{task}", embedder=embedder, task=task,
                status="ok", settings=settings, embedder_info=info, seconds=seconds)


@pytest.fixture
def store(tmp_path):
    s = ResultStore(tmp_path)
    mini = {"family": "bert", "contextual": True, "layers": ["emb"] + [str(k) for k in range(1, 7)],
            "layer_dims": [384] * 7, "load_seconds": 2.0, "embed_seconds": 10.0, "embedded_words": 1000}
    glove = {"family": "glove", "contextual": False, "layers": ["emb"], "layer_dims": [50], "load_seconds": 4.0}
    for c in (cell("minilm-l6", "ws353", {"limit": 50, **NO_STD}, 1.0, mini),
              cell("minilm-l6", "simlex999", dict(NO_STD), 3.0, mini),
              cell("glove-6b-50d", "ws353", {"limit": 50, **NO_STD}, 0.5, glove),
              cell("glove-6b-50d", "simlex999", dict(NO_STD), 1.0, glove)):
        s.add(c)
    return s


def vectors(task: str, **settings) -> int:
    return get_task(task, **{**NO_STD, **settings}).inputs().n_vectors


def words(*tasks: str) -> int:
    union = Requests()
    for t in tasks:
        union.merge(get_task(t, **NO_STD).inputs())
    return sum(len(s) for s in union.sentences())


def test_measured_models_scale_by_declared_work(store):
    est = estimate(store, Suite.from_dict(TARGET), ["minilm-l6", "glove-6b-50d"], cpus=4)
    mini, glove = est.rows
    assert mini.basis == glove.basis == "measured"
    ws_ratio = vectors("ws353") / vectors("ws353", limit=50)
    assert ws_ratio > 3  # the limit really cut the work
    assert mini.load_seconds == 2.0
    assert mini.embed_seconds == pytest.approx(10.0 / 1000 * words("ws353", "simlex999"))
    assert mini.cell_seconds == pytest.approx(1.0 * ws_ratio + 3.0)
    assert glove.embed_seconds == 0.0 and glove.cell_seconds == pytest.approx(0.5 * ws_ratio + 1.0)


def test_unmeasured_checkpoints_scale_by_size_from_their_family(store):
    names = ["minilm-l6", "bert-large-uncased", "glove-6b-50d", "glove-840b-300d", "elmo-small", "no-such-model"]
    rows = {r.name: r for r in estimate(store, Suite.from_dict(TARGET), names, cpus=4).rows}
    big = (24 * 1024**2) / (6 * 384**2)  # 12·L·d² of BERT-large over MiniLM-L6
    assert rows["bert-large-uncased"].basis.startswith("scaled from minilm-l6")
    assert rows["bert-large-uncased"].embed_seconds == pytest.approx(rows["minilm-l6"].embed_seconds * big)
    assert rows["bert-large-uncased"].load_seconds == pytest.approx(2.0 * big)
    assert rows["bert-large-uncased"].cell_seconds == pytest.approx(rows["minilm-l6"].cell_seconds)
    vec = 2_196_017 * 300 / (400_000 * 50)
    assert rows["glove-840b-300d"].load_seconds == pytest.approx(4.0 * vec)
    assert rows["glove-840b-300d"].cell_seconds == pytest.approx(rows["glove-6b-50d"].cell_seconds)  # lookups
    assert "no measured elmo model" in rows["elmo-small"].basis and math.isnan(rows["elmo-small"].total)
    assert rows["no-such-model"].basis == "no size known"


def test_without_a_recorded_embedding_step_the_cells_carry_it(tmp_path):
    store = ResultStore(tmp_path)
    info = {"family": "bert", "contextual": True, "layers": ["emb"] + [str(k) for k in range(1, 7)],
            "layer_dims": [384] * 7, "load_seconds": 1.0}  # an older store: no embed_seconds
    store.add(cell("minilm-l6", "simlex999", {}, 5.0, info))
    suite = Suite.from_dict({"embedders": ["minilm-l6"], "tasks": ["simlex999"]})
    mini, large = estimate(store, suite, ["minilm-l6", "bert-large-uncased"], cpus=2).rows
    assert mini.embed_seconds == large.embed_seconds == 0.0 and mini.cell_seconds == 5.0
    assert large.cell_seconds == pytest.approx(5.0 * (24 * 1024**2) / (6 * 384**2))


def test_wall_clock_packs_models_longest_first_then_spreads_cells(store):
    est = estimate(store, Suite.from_dict(TARGET), ["minilm-l6", "bert-large-uncased", "glove-6b-50d"], cpus=4,
                   cpus_per_model=2)
    assert est.slots == 2
    a, b, c = sorted((r.model_seconds for r in est.rows), reverse=True)
    expected = max(a, b + c) + sum(r.cell_seconds for r in est.rows) / 4
    assert est.wall_seconds == pytest.approx(expected)
    on_gpus = estimate(store, Suite.from_dict(TARGET), ["bert-large-uncased"], cpus=4, gpus=1, gpu_speedup=10)
    on_cpus = estimate(store, Suite.from_dict(TARGET), ["bert-large-uncased"], cpus=4)
    assert on_gpus.rows[0].embed_seconds == pytest.approx(on_cpus.rows[0].embed_seconds / 10)


def test_the_command_prints_the_table_and_its_assumptions(store, tmp_path, capsys):
    suite = tmp_path / "target.yaml"
    suite.write_text("name: target\nembedders: [minilm-l6]\ntasks: [ws353, simlex999]\n")
    assert main([str(store.root), "--suite", str(suite), "--models", "minilm-l6,bert-large-uncased", "--cpus", "16",
                 "--gpus", "2", "--out", str(tmp_path / "costs.md")]) == 0
    out = capsys.readouterr().out
    written = (tmp_path / "costs.md").read_text()
    assert written.startswith("# Cost estimate") and written in out
    assert "| bert-large-uncased | scaled from minilm-l6" in out
    assert "on 16 CPUs and 2 GPUs" in out and "Assumptions:" in out and "wall-clock" in out
    assert main([str(tmp_path / "nothing")]) == 2


class Contextual(Embedder):
    """A tiny contextual model: a word's vector depends on its sentence."""

    family = "other"
    contextual = True
    direction = "bi"

    def __init__(self) -> None:
        self.name = "costs-test"
        self.layers = ["emb"]
        self.layer_dims = [4]

    def _embed(self, sentences):
        return [(np.full((len(s), 1, 4), len(s), np.float32), np.zeros(len(s), bool)) for s in sentences]


def test_a_run_records_what_the_estimate_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    store = ResultStore(tmp_path / "results")
    suite = Suite.from_dict({"embedders": ["random"], "tasks": [{"name": "ws353", "settings": {"limit": 30}}],
                             "settings": {"n_boot": 20}})
    run_suite(suite, store, loader=lambda name, **o: Contextual())
    (m,) = measure(store.cells()).values()
    assert m.embedded_words == words_of(get_task("ws353", limit=30, n_boot=20).inputs())
    assert m.embed_seconds >= 0 and m.cells["ws353"][1] == {"limit": 30, "n_boot": 20}


def words_of(req: Requests) -> int:
    return sum(len(s) for s in req.sentences())
