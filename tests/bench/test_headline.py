"""The headline table: who is compared with whom, and the paired difference on shared items."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from bench.cell import Cell
from bench.headline import headline, render_headline
from bench.stats import paired_bootstrap_diff, spearman


def cell(
    embedder,
    task,
    family,
    contextual,
    value,
    ids,
    pred,
    gold=(),
    metric="accuracy",
    status="ok",
    higher=True,
    oracle=False,
):
    return Cell.from_dict({
        "key": f"{embedder}::{task}#1",
        "slot": f"{embedder}::{task}",
        "embedder": embedder,
        "task": task,
        "status": status,
        "results": [{"metric": metric, "layer": "L", "value": value}],
        "shared": {"task": task, "embedder": embedder, "protocol": {}, "dataset_sha256": {}, "versions": {},
                   "seconds": 0.0, "checkpoint": embedder},
        "embedder_info": {"family": family, "contextual": contextual, "checkpoint": embedder},
        "task_meta": {"metric": metric, "higher_is_better": higher},
        "selection": {
            "layer": "L",
            "criterion": f"crit-{embedder}",
            "value": value,
            "ci_low": value - 0.1,
            "ci_high": value + 0.1,
            "n": len(ids),
            "split": "test",
            "oracle": oracle,
            "items": {"ids": list(ids), "pred": list(pred), "gold": list(gold), "metric": metric},
        },
    })


def test_best_of_each_side_and_paired_difference_on_the_intersection():
    cells = [
        cell("glove", "wic", "glove", False, 0.5, "abcd", [1, 0, 1, 0]),
        cell("w2v", "wic", "word2vec", False, 0.25, "abcd", [1, 0, 0, 0]),
        cell("random", "wic", "other", False, 0.9, "abcd", [1, 1, 1, 0]),  # a floor, never "best static"
        cell("bert", "wic", "bert", True, 0.8, "bcdef", [1, 1, 1, 1, 0]),
        cell("gpt", "wic", "gpt", True, 0.6, "abcd", [1, 1, 0, 0]),
        cell("elmo", "wic", "elmo", True, 0.99, "abcd", [1, 1, 1, 1], status="failed"),
    ]
    row = headline(cells, n_boot=200).iloc[0]
    assert (row["static_model"], row["contextual_model"]) == ("glove", "bert")
    assert row["criterion"] == "crit-bert" and not row["oracle"]
    # shared ids b, c, d: bert [1, 1, 1], glove [0, 1, 0]
    assert row["n_paired"] == 3
    assert row["contextual_on_paired"] == 1.0 and row["static_on_paired"] == pytest.approx(1 / 3)
    assert row["diff"] == pytest.approx(2 / 3)
    ref = paired_bootstrap_diff(
        lambda p, g: float(np.mean(p)), np.array([1, 1, 1.0]), np.array([0, 1, 0.0]), n_boot=200, seed=0
    )
    assert row["diff_ci_low"] == pytest.approx(ref["ci_low"]) and row["diff_ci_high"] == pytest.approx(
        ref["ci_high"]
    )


def test_spearman_items_use_the_gold_scores():
    gold = [1.0, 2.0, 3.0, 4.0, 5.0]
    cells = [
        cell("glove", "scws", "glove", False, 0.1, "abcde", [5, 1, 4, 2, 3], gold, "spearman"),
        cell("bert", "scws", "bert", True, 0.9, "abcde", [1, 2, 3, 5, 4], gold, "spearman"),
    ]
    row = headline(cells, n_boot=200).iloc[0]
    expected = spearman([1, 2, 3, 5, 4], gold) - spearman([5, 1, 4, 2, 3], gold)
    assert row["diff"] == pytest.approx(expected)


def test_lower_is_better_and_descriptive_tasks():
    cells = [
        cell("glove", "t", "glove", False, 0.5, "abc", [1, 0, 1], higher=False),
        cell("bert", "t", "bert", True, 0.3, "abc", [0, 0, 1], higher=False),
        cell("gpt", "t", "gpt", True, 0.7, "abc", [1, 1, 1], higher=False),
    ]
    geo = cell("bert", "geometry", "bert", True, 0.3, "abc", [0, 0, 1])
    geo = dataclasses.replace(geo, selection=None)
    df = headline(cells + [geo], n_boot=100)
    assert df.iloc[0]["contextual_model"] == "bert"
    assert df.iloc[1]["task"] == "geometry" and "descriptive" in df.iloc[1]["note"]


def test_missing_side_and_markdown():
    cells = [
        cell("bert", "wic", "bert", True, 0.7, "abc", [1, 1, 0], oracle=True),
        cell("glove", "scws", "glove", False, 0.4, "abc", [1, 2, 3], [1, 2, 3], "spearman"),
    ]
    df = headline(cells)
    assert df.iloc[0]["note"] == "no static model" and df.iloc[1]["note"] == "no contextual model"
    assert pd.isna(df.iloc[0]["diff"]) and pd.isna(df.iloc[1]["diff"])
    text = render_headline(cells)
    assert text.startswith("# Headline") and "| wic | accuracy | – |" in text and "bert (L)" in text
    full = render_headline(
        [
            cell("glove", "wic", "glove", False, 0.5, "abcd", [1, 0, 1, 0]),
            cell("bert", "wic", "bert", True, 0.8, "abcd", [1, 1, 1, 0], oracle=True),
        ]
    )
    assert "(oracle)" in full and "| 4 |" in full


def test_p_value_below_the_bootstrap_resolution_is_a_bound():
    ids = [str(i) for i in range(40)]
    cells = [
        cell("glove", "wic", "glove", False, 0.0, ids, [0] * 40),
        cell("bert", "wic", "bert", True, 1.0, ids, [1] * 40),
    ]
    text = render_headline(cells, n_boot=500)
    assert "| 1.000 [1.000, 1.000] | < 0.002 |" in text
