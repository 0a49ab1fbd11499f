"""The classification tasks end to end: frozen pooled features, SentEval protocol, layer selection."""

from __future__ import annotations

import numpy as np
import pytest

from bench.tasks import get_task
from bench.vectors import PlannedSource
from embeddings.random_vectors import RandomEmbedder


@pytest.mark.parametrize("name", ["mr", "trec", "sst2"])
def test_each_kind_of_dataset_runs_per_layer_with_a_selection(name):
    task = get_task(name, limit=400 if name == "trec" else 120, n_boot=50)  # TREC's rarest class is 1.6%
    emb = RandomEmbedder(dim=8, n_layers=3, seed=1)
    source = PlannedSource(emb, None, strict=True)  # the task reads only what it declared
    source.prepare(task.inputs())
    out = task.run(source)
    assert [r.layer for r in out.results] == ["emb", "1", "2"]
    r = out.results[0]
    assert r.extra["not_converged"] >= 0 and r.protocol["protocol"] == "senteval-quick"
    assert 0 < r.n <= r.total and (r.sampled == 0 or r.n <= r.sampled)
    sel = out.selection
    assert sel is not None and sel.items is not None and len(sel.items.ids) == sel.n
    assert sel.layer in {"emb", "1", "2"} and not np.isnan(sel.dev_value)
    assert 0.0 <= sel.value <= 1.0 and sel.ci_low <= sel.value <= sel.ci_high


def test_layer_stride_keeps_the_first_and_last_layer():
    task = get_task("trec", limit=400, n_boot=20, layer_stride=3)
    out = task.run(RandomEmbedder(dim=4, n_layers=5))
    assert [r.layer for r in out.results] == ["emb", "3", "4"]


def test_sst2_reports_on_the_senteval_test_set():
    task = get_task("sst2", limit=50, n_boot=20)
    splits = task.splits()
    assert set(splits) == {"train", "dev", "test"}
    out = task.run(RandomEmbedder(dim=4))
    assert out.results[0].total == 1821 and out.selection.split == "test"
    assert "dev set" in out.selection.criterion or out.selection.criterion == "only layer"


class LabelInLayerOne(RandomEmbedder):
    """Random vectors, except that layer "1" of every word carries its sentence's label (one-hot, plus noise)."""

    def __init__(self, label_of: dict[tuple[str, ...], int], n_classes: int) -> None:
        super().__init__(dim=8, n_layers=3, seed=2)
        self.label_of, self.n_classes = label_of, n_classes

    def _embed(self, sentences):
        out = super()._embed(sentences)
        for words, (vectors, _) in zip(sentences, out):
            vectors[:, 1, :] *= 0.3
            vectors[:, 1, self.label_of[tuple(words)]] += 1.0
        return out


@pytest.mark.parametrize("name", ["mr", "trec"])  # k-fold and train/test selection
def test_a_layer_that_encodes_the_label_is_chosen_and_classifies_it_the_others_stay_at_chance(name):
    task = get_task(name, limit=300, n_boot=50)
    label_of = {tuple(s): int(y) for sents, labels, _ in task.splits().values() for s, y in zip(sents, labels)}
    n_classes = max(label_of.values()) + 1
    out = task.run(LabelInLayerOne(label_of, n_classes))
    by_layer = {r.layer: r.value for r in out.results}
    assert by_layer["1"] >= 0.95
    majority = 0.6 if name == "mr" else 0.45  # random features: near the majority class, far from 0.95
    assert by_layer["emb"] <= majority + 0.1 and by_layer["2"] <= majority + 0.1
    assert out.selection.layer == "1" and out.selection.value >= 0.95
