"""The perf harness's own logic: interleaving, sentence sets, padding counts, goals, options."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.perf.figures import Figure, Goal, Section, figures_table
from bench.perf.hf_baselines import length_batches, padding_cost
from bench.perf.machine import CpuShare, quiet
from bench.perf.options import PerfOptions, parse_option
from bench.perf.sentences import read_sentences, split_sets
from bench.perf.static_load import peak_rss_mb
from bench.perf.timing import interleave, median_ratio, ratio_per_repeat
from bench.perf.warm import EMBEDDING_CACHE, scratch_cache


def test_interleave_alternates_order_and_keeps_going_after_a_failure():
    calls = []

    def side(name, fail_at=None):
        def run(r):
            calls.append((r, name))
            if r == fail_at:
                raise RuntimeError("boom")
        return run

    out = interleave({"a": side("a"), "b": side("b", fail_at=1), "c": side("c")}, repeats=3)
    assert calls[:3] == [(0, "a"), (0, "b"), (0, "c")]
    assert calls[3:6] == [(1, "c"), (1, "b"), (1, "a")]
    assert (2, "b") not in calls  # a failed side is not run again
    assert [c for c in calls if c[0] == 2] == [(2, "a"), (2, "c")]
    assert out["b"].error == "RuntimeError: boom" and not out["b"].ok
    assert len(out["a"].seconds) == 3 and out["a"].ok
    assert median_ratio(out["b"], out["a"]) is None


def test_reported_seconds_override_wall_time_and_ratios_are_per_repeat():
    times = iter([2.0, 4.0, 1.0, 1.0])
    out = interleave({"slow": lambda r: next(times), "fast": lambda r: next(times)}, repeats=2)
    # repeat 0: slow then fast; repeat 1: fast then slow
    assert out["slow"].seconds == [2.0, 1.0]
    assert out["fast"].seconds == [4.0, 1.0]
    assert ratio_per_repeat(out["slow"], out["fast"]) == [0.5, 1.0]
    assert median_ratio(out["slow"], out["fast"]) == 0.75


def test_sentence_sets_are_disjoint_and_say_when_reused():
    pool = [[f"w{i}"] for i in range(50)]
    sets = split_sets(pool, 10, 3, warmup=5)
    flat = [tuple(s) for rep in sets.repeats for s in rep] + [tuple(s) for s in sets.warmup]
    assert len(flat) == len(set(flat)) == 35 and not sets.reused
    small = split_sets(pool, 30, 3, warmup=5)
    assert small.reused and all(len(r) == 30 for r in small.repeats)
    assert sets.words_per_set == [10, 10, 10]
    with pytest.raises(ValueError):
        split_sets([], 1, 1)


def test_read_sentences_takes_the_first_column_and_skips_blank_lines():
    text = "sentence\tlabel\na b .\t1\n\n c \t0\n"
    assert read_sentences(text, header=True) == [["a", "b", "."], ["c"]]
    assert read_sentences("x y\t0\n", header=False) == [["x", "y"]]


def test_padding_cost_counts_what_sorting_saves():
    lengths = [3, 10, 2, 9, 4, 12]
    # file order, batches of 2: (3,10) (2,9) (4,12) -> 7 + 7 + 8
    assert padding_cost(lengths, 2, sort=False) == 22
    # sorted: (2,3) (4,9) (10,12) -> 1 + 5 + 2
    assert padding_cost(lengths, 2, sort=True) == 8
    assert length_batches([["a"] * n for n in lengths], 4) == [[2, 0, 4, 3], [1, 5]]


def test_goals_and_figures():
    assert Goal(">=", 0.9).met(0.9) and not Goal(">=", 0.9).met(0.89)
    assert Goal("<=", 0.05).met(0.01) and not Goal("<=", 0.05).met(0.2)
    with pytest.raises(ValueError):
        Goal(">", 1.0)
    ok = Figure("embed() ÷ raw forward", "m", 0.95, Goal(">=", 0.9, "x"))
    bad = Figure("embed() ÷ raw forward", "m", 0.5, Goal(">=", 0.9, "x"))
    failed = Figure("embed() ÷ flair", "m", None, Goal(">=", 3.5, "x"), error="PeerError: x | y")
    assert (ok.met, bad.met, failed.met) == (True, False, None)
    table = figures_table([ok, bad, failed])
    assert "| 0.950x | >= 0.9x | **yes** |" in table and "| 0.500x | >= 0.9x | **no** |" in table
    assert "failed: PeerError: x \\| y" in table
    s = Section("k", "Title")
    s.add("text")
    assert s.markdown().startswith("## Title\n\ntext")


def test_options_parse_model_options_and_sizes():
    assert parse_option("elmo-brown:tiny=true,steps=10") == ("elmo-brown", {"tiny": True, "steps": 10})
    o = PerfOptions.parse(["--sentences", "minilm-l6=7", "--option", "ulmfit-brown:tiny=false", "--repeats", "5"])
    assert (o.size("minilm-l6"), o.size("smollm2-135m"), o.repeats) == (7, 200, 5)
    assert o.model_options("ulmfit-brown") == {"tiny": False} and o.model_options("elmo-brown") == {}
    quick = PerfOptions.parse(["--quick"])
    assert quick.model_options("elmo-brown") == {"tiny": True} and quick.repeats == 2
    with pytest.raises(SystemExit):
        PerfOptions.parse(["--sentences", "minilm-l6=x"])


def test_scratch_cache_links_weights_and_data_only(tmp_path):
    real = tmp_path / "real"
    (real / "models" / "m").mkdir(parents=True)
    (real / EMBEDDING_CACHE).mkdir()
    (real / "vectors-elsewhere").mkdir()
    linked = scratch_cache(real, tmp_path / "scratch")
    assert sorted(linked) == ["datasets", "downloads", "models"]
    assert (tmp_path / "scratch" / "models").is_symlink() and (tmp_path / "scratch" / "models" / "m").is_dir()
    assert not (tmp_path / "scratch" / EMBEDDING_CACHE).exists()
    assert not (tmp_path / "scratch" / "vectors-elsewhere").exists()
    (tmp_path / "scratch" / "datasets" / "f").write_text("x")  # what a run downloads lands in the real cache
    assert (real / "datasets" / "f").read_text() == "x"


def test_a_child_does_not_inherit_the_parents_peak_rss():
    ballast = b"x" * (400 * 2**20)  # the parent now holds 400 MB
    code = "from bench.perf.static_load import peak_rss_mb; print(peak_rss_mb())"
    child = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert peak_rss_mb() > 400
    assert child < 300, f"the child reports {child:.0f} MB: the parent's peak leaked into it"
    del ballast


def test_a_failing_model_becomes_failed_rows_and_the_section_goes_on():
    s = Section("k", "t")

    def half_done_then_fail():
        s.figures.append(Figure("c", "m", 1.0))
        s.add("a half-written table")
        raise ValueError("nope")

    assert s.guard("m", [("c", Goal(">=", 0.9)), ("d", None)], half_done_then_fail) is None
    assert [(f.comparison, f.error) for f in s.figures] == [("c", "ValueError: nope"), ("d", "ValueError: nope")]
    assert "a half-written table" not in s.lines and "Failed: ValueError: nope" in s.lines
    assert s.guard("n", [("c", None)], lambda: 3) == 3


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="CPU share is read from Linux's /proc/stat")
def test_cpu_share_counts_a_spinning_process_that_is_not_ours_as_other():
    cores = os.cpu_count() or 1
    share = CpuShare()
    spin = "import time\nt = time.time()\nwhile time.time() - t < 1.5: pass"
    spinner = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(1.5)
        others = share.others()  # measured before the spinner is waited for: not ours yet
    finally:
        spinner.wait()
    assert others is not None and others >= 0.5 / cores
    assert not quiet(others) or cores > 5
    assert quiet(0.0) and not quiet(None)
