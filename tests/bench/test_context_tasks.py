"""Context tasks on tiny embedders with known geometry: every metric against a value worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from context_toys import AFTER, BEFORE, CueEmbedder, OneHotStatic, WordPlusSentence, probe_items

import bench.tasks.coarsewsd as coarsewsd_mod
import bench.tasks.scws as scws_mod
import bench.tasks.static_from_contextual as sfc_mod
import bench.tasks.wic as wic_mod
from bench.datasets.coarsewsd import WSDItem
from bench.datasets.scws import SCWSItem
from bench.datasets.wic import WiCItem
from bench.tasks import get_task
from bench.tasks.coarsewsd import centroid_predict, macro_bootstrap_ci
from bench.tasks.geometry import GeometryTask
from bench.tasks.probes import (
    DirectionProbeTask,
    PolysemyProbeTask,
    centroid_correct,
    chance_level,
    loo_nn_correct,
    separation,
)
from bench.tasks.static_from_contextual import aggregate_vectors, find_contexts
from bench.tasks.wic import best_threshold
from embeddings.base import Embedder


def by_layer(out):
    return {r.layer: r for r in out.results}


# -- WiC ---------------------------------------------------------------------------------
def wic_items(split: str, n_rep: int) -> list[WiCItem]:
    """Balanced pairs: same sense (T) and different sense (F), cue before the target."""
    items = []
    keys = list(BEFORE)
    for rep in range(n_rep):
        for a in range(len(keys)):
            for b in range(len(keys)):
                (wa, sa), (wb, sb) = keys[a], keys[b]
                if wa != wb:
                    continue
                s1 = BEFORE[keys[a]][rep % 3]
                s2 = BEFORE[keys[b]][(rep + 1) % 3]
                items.append(
                    WiCItem(
                        f"{split}:{len(items)}",
                        wa,
                        "N",
                        tuple(s1),
                        s1.index(wa),
                        tuple(s2),
                        s2.index(wb),
                        sa == sb,
                    )
                )
    return items


@pytest.fixture
def toy_wic(monkeypatch):
    data = {"train": wic_items("train", 3), "dev": wic_items("dev", 2), "test": wic_items("test", 3)}
    monkeypatch.setattr(wic_mod, "load_wic", lambda split: data[split])
    return data


def test_best_threshold_by_hand():
    # scores 0.1 F, 0.4 T, 0.6 F, 0.9 T: thresholds -inf -> 2/4, 0.25 -> 3/4, 0.5 -> 2/4, 0.75 -> 3/4
    t, acc = best_threshold(np.array([0.1, 0.4, 0.6, 0.9]), np.array([False, True, False, True]))
    assert (t, acc) == (0.25, 0.75)


def test_wic_sense_encoder_is_perfect_and_static_is_chance(toy_wic):
    test = toy_wic["test"]
    assert sum(i.label for i in test) * 2 == len(test)  # balanced: chance is 0.5
    out = get_task("wic", n_boot=200).run(CueEmbedder("bi"))
    layers = by_layer(out)
    assert layers["ctx"].value == 1.0
    assert layers["emb"].value == 0.5  # every cosine is 1: one class predicted for all
    assert layers["emb"].ci_low <= 0.5 <= layers["emb"].ci_high
    assert out.selection.layer == "ctx" and out.selection.value == 1.0
    assert list(out.selection.items.ids) == [i.id for i in test]
    static = get_task("wic", n_boot=200).run(CueEmbedder("none"))
    assert all(r.value == 0.5 for r in static.results)


def test_wic_static_glove_is_chance_on_the_real_test_set(glove):
    out = get_task("wic", max_train=500, n_boot=500).run(glove)
    r = out.results[0]
    assert r.total == 1400 and r.n > 1300
    assert r.ci_low <= 0.5 <= r.ci_high, (r.value, r.ci_low, r.ci_high)


# -- SCWS --------------------------------------------------------------------------------
def test_scws_spearman_by_hand(monkeypatch):
    def item(i, s1, s2, rating):
        a, b = BEFORE[s1][i], BEFORE[s2][i]
        return SCWSItem(
            str(i) + s1[1] + s2[1], s1[0], s2[0], tuple(a), a.index(s1[0]), tuple(b), b.index(s2[0]), rating
        )

    r, m = ("bank", "river"), ("bank", "money")
    items = [item(0, r, r, 9.0), item(0, r, m, 1.0), item(1, m, m, 8.0), item(1, m, r, 2.0)]
    monkeypatch.setattr(scws_mod, "load_scws", lambda: items)
    out = get_task("scws", n_boot=100).run(CueEmbedder("bi"))
    # ctx cosines [1, 0, 1, 0] -> ranks centred [1,-1,1,-1]; ratings ranks centred [1.5,-1.5,.5,-.5]
    assert by_layer(out)["ctx"].value == pytest.approx(4 / (2 * math.sqrt(5)))
    assert math.isnan(by_layer(out)["emb"].value)  # all cosines equal: no ranking at all


# -- CoarseWSD-20 ------------------------------------------------------------------------
def test_centroid_ties_go_to_the_frequent_sense():
    x = np.ones((5, 2))
    assert centroid_predict(x, np.array([1, 1, 1, 0, 0]), np.ones((2, 2))).tolist() == [1, 1]


def test_macro_bootstrap_ci_brackets_the_macro_mean():
    groups = [np.array([1, 1, 0, 1.0]), np.array([0, 0, 1, 0, 0, 1.0])]
    low, high = macro_bootstrap_ci(groups, n_boot=500)
    assert low < (0.75 + 1 / 3) / 2 < high


def test_coarsewsd_sense_encoder_and_static_majority(monkeypatch):
    river, money = BEFORE[("bank", "river")], BEFORE[("bank", "money")]

    def make(split, sents_labels):
        return [
            WSDItem(f"bank:{split}:{k}", "bank", tuple(s), s.index("bank"), y, True)
            for k, (s, y) in enumerate(sents_labels)
        ]

    train = make("train", [(s, 0) for s in river * 2] + [(s, 1) for s in money[:2] * 2])  # 6 river, 4 money
    test = make("test", [(s, 0) for s in river] + [(s, 1) for s in money])  # 3 + 3
    monkeypatch.setattr(coarsewsd_mod, "load_coarsewsd", lambda w, split: train if split == "train" else test)
    task = get_task("coarsewsd20", words=["bank"], n_boot=100)
    ctx = by_layer(task.run(CueEmbedder("bi")))
    assert ctx["ctx"].value == 1.0 and ctx["ctx"].extra["logreg_macro_accuracy"] == 1.0
    # static layer: identical vectors -> the majority sense of train (river) -> 3/6 on test
    assert ctx["emb"].value == 0.5 and ctx["emb"].extra["logreg_macro_accuracy"] == 0.5
    assert ctx["emb"].extra["majority_macro_accuracy"] == 0.5


# -- probes ------------------------------------------------------------------------------
class ToyPolysemy(PolysemyProbeTask):
    def items(self):
        return probe_items()


class ToyDirection(DirectionProbeTask):
    def items(self):
        return probe_items("before") + probe_items("after")

    def references(self):
        return probe_items()  # cue before the target: every contextual toy sees the cue


def test_loo_and_separation_by_hand():
    x = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    # nearest of 0 is 1 (cos .6 vs 0); of 1 is 2 (.8 vs .6); of 2 is 1
    assert loo_nn_correct(x, ["a", "a", "b"]).tolist() == [1.0, 0.0, 0.0]
    # within: cos(0,1) = .6; between: cos(0,2) = 0, cos(1,2) = .8 -> .6 - .4
    assert separation(x, ["a", "a", "b"]) == pytest.approx(0.2)
    assert chance_level(["a", "a", "a", "b"]).tolist() == pytest.approx([2 / 3, 2 / 3, 2 / 3, 0.0])


def test_polysemy_probe_perfect_encoder_and_static_chance():
    out = ToyPolysemy(n_boot=100).run(CueEmbedder("bi"))
    layers = by_layer(out)
    assert layers["ctx"].value == 1.0 and layers["ctx"].extra["separation"] == pytest.approx(1.0)
    # static layer: all 6 sentences of a word tie; 2 of the 5 others share the sense
    assert layers["emb"].value == pytest.approx(0.4) and layers["emb"].extra[
        "chance_accuracy"
    ] == pytest.approx(0.4)
    assert layers["emb"].extra["separation"] == pytest.approx(0.0)
    assert out.selection.layer == "ctx" and out.selection.value == 1.0


def test_centroid_credit_by_hand():
    cents = np.array([[1.0, 0.0], [0.6, 0.8]])
    # row 0: cos (0.6, 0.8) -> centroid 1; row 1: (0, 1) -> centroid 1
    x = np.array([[0.0, 1.0], [0.6, 0.8]])
    assert centroid_correct(x, cents, [1, 0]).tolist() == [1.0, 0.0]


def test_direction_probe_left_model_gains_only_from_cues_before():
    left = by_layer(ToyDirection(n_boot=200).run(CueEmbedder("left")))["ctx"].extra
    # after: a left model sees no cue, its vector is orthogonal to both centroids: a tie, credit 1/2
    assert left["accuracy_before"] == 1.0 and left["accuracy_after"] == 0.5
    assert left["before_minus_after"] == 0.5 and left["diff_ci"][0] > 0
    bi = by_layer(ToyDirection(n_boot=200).run(CueEmbedder("bi")))["ctx"].extra
    assert bi["accuracy_before"] == bi["accuracy_after"] == 1.0 and bi["before_minus_after"] == 0.0
    static = by_layer(ToyDirection(n_boot=200).run(CueEmbedder("none")))["ctx"]
    assert static.value == 0.5 and static.extra["chance_accuracy"] == 0.5
    assert static.extra["before_minus_after"] == 0.0


def test_direction_toy_conditions_are_mirror_images():
    for key in BEFORE:
        assert [list(reversed(s)) for s in BEFORE[key]] == AFTER[key]


# -- geometry ----------------------------------------------------------------------------
GEO = [("the", "cat", "sat"), ("the", "dog", "ran", "off"), ("a", "cat", "ran")]


def test_geometry_static_onehot_by_hand(monkeypatch):
    monkeypatch.setattr(GeometryTask, "sentences", lambda self: list(GEO))
    emb = OneHotStatic([w for s in GEO for w in s])
    r = GeometryTask(min_occurrences=2, n_pairs=50, n_boot=100, standardize_sentences=0).run(emb).results[0]
    # self-similarity 1, baseline 0 (different words are orthogonal): adjusted 1
    assert r.value == pytest.approx(1.0) and r.extra["anisotropy_baseline"] == pytest.approx(0.0)
    assert r.n == 3  # the, cat, ran occur in 2 sentences
    # k orthogonal unit vectors: each has cosine 1/sqrt(k) with their mean
    assert r.extra["intra_sentence"] == pytest.approx((2 / math.sqrt(3) + 1 / 2) / 3)


def test_geometry_contextual_self_similarity_by_hand(monkeypatch):
    monkeypatch.setattr(GeometryTask, "sentences", lambda self: list(GEO))
    emb = WordPlusSentence([w for s in GEO for w in s], {s: i for i, s in enumerate(GEO)})
    r = GeometryTask(min_occurrences=2, n_pairs=50, n_boot=100, standardize_sentences=0).run(emb).results[0]
    # (e_w + e_s1) . (e_w + e_s2) / 2 = 1/2 for every word in two sentences
    assert r.extra["self_similarity"] == pytest.approx(0.5)


# -- static from contextual --------------------------------------------------------------
class LengthEmbedder(Embedder):
    """Contextual: one-hot of the word (slot 0 or 1) plus one-hot of the sentence length (slot 2+len)."""

    name = "length"
    contextual = True
    direction = "bi"
    layers = ["emb"]
    layer_dims = [12]

    def _embed(self, sentences):
        out = []
        for s in sentences:
            v = np.zeros((len(s), 1, 12), np.float32)
            for i, w in enumerate(s):
                v[i, 0, 0 if w == "cat" else 1] = 1.0
                v[i, 0, 2 + len(s)] = 1.0
            out.append((v, np.zeros(len(s), bool)))
        return out


def test_aggregate_is_the_mean_over_contexts():
    sents = (("a", "cat", "b"), ("x",), ("cat", "b", "c", "d", "e"))
    contexts = find_contexts({"cat"}, sents, 10)
    assert contexts == {"cat": [(0, 1), (2, 0)]}
    agg = aggregate_vectors(LengthEmbedder(), contexts, sents, window=None)["cat"][0]
    expected = np.zeros(12)
    expected[0], expected[2 + 3], expected[2 + 5] = 1.0, 0.5, 0.5
    assert np.allclose(agg, expected)


def test_static_from_contextual_equals_plain_vectors_for_static(monkeypatch):
    sents = tuple(
        tuple(s) for s in BEFORE[("bank", "river")] + BEFORE[("bass", "fish")] + BEFORE[("bank", "money")]
    )
    pairs = [("bank", "river", 3.0), ("bass", "trout", 5.0), ("money", "loan", 9.0), ("bank", "money", 4.0)]
    monkeypatch.setattr(sfc_mod, "brown_sentences", lambda: sents)
    monkeypatch.setattr(sfc_mod, "load_pairs", lambda name: pairs)
    r = get_task("static-from-contextual", datasets=["ws353"], n_boot=100).run(CueEmbedder("none")).results
    for x in r:
        assert x.extra["ws353"]["spearman"] == pytest.approx(x.extra["ws353"]["decontextualized"])
        assert x.n == 4


# -- every task end to end on GloVe, small caps ------------------------------------------
SMALL = {
    "wic": {"limit": 60},
    "scws": {"limit": 60},
    "coarsewsd20": {"limit": 8},
    "polysemy-probe": {"limit": 6},
    "direction-probe": {"limit": 6},
    "geometry": {"limit": 80},
    "static-from-contextual": {"limit": 60},
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_task_runs_on_glove(name, glove):
    task = get_task(name, n_boot=100, **SMALL[name])
    assert task.meta.license and task.meta.citation
    out = task.run(glove)
    assert [r.layer for r in out.results] == glove.layers
    for r in out.results:
        assert 0 < r.n <= r.total and r.task == name and r.seconds >= 0
        assert r.dataset_sha256 == task.dataset_sha256()
        if not math.isnan(r.ci_low):
            assert r.ci_low - 1e-9 <= r.value <= r.ci_high + 1e-9
    if name == "geometry":
        assert out.selection is None
    else:
        s = out.selection
        assert s.layer in glove.layers and not s.oracle and s.items is not None
        assert len(s.items.ids) == len(s.items.pred) == s.n > 0


@pytest.fixture(scope="module")
def glove():
    import embeddings

    return embeddings.load("glove-6b-50d")
