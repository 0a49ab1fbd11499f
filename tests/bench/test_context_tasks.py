"""Context tasks on tiny embedders with known geometry: every metric against a value worked out by hand."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

import numpy as np
import pytest
from context_toys import (
    AFTER,
    BEFORE,
    CueEmbedder,
    OneHotStatic,
    WordPlusSentence,
    correlated_probe,
    probe_items,
)

import bench.tasks.coarsewsd as coarsewsd_mod
import bench.tasks.scws as scws_mod
import bench.tasks.static_from_contextual as sfc_mod
import bench.tasks.wic as wic_mod
from bench.datasets.coarsewsd import WSDItem
from bench.datasets.scws import SCWSItem
from bench.datasets.wic import WiCItem
from bench.stats import accuracy, bootstrap_ci, statistic
from bench.tasks import get_task
from bench.tasks.coarsewsd import centroid_predict, macro_f1, macro_f1_ci, sense_quotas, stratified_sample
from bench.tasks.context_vectors import pair_cosine, row_cosine, sample
from bench.tasks.geometry import GeometryTask
from bench.tasks.probes import (
    DirectionProbeTask,
    PolysemyProbeTask,
    centroid_correct,
    chance_level,
    loo_nn_correct,
    separation,
    word_diff_ci,
)
from bench.tasks.static_from_contextual import aggregate_vectors, find_contexts
from bench.tasks.wic import best_threshold, select_layer
from bench.vectors import as_source
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
    assert out.selection.layer == "ctx" and out.selection.value == 1.0 and out.selection.dev_value == 1.0
    assert list(out.selection.items.ids) == [i.id for i in test]
    assert all(r.total == len(test) and r.sampled == 0 for r in out.results)
    static = get_task("wic", n_boot=200).run(CueEmbedder("none"))
    assert all(r.value == 0.5 for r in static.results)


def _thresholds(out):
    return {r.layer: r.extra["threshold"] for r in out.results}


OTHER_SENSE = {("bank", "river"): ("bank", "money"), ("bank", "money"): ("bank", "river"),
               ("bass", "fish"): ("bass", "music"), ("bass", "music"): ("bass", "fish")}


def _other_sense(item: WiCItem) -> WiCItem:
    """The pair with its second sentence replaced by one of the other sense (the label kept: now wrong)."""
    key = next(k for k, sents in BEFORE.items() if list(item.sentence2) in sents)
    s2 = BEFORE[OTHER_SENSE[key]][0]
    return dataclasses.replace(item, sentence2=tuple(s2), index2=s2.index(item.target))


def test_wic_thresholds_come_from_train_only(monkeypatch, toy_wic):
    base = get_task("wic", n_boot=20).run(CueEmbedder("bi"))
    assert _thresholds(base)["ctx"] == 0.5  # cosines 0 (different sense) and 1 (same): the midpoint
    assert base.selection.layer == "ctx"
    # dev: every label flipped; test: half the pairs get other cosines. The fitted thresholds do not move
    changed = {
        "train": toy_wic["train"],
        "dev": [dataclasses.replace(it, label=not it.label) for it in toy_wic["dev"]],
        "test": [_other_sense(it) if k % 2 else it for k, it in enumerate(toy_wic["test"])],
    }
    monkeypatch.setattr(wic_mod, "load_wic", lambda split: changed[split])
    out = get_task("wic", n_boot=20).run(CueEmbedder("bi"))
    assert _thresholds(out) == _thresholds(base)
    assert by_layer(out)["ctx"].value == 0.5  # the changed test pairs are all wrong now
    assert out.selection.layer == "emb"  # dev chooses the layer (ctx: 0 on the flipped dev, emb: 0.5)
    # train: every pair labelled "different" -> the fit moves to "all different" (t = the top cosine, 1)
    changed["train"] = [dataclasses.replace(it, label=False) for it in toy_wic["train"]]
    assert _thresholds(get_task("wic", n_boot=20).run(CueEmbedder("bi")))["ctx"] == 1.0


def test_wic_layer_rule_dev_then_train_then_lower_index():
    assert select_layer([50, 52, 51], [400, 300, 500]) == 1  # best dev wins over better train
    assert select_layer([52, 50, 52], [300, 500, 301]) == 2  # dev tie: higher train
    assert select_layer([52, 52, 52], [300, 300, 300]) == 0  # full tie: lower index
    with pytest.raises(ValueError, match="one dev and one train count per layer"):
        select_layer([1, 2], [1])


def test_wic_caps_are_settings_and_say_so(toy_wic):
    assert get_task("wic").caps() == {"train": None, "dev": None, "test": None}  # the full protocol
    out = get_task("wic", max_test=5, max_train=7, n_boot=20).run(CueEmbedder("bi"))
    r = out.results[0]
    assert (r.total, r.sampled, r.n) == (len(toy_wic["test"]), 5, 5)
    assert (r.extra["train_pairs"], r.extra["train_total"]) == (7, len(toy_wic["train"]))
    assert out.selection.n == 5 and "sample" in out.selection.split


@pytest.mark.slow  # embeds the 10,409 distinct WiC sentences with GloVe (about 10 s)
def test_wic_static_glove_is_chance_on_the_real_test_set(glove):
    out = get_task("wic", n_boot=500).run(glove)
    r = out.results[0]
    assert r.total == 1400 and r.n > 1300 and r.sampled == 0
    assert r.extra["train_total"] == 5428 and r.extra["train_pairs"] > 5000 and r.extra["dev_total"] == 638
    assert r.ci_low <= 0.5 <= r.ci_high, (r.value, r.ci_low, r.ci_high)


# -- SCWS --------------------------------------------------------------------------------
PAD = ("x",) * 6  # more than a small window: the cues are only visible in the whole context


def scws_item(k: int, w1: str, cues1: str, w2: str, cues2: str, rating: float) -> SCWSItem:
    c1, c2 = (*cues1.split(), *PAD, w1), (*cues2.split(), *PAD, w2)
    return SCWSItem(f"p{k}", w1, w2, c1, len(c1) - 1, c2, len(c2) - 1, rating)


# ctx vectors: the sum of the cue senses' one-hots (river, money, fish, music)
SCWS_TOY = [
    scws_item(0, "bank", "the river", "bank", "a river", 9.0),  # same word, cos 1
    scws_item(1, "bank", "the river", "bank", "the money", 1.0),  # same word, cos 0
    scws_item(2, "bank", "the river", "bass", "river trout", 6.0),  # cos 1/sqrt(2)
    scws_item(3, "bank", "the river", "bass", "and trout", 2.0),  # cos 0
    scws_item(4, "bank", "money river", "bass", "river trout", 7.0),  # cos 1/2
    scws_item(5, "bank", "the money", "bass", "money guitar", 3.0),  # cos 1/sqrt(2)
]


@pytest.fixture
def toy_scws(monkeypatch):
    monkeypatch.setattr(scws_mod, "load_scws", lambda: list(SCWS_TOY))
    return SCWS_TOY


def test_scws_spearman_with_and_without_same_word_pairs_by_hand(toy_scws):
    out = get_task("scws", n_boot=100).run(CueEmbedder("bi"))
    ctx = by_layer(out)["ctx"]
    # all pairs: cos ranks [6, 1.5, 4.5, 1.5, 3, 4.5], rating ranks [6, 1, 4, 2, 5, 3]; centred:
    # [2.5, -2, 1, -2, -.5, 1] . [2.5, -2.5, .5, -1.5, 1.5, -.5] = 13.5; squares 16.5 and 17.5
    assert ctx.value == pytest.approx(13.5 / math.sqrt(16.5 * 17.5))
    # different words only (pairs 2-5): cos ranks [3.5, 1, 2, 3.5], ratings [3, 1, 4, 2]; centred:
    # [1, -1.5, -.5, 1] . [.5, -1.5, 1.5, -.5] = 1.5; squares 4.5 and 5
    assert ctx.extra["different_words_spearman"] == pytest.approx(1.5 / math.sqrt(4.5 * 5))
    assert (ctx.extra["different_words_n"], ctx.extra["same_word_pairs"]) == (4, 2)
    assert (ctx.n, ctx.total, ctx.sampled) == (6, 6, 0)
    # the static layer: cosine 1 for the same word, 0 otherwise: centred ranks [2, 2, -1, -1, -1, -1]
    # against the ratings' gives 5 - 5 - .5 + 1.5 - 1.5 + .5 = 0; among different words all tie
    emb = by_layer(out)["emb"]
    assert emb.value == pytest.approx(0.0) and math.isnan(emb.extra["different_words_spearman"])


def test_scws_reads_the_whole_context_unless_a_window_is_set(toy_scws):
    task = get_task("scws", n_boot=20)
    sents, idx = task.contexts(toy_scws)
    assert sents[0] == toy_scws[0].context1 and idx[0] == toy_scws[0].index1  # nothing cropped
    assert set(task.inputs().targets) == {it.context1 for it in toy_scws} | {it.context2 for it in toy_scws}
    cropped = get_task("scws", window=2, n_boot=20).run(CueEmbedder("bi"))
    # +-2 tokens see no cue: ctx falls back to the word's own one-hot, as static as emb
    assert by_layer(cropped)["ctx"].value == pytest.approx(by_layer(cropped)["emb"].value)
    assert by_layer(cropped)["ctx"].protocol["context"] == "+-2 tokens"


def test_scws_cap_counts_the_sample_not_the_dataset(toy_scws):
    r = get_task("scws", max_pairs=4, n_boot=20).run(CueEmbedder("bi")).results[0]
    assert (r.n, r.sampled, r.total) == (4, 4, 6) and r.coverage == 1.0


def test_scws_real_dataset_has_241_same_word_pairs():
    items = scws_mod.load_scws()
    assert len(items) == 2003 and sum(map(scws_mod.same_word, items)) == 241


# -- CoarseWSD-20 ------------------------------------------------------------------------
def test_centroid_ties_go_to_the_frequent_sense():
    x = np.ones((5, 2))
    assert centroid_predict(x, np.array([1, 1, 1, 0, 0]), np.ones((2, 2))).tolist() == [1, 1]


def test_sense_quotas_by_hand():
    assert sense_quotas({0: 6403, 1: 18}, 25) == {0: 24, 1: 1}  # pitcher: the rare sense keeps one
    # shares 7.7, 6.25, 5.6, 2.76, 2.66 -> floors 7, 6, 5, 2, 2 (22); largest remainders .76, .7, .66
    assert sense_quotas({0: 148, 1: 120, 2: 108, 3: 53, 4: 51}, 25) == {0: 8, 1: 6, 2: 5, 3: 3, 4: 3}
    assert sense_quotas({0: 3, 1: 3, 2: 3}, 2) == {0: 1, 1: 1, 2: 1}  # one per sense beats the cap
    assert sense_quotas({0: 4, 1: 0}, 2) == {0: 2}  # a sense the split lacks stays out


def test_stratified_sample_keeps_shares_and_is_model_free():
    items = [(f"id{i}", 0 if i < 90 else 1) for i in range(100)]
    picked = stratified_sample(items, 10, lambda it: it[1], lambda it: it[0], "salt")
    assert [sense for _, sense in picked].count(1) == 1 and len(picked) == 10
    assert picked == sorted(picked, key=lambda it: int(it[0][2:]))  # input order
    shuffled = stratified_sample(items[::-1], 10, lambda it: it[1], lambda it: it[0], "salt")
    assert sorted(shuffled) == sorted(picked)  # the ids decide, not the order


def test_macro_f1_matches_scikit_learn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    for _ in range(20):
        gold, pred = rng.integers(0, 4, 30), rng.integers(0, 3, 30)
        assert macro_f1(pred, gold) == pytest.approx(f1_score(gold, pred, average="macro", zero_division=0))


def test_macro_f1_ci_brackets_the_word_mean():
    gold = np.array([0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 2, 2])
    pred = np.array([0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 2, 0])
    words = np.array(["a"] * 6 + ["b"] * 6)
    value = (macro_f1(pred[:6], gold[:6]) + macro_f1(pred[6:], gold[6:])) / 2
    low, high = macro_f1_ci(pred, gold, words, n_boot=500)
    assert low < value < high


def test_macro_f1_ci_keeps_a_one_item_sense_in_every_replicate():
    # 20 words of 24 + 1 items, the majority sense predicted everywhere: per word F1 48/49 and 0
    gold = np.tile([0] * 24 + [1], 20)
    pred = np.zeros_like(gold)
    words = np.repeat([f"w{k}" for k in range(20)], 25)
    low, high = macro_f1_ci(pred, gold, words, n_boot=300)
    # a replicate without the rare item would score 1.0 for its word and pull the interval up
    assert low <= (48 / 49) / 2 <= high


def wsd_items(word: str, split: str, sents_labels) -> list[WSDItem]:
    return [WSDItem(f"{word}:{split}:{k}", word, tuple(s), s.index(word), y, True)
            for k, (s, y) in enumerate(sents_labels)]


@pytest.fixture
def toy_wsd(monkeypatch):
    """bank (river 0 / money 1) and bass (fish 0 / music 1): train 6 + 4, test 3 + 3 per word."""
    data = {}
    for word, (a, b) in {"bank": ("river", "money"), "bass": ("fish", "music")}.items():
        first, second = BEFORE[(word, a)], BEFORE[(word, b)]
        data[word, "train"] = wsd_items(word, "train", [(s, 0) for s in first * 2] + [(s, 1) for s in second[:2] * 2])
        data[word, "test"] = wsd_items(word, "test", [(s, 0) for s in first] + [(s, 1) for s in second])
    monkeypatch.setattr(coarsewsd_mod, "load_coarsewsd", lambda w, split: data[w, split])
    return data


def test_coarsewsd_sense_encoder_and_static_majority(toy_wsd):
    task = get_task("coarsewsd20", words=["bank", "bass"], n_boot=100)
    out = by_layer(task.run(CueEmbedder("bi")))
    assert out["ctx"].value == 1.0 and out["ctx"].extra["macro_f1"] == 1.0
    assert out["ctx"].extra["logreg_micro_f1"] == out["ctx"].extra["logreg_macro_f1"] == 1.0
    # static layer: identical vectors -> the majority sense of train (label 0) for all 6 test items of
    # a word: micro-F1 3/6; F1 of sense 0 = 2*3 / (6 + 3) = 2/3, of sense 1 = 0 -> macro-F1 1/3
    emb = out["emb"]
    assert emb.value == 0.5 and emb.extra["logreg_micro_f1"] == 0.5 and emb.extra["majority_micro_f1"] == 0.5
    assert emb.extra["macro_f1"] == pytest.approx(1 / 3) and emb.extra["majority_macro_f1"] == pytest.approx(1 / 3)
    assert (emb.n, emb.total, emb.sampled) == (12, 12, 0)


def test_coarsewsd_every_ci_resamples_within_words(toy_wsd):
    toy_wsd["bass", "test"] = toy_wsd["bass", "test"][:4]  # 3 fish, 1 music
    out = get_task("coarsewsd20", words=["bank", "bass"], n_boot=300).run(CueEmbedder("none"))
    assert get_task("coarsewsd20").meta.resample_unit == "word-stratified"
    # a static model: the majority sense (the first), right on the first-sense test items of each word
    correct = np.array([1, 1, 1, 0, 0, 0] + [1, 1, 1, 0], float)
    words = np.array(["bank"] * 6 + ["bass"] * 4)
    expected = bootstrap_ci(accuracy, correct, groups=words, scheme="stratified", n_boot=300, seed=0)
    r = by_layer(out)["emb"]
    assert r.value == (3 / 6 + 3 / 4) / 2  # the mean over words, not the pooled 6 / 10
    assert (r.ci_low, r.ci_high) == expected
    sel = out.selection
    assert sel.items.scheme == "stratified" and list(sel.items.groups) == words.tolist()
    assert list(sel.items.pred) == correct.tolist()
    assert sel.value == statistic(accuracy, correct, groups=words, scheme="stratified") == r.value
    assert (sel.ci_low, sel.ci_high) == expected and math.isfinite(sel.dev_value)


def test_coarsewsd_cap_counts_the_sample(toy_wsd):
    r = get_task("coarsewsd20", words=["bank", "bass"], max_test_per_word=4, n_boot=20).run(
        CueEmbedder("bi")).results[0]
    assert (r.n, r.sampled, r.total) == (8, 8, 12)


def _stratified(sample, full) -> list[str]:
    """Where a word's sample is not sense-stratified: a sense missing, or off its share by a whole item."""
    bad = []
    for w, items in sample.items():
        n_full = Counter(it.label for it in full[w] if it.aligned)
        n_sample = Counter(it.label for it in items)
        total = sum(n_full.values())
        for sense, count in n_full.items():
            share = len(items) * count / total
            if n_sample[sense] < 1 or abs(n_sample[sense] - share) >= 1:
                bad.append(f"{w} sense {sense}: {n_sample[sense]} of {len(items)} (share {share:.2f})")
    return bad


