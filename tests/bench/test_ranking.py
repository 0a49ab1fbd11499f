"""The significance-aware ranking: ties unless separated, Holm over all pairs, resampling by each task's unit."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bench.cell import Cell
from bench.ranking import rank_models, ranking_frame, render_ranking
from bench.stats import accuracy, holm, paired_bootstrap_diff, spearman


def cell(model, task, pred, *, kind="context", metric="accuracy", gold=(), ids=None, groups=(), scheme="item",
         floor=False, contextual=True, higher=True, comparable=True, family="bert", n=None, total=None):
    ids = list(ids) if ids is not None else [str(i) for i in range(len(pred))]
    value = float(np.mean(pred)) if metric == "accuracy" else spearman(np.array(pred), np.array(gold))
    protocol = {} if comparable else {"comparable": False}
    return Cell.from_dict({
        "key": f"{model}::{task}#1", "slot": f"{model}::{task}", "embedder": model, "task": task, "status": "ok",
        "results": [{"metric": metric, "layer": "L", "value": value, "n": n or len(ids), "total": total or len(ids)}],
        "shared": {"task": task, "embedder": model, "protocol": protocol, "dataset_sha256": {}, "versions": {},
                   "seconds": 0.0, "checkpoint": model},
        "embedder_info": {"family": family, "contextual": contextual, "floor": floor, "label": f"label {model}"},
        "task_meta": {"kind": kind, "metric": metric, "higher_is_better": higher},
        "selection": {"layer": "L", "criterion": "c", "value": value, "ci_low": value, "ci_high": value,
                      "n": len(ids), "split": "test",
                      "items": {"ids": ids, "pred": [float(p) for p in pred], "gold": [float(g) for g in gold],
                                "metric": metric, "groups": list(groups), "scheme": scheme}},
    })


def bern(p, n, seed):
    return (np.random.default_rng(seed).random(n) < p).astype(float)


def scope(rankings, name):
    return next(r for r in rankings if r.scope == name)


def test_one_task_two_models_matches_the_paired_bootstrap():
    a, b = bern(0.75, 120, 1), bern(0.6, 120, 2)
    (ctx, overall) = rank_models([cell("a", "wic", a), cell("b", "wic", b)], n_boot=500)
    (pair,) = ctx.pairs
    ref = paired_bootstrap_diff(accuracy, a, b, n_boot=500, seed=0)  # wic is the only task: seed 0 + 0
    assert (pair.a, pair.b) == ("a", "b")
    assert pair.diff == pytest.approx(a.mean() - b.mean())
    assert (pair.ci_low, pair.ci_high, pair.p) == pytest.approx((ref["ci_low"], ref["ci_high"], ref["p"]))
    assert pair.p_adjusted == pytest.approx(ref["p"])  # one pair: Holm changes nothing
    assert overall.scope == "overall" and [e.model for e in overall.entries] == [e.model for e in ctx.entries]


def test_words_are_resampled_as_words():
    rng = np.random.default_rng(3)
    groups = [f"w{i // 10}" for i in range(200)]  # 20 words, 10 sentences each
    word_effect = np.repeat(rng.random(20) < 0.5, 10)
    a = np.where(rng.random(200) < 0.9, word_effect, 1 - word_effect).astype(float)
    b = bern(0.5, 200, 4)
    (ctx, _) = rank_models([cell("a", "probe", a, groups=groups, scheme="cluster"),
                            cell("b", "probe", b, groups=groups, scheme="cluster")], n_boot=400)
    ref = paired_bootstrap_diff(accuracy, a, b, n_boot=400, seed=0, groups=np.array(groups), scheme="cluster")
    (pair,) = ctx.pairs
    assert (pair.ci_low, pair.ci_high) == pytest.approx((ref["ci_low"], ref["ci_high"]))
    items = paired_bootstrap_diff(accuracy, a, b, n_boot=400, seed=0)
    assert pair.ci_high - pair.ci_low > items["ci_high"] - items["ci_low"]  # clusters: a wider interval


def test_ties_share_a_rank_and_rank_counts_models_separated_ahead():
    n = 300
    strong, strong2, weak = bern(0.9, n, 5), bern(0.9, n, 6), bern(0.5, n, 7)
    cells = [cell("a", "t1", strong), cell("b", "t1", strong2), cell("c", "t1", weak, floor=True, family="other")]
    ctx = scope(rank_models(cells, n_boot=300), "context")
    ranks = {e.model: e.rank for e in ctx.entries}
    assert ranks == {"a": 1, "b": 1, "c": 3}
    by = {e.model: e for e in ctx.entries}
    assert set(by["a"].ahead_of) == {"c"} and set(by["c"].behind) == {"a", "b"} and by["c"].floor
    text = render_ranking(rank_models(cells, n_boot=300))
    assert "| 3 | c (floor) | label c | floor |" in text


def test_holm_adjusts_over_all_pairs_of_a_kind():
    cells = [cell(m, "t1", bern(p, 80, k)) for k, (m, p) in enumerate([("a", 0.7), ("b", 0.6), ("c", 0.55),
                                                                      ("d", 0.5)])]
    ctx = scope(rank_models(cells, n_boot=300), "context")
    assert len(ctx.pairs) == 6
    assert [p.p_adjusted for p in ctx.pairs] == pytest.approx(holm([p.p for p in ctx.pairs]))
    for p in ctx.pairs:  # a raw p below 0.05 is not enough
        assert p.separated == (p.p_adjusted < 0.05 and (p.ci_low > 0 or p.ci_high < 0))


def test_the_score_is_the_mean_over_tasks_on_the_items_every_model_scored():
    a1, b1 = bern(0.8, 100, 8), bern(0.5, 100, 9)
    a2, b2 = bern(0.7, 60, 10), bern(0.6, 60, 11)
    ids_b2 = [str(i) for i in range(10, 60)] + ["x1", "x2"]  # b scored 50 of a's items, plus two of its own
    cells = [cell("a", "t1", a1), cell("b", "t1", b1), cell("a", "t2", a2),
             cell("b", "t2", np.concatenate([b2[10:], [1.0, 1.0]]), ids=ids_b2)]
    ctx = scope(rank_models(cells, n_boot=200), "context")
    by = {e.model: e for e in ctx.entries}
    assert by["a"].score == pytest.approx((a1.mean() + a2[10:].mean()) / 2)
    assert by["b"].score == pytest.approx((b1.mean() + b2[10:].mean()) / 2)
    assert dict(ctx.items) == {"t1": 100, "t2": 50}


def test_only_tasks_every_model_has_and_comparable_cells_count():
    cells = [cell("a", "t1", bern(0.8, 50, 1)), cell("b", "t1", bern(0.6, 50, 2)),
             cell("a", "t2", bern(0.8, 50, 3)),  # b has no t2
             cell("a", "t3", bern(0.8, 50, 4)), cell("b", "t3", bern(0.9, 50, 5), comparable=False),
             cell("a", "t4", bern(0.8, 50, 6), higher=False), cell("b", "t4", bern(0.8, 50, 7), higher=False)]
    ctx = scope(rank_models(cells, n_boot=100), "context")
    assert ctx.task_names == ["t1"]
    reasons = dict(ctx.excluded)
    assert reasons["t2"] == "no usable cell for b" and reasons["t3"] == "no usable cell for b"
    assert reasons["t4"].startswith("lower is better")


def test_overall_averages_kinds_and_keeps_models_ranked_in_every_kind():
    sim_gold = np.arange(40.0)
    noise = np.random.default_rng(0).normal(0, 10, 40)
    cells = [cell("a", "s1", sim_gold + noise, gold=sim_gold, kind="similarity", metric="spearman"),
             cell("b", "s1", sim_gold + 3 * noise, gold=sim_gold, kind="similarity", metric="spearman"),
             cell("a", "c1", bern(0.8, 60, 1)), cell("b", "c1", bern(0.7, 60, 2)), cell("c", "c1", bern(0.5, 60, 3))]
    rankings = rank_models(cells, n_boot=200)
    assert [r.scope for r in rankings] == ["similarity", "context", "overall"]
    overall = scope(rankings, "overall")
    assert [e.model for e in overall.entries if e.model == "c"] == []
    assert dict(overall.excluded)["c"].startswith("not ranked in every kind (missing: similarity")
    by = {r.scope: {e.model: e.score for e in r.entries} for r in rankings}
    for m in ("a", "b"):
        assert by["overall"][m] == pytest.approx((by["similarity"][m] + by["context"][m]) / 2)


def test_the_ranking_does_not_depend_on_cell_order():
    cells = [cell(m, t, bern(p, 70, k)) for k, (m, t, p) in enumerate(
        [(m, t, p) for m, p in (("a", 0.8), ("b", 0.7), ("c", 0.6)) for t in ("t1", "t2")])]
    first = ranking_frame(rank_models(cells, n_boot=100))
    shuffled = list(cells)
    random.Random(0).shuffle(shuffled)
    assert ranking_frame(rank_models(shuffled, n_boot=100)).equals(first)
    assert render_ranking(rank_models(shuffled, n_boot=100)) == render_ranking(rank_models(cells, n_boot=100))


def test_nothing_to_rank():
    assert rank_models([]) == []
    assert "nothing to rank" in render_ranking([])


def test_a_task_whose_models_disagree_on_the_metric_is_left_out():
    gold = np.arange(30.0)
    cells = [cell("a", "t1", bern(0.8, 30, 1)), cell("b", "t1", gold + 1, gold=gold, metric="spearman"),
             cell("a", "t2", bern(0.8, 30, 2)), cell("b", "t2", bern(0.5, 30, 3))]
    ctx = scope(rank_models(cells, n_boot=100), "context")
    assert ctx.task_names == ["t2"]
    assert "different metrics" in dict(ctx.excluded)["t1"]
