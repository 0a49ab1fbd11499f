"""findings.md: generated from the results, honest about uncertainty, quoted by the README."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.cell import Cell
from bench.findings import render_findings
from bench.report import FINDINGS_BEGIN, FINDINGS_END, findings_block, update_readme

REPO = Path(__file__).resolve().parents[2]


def cell(embedder, task, contextual, pred, *, static_source=False, family=None, dev=0.5, kind="context",
         groups=None):
    pred = [float(p) for p in pred]
    ids = [str(i) for i in range(len(pred))]
    value = float(np.mean(pred))
    return Cell.from_dict({
        "key": f"{embedder}::{task}#1", "slot": f"{embedder}::{task}", "embedder": embedder, "task": task,
        "status": "ok", "results": [{"metric": "accuracy", "layer": "L", "value": value, "n": len(ids),
                                     "total": len(ids)}],
        "shared": {"task": task, "embedder": embedder, "protocol": {}, "dataset_sha256": {}, "versions": {},
                   "seconds": 0.0, "checkpoint": embedder},
        "embedder_info": {"family": family or ("bert" if contextual else "glove"), "contextual": contextual,
                          "static_source": static_source, "label": f"label of {embedder}", "layers": ["L"]},
        "task_meta": {"metric": "accuracy", "higher_is_better": True, "kind": kind},
        "selection": {"layer": "L", "criterion": "c", "value": value, "ci_low": value - 0.05, "ci_high": value + 0.05,
                      "n": len(ids), "split": "test", "dev_value": dev,
                      "items": {"ids": ids, "pred": pred, "metric": "accuracy", "groups": groups or [],
                                "scheme": "cluster" if groups else "item"}},
    })


def test_the_findings_say_when_the_fair_baseline_closes_the_gap():
    rng = np.random.default_rng(0)
    n = 200
    ctx = (rng.random(n) < 0.9).astype(float)
    plain = (rng.random(n) < 0.5).astype(float)
    bow = np.where(rng.random(n) < 0.97, ctx, 1 - ctx)  # as good as the contextual model
    cells = [cell("glove", "probe", False, plain, dev=0.5), cell("bow:glove", "probe", True, bow,
                                                               static_source=True, dev=0.95),
             cell("minilm", "probe", True, ctx, dev=0.9)]
    text = render_findings(cells, n_boot=300)
    assert "The fair baseline closes the gap" in text
    assert "bow:glove" in text and "against the plain vector (contextual ahead)" in text
    # the headline's static representative is the bag of context (best dev), and no difference is claimed
    assert "no evidence of a difference" in text.split("## The fair")[0]


def test_a_ci_that_includes_zero_is_reported_as_no_evidence():
    rng = np.random.default_rng(1)
    a = (rng.random(40) < 0.6).astype(float)
    b = (rng.random(40) < 0.6).astype(float)
    text = render_findings([cell("glove", "t", False, a), cell("minilm", "t", True, b)], n_boot=300)
    line = next(x for x in text.splitlines() if x.startswith("- **t**"))
    assert "no evidence of a difference" in line and "[" in line and "paired items" in line
    assert "No seeds run" in text and "label of minilm" in text


def test_the_readme_quotes_findings_md_verbatim():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    findings = (REPO / "results" / "findings.md").read_text(encoding="utf-8")
    assert FINDINGS_BEGIN in readme and FINDINGS_END in readme
    block = readme.split(FINDINGS_BEGIN, 1)[1].split(FINDINGS_END, 1)[0].strip("\n") + "\n"
    assert block == findings_block(findings), "run: ctxbench report results --readme README.md"


def test_update_readme_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{FINDINGS_BEGIN}\nold\n{FINDINGS_END}\noutro\n")
    assert update_readme(readme, "# Findings\n\nnew text\n")
    assert readme.read_text() == f"intro\n{FINDINGS_BEGIN}\nnew text\n{FINDINGS_END}\noutro\n"
    assert not update_readme(readme, "# Findings\n\nnew text\n")