def test_coarsewsd_training_samples_are_sense_stratified():
    task = get_task("coarsewsd20", max_train_per_word=25, max_test_per_word=25)
    s = task.samples()
    full = {w: coarsewsd_mod.load_coarsewsd(w, "train") for w in s["train"]}
    assert all(len(items) == 25 for items in s["train"].values())
    assert _stratified(s["train"], full) == []
    # the hash sample it replaces (25 items by the hash of the id, senses ignored) is not
    legacy = {w: sample([it for it in full[w] if it.aligned], 25, lambda it: it.id, "coarsewsd20") for w in full}
    assert _stratified(legacy, full)
    assert s["capped"] and s["total"] == 10196


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


class CorrelatedPolysemy(PolysemyProbeTask):
    def items(self):
        return correlated_probe()[0]


def test_probe_cis_resample_words_not_sentences():
    items, embedder, correct = correlated_probe()  # 10 words all right, 10 all wrong, 6 sentences each
    out = CorrelatedPolysemy(n_boot=500).run(embedder)
    r = out.results[0]
    assert CorrelatedPolysemy.meta.resample_unit == "word"
    assert r.value == 0.5 and r.n == r.total == 120
    words = np.array([it.word for it in items])
    by_word = bootstrap_ci(accuracy, np.array(correct), groups=words, scheme="cluster", n_boot=500, seed=0)
    by_sentence = bootstrap_ci(accuracy, np.array(correct), n_boot=500, seed=0)
    assert (r.ci_low, r.ci_high) == by_word  # the task's own interval is the by-word one ...
    assert r.ci_high - r.ci_low > 1.5 * (by_sentence[1] - by_sentence[0])  # ... and much wider
    sel = out.selection
    assert sel.items.scheme == "cluster" and {*sel.items.groups} <= {*words} and len(sel.items.groups) == sel.n
    sel_by_sentence = bootstrap_ci(accuracy, np.array(sel.items.pred), n_boot=500, seed=0)
    assert sel.ci_high - sel.ci_low > sel_by_sentence[1] - sel_by_sentence[0]
    assert sel.ci_low <= sel.value <= sel.ci_high


