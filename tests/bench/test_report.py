"""The report files: complete, labelled, with coverage, escaped, and byte-identical on a re-run."""

from __future__ import annotations

import base64
import csv
import io
import re
import zlib
from pathlib import Path

import pandas as pd
import pytest
from report_cells import EVIL, EVIL_LABEL, make_cells, make_store

from bench.cards import dataset_cards, model_cards, what_it_is
from bench.report import write_report
from bench.store import ResultStore
from bench.tables import Table, to_latex

N_BOOT = 200
EXPECTED = {"report.html", "summary.md", "summary.csv", "summary.tex", "layers.md", "results.csv", "models.md",
            "datasets.md", "failures.md", "headline.md", "timing.md", "findings.md", "ranking.md", "ranking.csv",
            "ranking.tex"}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in ("cells.jsonl", "cells.jsonl.lock")}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    write_report(make_store(root), n_boot=N_BOOT)
    return root


def test_every_file_is_written_with_every_plot(report):
    names = {p.name for p in report.iterdir()}
    assert EXPECTED <= names
    plots = {p.name for p in (report / "plots").iterdir()}
    assert plots == {"ws353.png", "simlex999.png", "wic.png", "polysemy-probe.png", "mr.png", "geometry.png",
                     "headline-deltas.png", "heatmap.png"}


def test_a_second_report_writes_the_same_bytes_whatever_order_the_cells_ran_in(report, tmp_path):
    first = _snapshot(report)
    write_report(ResultStore(report), n_boot=N_BOOT)  # again, same store, same directory
    assert _snapshot(report) == first
    n = len(make_cells())
    shuffled = make_store(tmp_path / "other", order=list(reversed(range(n)))[1::2] + list(reversed(range(n)))[::2])
    write_report(shuffled, n_boot=N_BOOT)
    other = _snapshot(tmp_path / "other")
    assert other.keys() == first.keys()
    assert [k for k in first if first[k] != other[k]] == []


def test_summary_carries_labels_ci_and_coverage_in_every_format(report):
    md = (report / "summary.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| model |"))
    assert header.startswith("| model | what it is | side |")
    glove = next(line for line in md.splitlines() if line.startswith("| glove-6b-50d |"))
    wic = glove.split(" | ")[5]
    assert re.fullmatch(r"0\.\d{3} \[0\.\d\d, 0\.\d\d\] \(emb\) 160/200 ⚠", wic), wic
    assert "stand-in for BERT: all-MiniLM-L6-v2" in md and "150/10662 (cap 150)" in md
    assert "| minilm-l6 |" in md and md.count("failed") == 1  # minilm-l6 on mr
    assert "geometry" not in header  # descriptive: no selected layer
    df = pd.read_csv(report / "summary.csv")
    row = df[(df.model == "glove-6b-50d") & (df.task == "wic")].iloc[0]
    assert (row.n, row.total, row.sampled, row.low_coverage) == (160, 200, 0, True)
    assert row.coverage == pytest.approx(0.8) and row.label == "GloVe 6B 50d (Stanford, published)"
    capped = df[(df.model == "random") & (df.task == "mr")].iloc[0]
    assert (capped.n, capped.total, capped.sampled, capped.low_coverage) == (150, 10662, 150, False)
    assert set(df[df.model == "minilm-l6"].what) == {"stand-in for BERT"}
    assert set(df[df.model == "random"].what) == {"floor"}
    tex = (report / "summary.tex").read_text()
    assert "what it is" in tex and "160/200 $^{\\ast}$" in tex and "(cap 150)" in tex


def test_other_tables_carry_labels_and_coverage(report):
    results = pd.read_csv(report / "results.csv")
    assert {"label", "side", "n", "total", "sampled", "coverage"} <= set(results.columns)
    assert list(results.columns[:2]) == ["task", "embedder"]  # bench.reproduce reads these
    assert (results[results.embedder == "minilm-l6"].label.str.startswith("stand-in for BERT")).all()
    layers = (report / "layers.md").read_text()
    assert "| model | what it is | layer | value | 95% CI | n/total | choice | checkpoint |" in layers
    assert "| minilm-l6 | stand-in for BERT | 1 |" in layers and "160/200 ⚠" in layers and "selected" in layers
    ranking = pd.read_csv(report / "ranking.csv")
    assert {"label", "min_coverage", "floor", "rank"} <= set(ranking.columns)
    assert ranking[(ranking.scope == "context") & (ranking.model == "glove-6b-50d")].min_coverage.iloc[0] == \
        pytest.approx(0.8)
    assert "80% ⚠" in (report / "ranking.md").read_text()
    models = (report / "models.md").read_text()
    assert "| minilm-l6 | stand-in for BERT: all-MiniLM-L6-v2" in models and "| stand-in for BERT |" in models
    failures = (report / "failures.md").read_text()
    assert "| minilm-l6 | stand-in for BERT: all-MiniLM-L6-v2" in failures and "| mr | task |" in failures


