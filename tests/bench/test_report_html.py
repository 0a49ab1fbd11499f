"""report.html in a real browser: headless Chromium opens it from disk (tests/bench/browser.py).

Skipped, with the command that installs it, where Chromium is missing; CI's .ci/run installs it
and sets CTXBENCH_REQUIRE_CHROMIUM=1, so there a missing browser is a failure, not a skip.
Set CTXBENCH_SCREENSHOT=<path.png> to keep the screenshot of the rendered report.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from browser import INSTALL_HINT, check_page, find_chromium
from report_cells import make_store

from bench.report import write_report
from bench.report_html import markdown_to_html

CHROMIUM = find_chromium()
# CI (.ci/run) installs Chromium and sets CTXBENCH_REQUIRE_CHROMIUM=1: there a missing browser fails
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CTXBENCH_REQUIRE_CHROMIUM"),
                                    reason=INSTALL_HINT)


def _png(colours: bool) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1))
    ax = fig.add_subplot()
    if colours:
        ax.plot([0, 1], [0, 1], color="red")
    else:
        ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=30, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode()


def _decode_png(path: Path) -> np.ndarray:
    from matplotlib.image import imread

    return imread(path)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("html")
    write_report(make_store(root), n_boot=100)
    return root / "report.html"


@needs_chromium
def test_the_report_renders_without_errors_with_tables_and_images(page, tmp_path):
    shot = Path(os.environ.get("CTXBENCH_SCREENSHOT") or tmp_path / "report.png")
    check = check_page(page, screenshot=shot)
    assert check.problems == []
    assert check.title == "ctxbench report"
    assert check.sections == ["findings", "headline", "ranking", "scores", "layers", "models", "datasets", "failures"]
    with_tables = {t["section"] for t in check.tables}
    assert {"headline", "ranking", "scores", "layers", "datasets", "failures"} <= with_tables
    assert all(t["rows"] > 0 and t["filled"] == t["rows"] for t in check.tables)
    n_plots = len(list((page.parent / "plots").glob("*.png")))
    assert len(check.images) == n_plots == 8
    assert all(im["decoded"] and im["width"] > 100 and im["height"] > 100 and im["colours"] > 10
               for im in check.images)
    image = _decode_png(shot)
    assert image.shape[1] >= 1200 and image.shape[0] > 3000  # the whole page, not the first screen
    assert len(np.unique(image.reshape(-1, image.shape[-1])[::97], axis=0)) > 20


@needs_chromium
def test_the_check_fails_on_a_broken_page(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title></head><body>
<section id="s"><table><thead><tr><th>a</th></tr></thead><tbody></tbody></table>
<table><tbody><tr><td> </td></tr></tbody></table>
<img alt="broken" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB">
<img alt="missing" src="no-such-file.png">
<img alt="flat" src="data:image/png;base64,{_png(False)}">
<img alt="fine" src="data:image/png;base64,{_png(True)}"></section>
<script>console.error("console says no"); throw new Error("boom from the page");</script>
</body></html>""")
    check = check_page(bad)
    problems = "\n".join(check.problems)
    assert "boom from the page" in problems and "console says no" in problems
    assert "'broken') does not decode" in problems and "'missing') does not decode" in problems
    assert "ERR_FILE_NOT_FOUND" in problems
    assert "'flat') is one flat colour" in problems and "'fine'" not in problems
    assert problems.count("is empty") == 2


@needs_chromium
def test_the_page_refuses_anything_from_outside(page, tmp_path):
    leaky = tmp_path / "leaky.html"
    leaky.write_text(page.read_text().replace("</main>", '<img alt="remote" src="https://example.invalid/x.png">'
                                                         "</main>"))
    problems = "\n".join(check_page(leaky).problems)
    assert "Content Security Policy" in problems and "'remote') does not decode" in problems


def test_without_chromium_the_browser_test_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("CTXBENCH_CHROMIUM", "/nonexistent/chromium")
    assert find_chromium() is None
    assert "apt-get install chromium" in INSTALL_HINT
    with pytest.raises(FileNotFoundError, match="apt-get install chromium"):
        check_page(Path("x.html"))


def test_findings_markdown_is_escaped_before_it_is_marked_up():
    html = markdown_to_html("# Findings\n\n- **<img src=x>** `a<b` *c*\n  continued\n\ntext & more")
    assert "<img" not in html and "&lt;img src=x&gt;" in html
    assert "<li><strong>&lt;img src=x&gt;</strong> <code>a&lt;b</code> <em>c</em> continued</li>" in html
    assert "<p>text &amp; more</p>" in html and "Findings" not in html


def test_chromium_lookup_prefers_the_environment(monkeypatch, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("CTXBENCH_CHROMIUM", str(fake))
    assert find_chromium() == str(fake)
    monkeypatch.delenv("CTXBENCH_CHROMIUM")
    assert find_chromium() == (shutil.which("chromium") or shutil.which("chromium-browser")
                               or shutil.which("google-chrome"))