def test_word_diff_ci_draws_the_same_words_for_both_conditions():
    # each word is right in both conditions or wrong in both: every replicate's difference is 0
    words = np.repeat(["a", "b", "c", "d", "e", "f"], 4)
    first = np.tile([True, True, False, False], 6)
    correct = np.repeat([1.0, 0.0, 1.0, 0.0, 1.0, 1.0], 4)
    assert word_diff_ci(correct, words, first, ~first, n_boot=200) == (0.0, 0.0)


def test_probe_limit_counts_the_words_drawn():
    r = ToyPolysemy(limit=1, n_boot=20).run(CueEmbedder("bi")).results[0]
    assert (r.n, r.sampled, r.total) == (6, 6, 12)  # one word of two, 6 sentences each
    full = ToyPolysemy(n_boot=20).run(CueEmbedder("bi"))
    assert (full.results[0].sampled, full.results[0].total) == (0, 12)
    assert full.selection.dev_value == 1.0  # the dev word's accuracy at the chosen (ctx) layer


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
    assert left["ci_before"] == [1.0, 1.0] and left["ci_after"] == [0.5, 0.5]  # every word alike
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
    agg = aggregate_vectors(as_source(LengthEmbedder()), contexts, sents, window=None)["cat"][0]
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


CAPPED_BY_LIMIT = {"wic", "scws", "coarsewsd20", "polysemy-probe", "direction-probe"}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_task_runs_on_glove(name, glove):
    task = get_task(name, n_boot=100, **SMALL[name])
    assert task.meta.license and task.meta.citation
    out = task.run(glove)
    assert [r.layer for r in out.results] == glove.layers
    for r in out.results:
        assert 0 < r.n <= r.total and r.task == name and r.seconds >= 0
        if name in CAPPED_BY_LIMIT:  # the limit drew a sample: it is counted, and coverage is of the sample
            assert r.n <= r.sampled < r.total, (r.n, r.sampled, r.total)
        assert r.dataset_sha256 == task.dataset_sha256()
        if not math.isnan(r.ci_low):
            assert r.ci_low - 1e-9 <= r.value <= r.ci_high + 1e-9
    if name == "geometry":
        assert out.selection is None
    else:
        s = out.selection
        assert s.layer in glove.layers and not s.oracle and s.items is not None
        assert len(s.items.ids) == len(s.items.pred) == s.n > 0
        if name in CAPPED_BY_LIMIT:
            assert math.isfinite(s.dev_value)


@pytest.fixture(scope="module")
def glove():
    import embeddings

    return embeddings.load("glove-6b-50d")


def test_pair_cosine_equals_row_cosine_of_the_stacked_pairs_bitwise() -> None:
    rng = np.random.default_rng(3)
    vectors = {w: rng.normal(size=(4, 16)).astype(np.float32) for w in "abcdef"}
    vectors["zero"] = np.zeros((4, 16), dtype=np.float32)  # cosine with a zero vector is 0
    vectors["a"][2] = 0.0
    left = ["a", "b", "zero", "c", "a", "f"]
    right = ["b", "b", "d", "zero", "e", "a"]
    stacked = row_cosine(np.stack([vectors[w] for w in left]), np.stack([vectors[w] for w in right]))
    paired = pair_cosine(vectors, left, right)
    assert paired.shape == (6, 4)
    np.testing.assert_array_equal(paired, stacked)
    assert paired[2].tolist() == [0.0] * 4 and paired[0, 2] == 0.0
    assert paired[1] == pytest.approx(1.0, abs=1e-6)
