"""The headline: sides, representatives chosen without test data, paired differences, Holm, coverage."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from bench.cell import Cell
from bench.headline import headline, headline_rows, render_headline
from bench.stats import holm, paired_bootstrap_diff, spearman


def cell(embedder, task, family, contextual, value, ids, pred, gold=(), metric="accuracy", *, dev=None,
         status="ok", higher=True, static_source=False, floor=False, n=None, total=None, groups=(),
         scheme="item"):
    ids = list(ids)
    return Cell.from_dict({
        "key": f"{embedder}::{task}#1", "slot": f"{embedder}::{task}", "embedder": embedder, "task": task,
        "status": status,
        "results": [{"metric": metric, "layer": "L", "value": value, "n": n if n is not None else len(ids),
                     "total": total if total is not None else len(ids)}],
        "shared": {"task": task, "embedder": embedder, "protocol": {}, "dataset_sha256": {}, "versions": {},
                   "seconds": 0.0, "checkpoint": embedder},
        "embedder_info": {"family": family, "contextual": contextual, "static_source": static_source,
                          "floor": floor},
        "task_meta": {"metric": metric, "higher_is_better": higher, "kind": "context"},
        "selection": {"layer": "L", "criterion": f"crit-{embedder}", "value": value, "ci_low": value - 0.1,
                      "ci_high": value + 0.1, "n": len(ids), "split": "test", "oracle": False,
                      "dev_value": value if dev is None else dev,
                      "items": {"ids": ids, "pred": list(pred), "gold": list(gold), "metric": metric,
                                "groups": list(groups), "scheme": scheme}},
    })


def test_sides_and_the_paired_difference_on_the_intersection():
    cells = [
        cell("glove", "wic", "glove", False, 0.5, "abcd", [1, 0, 1, 0], dev=0.6),
        cell("w2v", "wic", "word2vec", False, 0.25, "abcd", [1, 0, 0, 0], dev=0.5),
        cell("random", "wic", "other", False, 0.9, "abcd", [1, 1, 1, 0], dev=0.99, floor=True),  # never a side
        cell("bert", "wic", "bert", True, 0.8, "bcdef", [1, 1, 1, 1, 0], dev=0.8),
        cell("gpt", "wic", "gpt", True, 0.6, "abcd", [1, 1, 0, 0], dev=0.7),
        cell("elmo", "wic", "elmo", True, 0.99, "abcd", [1, 1, 1, 1], dev=0.99, status="failed"),
    ]
    row = headline(cells, n_boot=200).iloc[0]
    assert (row["static_model"], row["contextual_model"]) == ("glove", "bert")
    # shared ids b, c, d: bert [1, 1, 1], glove [0, 1, 0]
    assert row["n_paired"] == 3
    assert row["contextual_on_paired"] == 1.0 and row["static_on_paired"] == pytest.approx(1 / 3)
    assert row["diff"] == pytest.approx(2 / 3)
    ref = paired_bootstrap_diff(lambda p, g: float(np.mean(p)), np.array([1, 1, 1.0]), np.array([0, 1, 0.0]),
                                n_boot=200, seed=0)
    assert row["diff_ci_low"] == pytest.approx(ref["ci_low"]) and row["diff_ci_high"] == pytest.approx(ref["ci_high"])


def test_bag_of_context_models_are_on_the_static_side():
    cells = [
        cell("glove", "wic", "glove", False, 0.5, "abcd", [1, 0, 1, 0], dev=0.5),
        cell("bow:glove", "wic", "glove", True, 0.7, "abcd", [1, 1, 1, 0], dev=0.7, static_source=True),
        cell("bert", "wic", "bert", True, 0.8, "abcd", [1, 1, 1, 1], dev=0.6),
    ]
    row = headline(cells, n_boot=100).iloc[0]
    assert row["static_model"] == "bow:glove" and row["contextual_model"] == "bert"


def test_permuting_test_values_does_not_change_the_representatives():
    rng = random.Random(0)
    ids = [str(i) for i in range(30)]
    base = [cell(f"s{k}", "t", "glove", False, rng.random(), ids, [rng.randint(0, 1) for _ in ids], dev=d)
            for k, d in enumerate([0.3, 0.9, 0.5])]
    base += [cell(f"c{k}", "t", "bert", True, rng.random(), ids, [rng.randint(0, 1) for _ in ids], dev=d)
             for k, d in enumerate([0.8, 0.2, 0.4])]
    first = headline_rows(base, n_boot=50)[0]
    assert (first["static_model"], first["contextual_model"]) == ("s1", "c0")  # the best DEV scores
    for trial in range(5):
        values = [c.selection.value for c in base]
        rng.shuffle(values)
        shuffled = []
        for c, v in zip(base, values, strict=True):
            items = dataclasses.replace(c.selection.items, pred=tuple(rng.sample(list(c.selection.items.pred),
                                                                                 len(ids))))
            shuffled.append(dataclasses.replace(c, selection=dataclasses.replace(c.selection, value=v, items=items)))
        row = headline_rows(shuffled, n_boot=50)[0]
        assert (row["static_model"], row["contextual_model"]) == ("s1", "c0"), trial


def test_p_values_are_holm_adjusted_across_the_table():
    ids = [str(i) for i in range(30)]
    rng = np.random.default_rng(1)
    cells = []
    for t in ("t1", "t2", "t3"):
        a = rng.integers(0, 2, 30)
        b = np.clip(a + (rng.random(30) < 0.3), 0, 1)
        cells += [cell("glove", t, "glove", False, a.mean(), ids, a), cell("bert", t, "bert", True, b.mean(), ids, b)]
    rows = headline_rows(cells, n_boot=300)
    raw = [r["p"] for r in rows]
    assert [r["p_adjusted"] for r in rows] == pytest.approx(holm(raw))
    assert any(r["p_adjusted"] > r["p"] for r in rows)
    assert "Holm" in render_headline(cells, n_boot=300)


def test_resampling_follows_the_items_unit():
    ids = [str(i) for i in range(40)]
    groups = [f"w{i // 10}" for i in range(40)]
    a = [1] * 20 + [0] * 20
    b = [0] * 40
    cells = [cell("glove", "p", "glove", False, 0.0, ids, b, groups=groups, scheme="cluster"),
             cell("bert", "p", "bert", True, 0.5, ids, a, groups=groups, scheme="cluster")]
    row = headline_rows(cells, n_boot=300)[0]
    ref = paired_bootstrap_diff(lambda p, g: float(np.mean(p)), np.array(a, float), np.zeros(40), n_boot=300,
                                groups=np.array(groups), scheme="cluster")
    assert row["unit"] == "word" and row["diff_ci_low"] == pytest.approx(ref["ci_low"])


def test_spearman_items_use_the_gold_scores():
    gold = [1.0, 2.0, 3.0, 4.0, 5.0]
    cells = [
        cell("glove", "scws", "glove", False, 0.1, "abcde", [5, 1, 4, 2, 3], gold, "spearman"),
        cell("bert", "scws", "bert", True, 0.9, "abcde", [1, 2, 3, 5, 4], gold, "spearman"),
    ]
    row = headline(cells, n_boot=200).iloc[0]
    assert row["diff"] == pytest.approx(spearman([1, 2, 3, 5, 4], gold) - spearman([5, 1, 4, 2, 3], gold))


def test_descriptive_tasks_and_a_missing_side():
    geo = dataclasses.replace(cell("bert", "geometry", "bert", True, 0.3, "abc", [0, 0, 1]), selection=None)
    cells = [cell("bert", "wic", "bert", True, 0.7, "abc", [1, 1, 0]), geo]
    df = headline(cells, n_boot=100)
    assert df.iloc[0]["note"] == "no static model" and "descriptive" in df.iloc[1]["note"]


def test_a_cell_under_90_percent_coverage_is_flagged():
    cells = [cell("glove", "wic", "glove", False, 0.5, "abcd", [1, 0, 1, 0], n=8, total=10),
             cell("bert", "wic", "bert", True, 0.8, "abcd", [1, 1, 1, 0], n=95, total=100)]
    text = render_headline(cells, n_boot=100)
    glove_line = next(line for line in text.splitlines() if line.startswith("| wic |"))
    assert "0.500 [0.40, 0.60] ⚠" in glove_line and "0.800 [0.70, 0.90] ⚠" not in glove_line
    per_model = text.split("## Every model")[1]
    assert "0.500 [0.40, 0.60] ⚠" in per_model


def test_p_value_below_the_bootstrap_resolution_is_a_bound():
    ids = [str(i) for i in range(40)]
    cells = [cell("glove", "wic", "glove", False, 0.0, ids, [0] * 40),
             cell("bert", "wic", "bert", True, 1.0, ids, [1] * 40)]
    text = render_headline(cells, n_boot=500)
    assert "< 0.002" in text and "contextual ahead" in text


def test_a_model_scored_on_far_fewer_items_does_not_represent_its_side():
    ten, three = "abcdefghij", "abc"
    cells = [
        cell("glove", "sst2", "glove", False, 0.6, ten, [1] * 6 + [0] * 4, dev=0.6),
        cell("bert", "sst2", "bert", True, 0.8, ten, [1] * 8 + [0] * 2, dev=0.7),
        # the best dev score, but a per-model sample of 3 of the 10 test items: not the representative
        cell("gpt", "sst2", "gpt", True, 1.0, three, [1, 1, 1], dev=0.9),
        cell("gpt-nearly", "sst2", "gpt", True, 0.7, ten[:9], [1] * 6 + [0] * 3, dev=0.65),  # 9 of 10: eligible
    ]
    row = headline(cells, n_boot=100).iloc[0]
    assert row["contextual_model"] == "bert" and row["n_paired"] == 10
    cells[1] = cell("bert", "sst2", "bert", True, 0.8, ten, [1] * 8 + [0] * 2, dev=0.6)
    assert headline(cells, n_boot=100).iloc[0]["contextual_model"] == "gpt-nearly"