def test_latex_is_escaped_by_pandas_and_every_row_has_its_columns():
    t = Table(["model_name", "what it is", "x%"],
              [["hf:a_b", "50% & #1 $x_y ~ <b> café", "0.5 ⚠"], ["plain", "–", "0.1 †"]])
    tex = to_latex(t, caption="c", label="tab:t", numeric_from=2)
    assert r"model\_name & what it is & x\% \\" in tex
    assert r"50\% \& \#1 \$x\_y" in tex and r"\textless{}b\textgreater{}" in tex and "café" in tex
    assert r"0.5 $^{\ast}$" in tex and r"0.1 $^{\dagger}$" in tex and "⚠" not in tex and "–" not in tex
    assert r"\begin{tabular}{llr}" in tex and r"\toprule" in tex and r"\bottomrule" in tex
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0].strip().splitlines()
    for line in body:  # an unescaped & would add a column
        assert len(re.split(r"(?<!\\)&", line)) == 3, line


def test_report_latex_survives_a_hostile_label(report):
    tex = (report / "summary.tex").read_text()
    row = next(line for line in tex.splitlines() if line.startswith(r"hf:\textless{}b\textgreater{}evil"))
    assert r"50\% \& \#1 \$x\_y" in row and "<script>" not in tex
    assert len(re.split(r"(?<!\\)&", row)) == 3 + 5  # model, label, side + five tasks


def test_html_is_one_self_contained_escaped_page(report):
    page = (report / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "default-src 'none'" in page
    for attr in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert attr.startswith(("#", "data:image/png;base64,")), attr
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert EVIL not in page and EVIL_LABEL not in page
    assert "hf:&lt;b&gt;evil&lt;/b&gt;&amp;&quot;co&quot;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 50% &amp; #1 $x_y ~ café" in page
    assert "&lt;i&gt;evil&lt;/i&gt; checkpoint" in page and "&lt;did&gt;" in page
    # every plot is in the page, byte for byte
    embedded = [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]
    pngs = sorted((report / "plots").glob("*.png"))
    assert len(embedded) == len(pngs) and {p.read_bytes() for p in pngs} == set(embedded)


def test_html_has_findings_headline_ranking_coverage_and_cards(report):
    page = (report / "report.html").read_text()
    ids = re.findall(r'<section id="([^"]+)">', page)
    assert ids == ["findings", "headline", "ranking", "scores", "layers", "models", "datasets", "failures"]
    findings = (report / "findings.md").read_text()
    first_bullet = next(line for line in findings.splitlines() if line.startswith("- **"))
    task = re.match(r"- \*\*(.+?)\*\*", first_bullet).group(1)
    assert f"<li><strong>{task}</strong>" in page
    section = page.split('<section id="scores">')[1].split("</section>")[0]
    assert "160/200 <span class=\"warn\"" in section and "150/10662 (cap 150)" in section
    ranking = page.split('<section id="ranking">')[1].split("</section>")[0]
    assert "embeddings-benchmark/mteb#5208" in ranking and "random (floor)" in ranking
    cards = page.split('<section id="models">')[1].split("</section>")[0]
    for m in model_cards(make_cells()):
        assert f">{m.fingerprint}<" in cards
    assert 'class="tag stand-in">stand-in for BERT<' in cards and 'class="tag floor">floor<' in cards
    datasets = page.split('<section id="datasets">')[1].split("</section>")[0]
    assert "SimLex-999" in datasets and "CC BY-NC 4.0" in datasets and "max_test" in datasets


def test_model_and_dataset_cards():
    cells = make_cells()
    cards = {m.name: m for m in model_cards(cells)}
    assert list(cards)[-1] == "random"  # canonical order: family "other" last
    assert cards["minilm-l6"].what == "stand-in for BERT" and cards["minilm-l6"].layers == ("emb", "1", "2", "3")
    assert cards["random"].what == "floor" and cards["random"].side == "floor"
    assert cards["bow:glove-6b-50d"].side == "static" and cards["glove-6b-50d"].what == "published"
    ds = {d.name: d for d in dataset_cards(cells)}
    recorded = f"{zlib.crc32(b'wic'):08x}" + "ab" * 28  # what report_cells records for wic/main
    assert ds["wic"].license == "CC BY-NC 4.0" and ds["wic"].files == (("main", recorded[:12]),)
    (use,) = ds["wic"].tasks
    proto = dict(use.protocol)
    assert proto["n_boot"] == "1000" and proto["max_test"].startswith("varies: ")
    assert "100 (minilm-l6)" in proto["max_test"]
    assert ds["polysemy-probe"].license == "CC BY 4.0 (authored)"  # task-shipped data: the task's own card
    assert "brown" in ds and [u.task for u in ds["brown"].tasks] == ["geometry"]


def test_what_it_is_never_calls_a_stand_in_published():
    assert what_it_is("stand-in: small ELMo biLM trained by ctxbench on Brown", "contextual") == "stand-in"
    assert what_it_is("bag of context over stand-in for GPT: SmolLM2", "static") == "stand-in for GPT"
    assert what_it_is("GloVe 6B 50d (Stanford, published)", "static") == "published"


def test_csv_has_no_index_and_plain_newlines(report):
    raw = (report / "summary.csv").read_bytes()
    assert b"\r\n" not in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    assert rows and "" not in rows[0]


def test_a_store_with_only_failures_still_reports(tmp_path):
    store = ResultStore(tmp_path)
    from report_cells import FAILED, make_cell

    store.add(make_cell(*FAILED))
    files = {p.name for p in write_report(store, n_boot=50)}
    assert EXPECTED - {"results.csv"} <= files
    assert "boom" in (tmp_path / "failures.md").read_text()
    assert "Failed cells" in (tmp_path / "report.html").read_text()
