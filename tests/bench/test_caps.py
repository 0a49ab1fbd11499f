"""caps.md: the capped default numbers beside the full protocol's."""

from __future__ import annotations

from bench.caps import render_caps
from bench.cell import Cell


def cell(embedder: str, task: str, value: float, low: float, high: float) -> Cell:
    return Cell.from_dict({
        "key": f"{embedder}::{task}#1", "slot": f"{embedder}::{task}", "embedder": embedder, "task": task,
        "status": "ok", "embedder_info": {"family": "glove"},
        "selection": {"layer": "emb", "criterion": "c", "value": value, "ci_low": low, "ci_high": high, "n": 10,
                      "split": "test"}})


def test_pairs_both_stores_ran_and_says_whether_the_full_number_is_inside_the_ci():
    default = [cell("glove", "wic", 0.55, 0.50, 0.60), cell("glove", "scws", 0.40, 0.35, 0.45),
               cell("minilm", "wic", 0.60, 0.55, 0.65)]
    full = [cell("glove", "wic", 0.58, 0.55, 0.61), cell("glove", "scws", 0.50, 0.47, 0.53)]
    text = render_caps(default, full)
    assert "| wic | glove | 0.550 [0.500, 0.600] (emb) | 0.580 (emb) | +0.030 | yes |" in text
    assert "| scws | glove | 0.400 [0.350, 0.450] (emb) | 0.500 (emb) | +0.100 | no |" in text
    assert "minilm" not in text and "Over 2 pairs" in text and "inside the capped number's CI in 1 of 2" in text
    assert "No model and task ran in both" in render_caps(default, [])
