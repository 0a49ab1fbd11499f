"""The ctxbench command end to end (in-process, on the reference adapter)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.cli import main


def test_run_then_report_then_rerun(tmp_path, capsys):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nsettings: {n_boot: 50}\nembedders: [random]\ntasks: [ws353, simlex999]\n")
    out = tmp_path / "res"
    assert main(["--no-progress", "run", str(suite), "--out", str(out), "--limit", "60"]) == 0
    text = capsys.readouterr().out
    assert "ran 2, skipped 0 finished, failed 0" in text
    assert (out / "summary.md").read_text().count("| random |") == 1
    assert main(["--no-progress", "run", str(suite), "--out", str(out), "--limit", "60"]) == 0
    assert "ran 0, skipped 2 finished" in capsys.readouterr().out
    assert main(["report", str(out)]) == 0
    assert "# Summary" in capsys.readouterr().out


def test_list_and_errors(capsys):
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    assert "glove-6b-50d" in text and "simlex999" in text and "default" in text
    assert main(["run", "default", "--tasks", "simlexx", "--out", "/nonexistent/x"]) == 2
    assert "did you mean 'simlex999'" in capsys.readouterr().err


def test_tokenization_report_counts_pieces_and_skips_when_unchanged(tmp_path, capsys, monkeypatch):
    """A fake sub-word model with a known cut: every word of more than 4 letters is 2 pieces."""
    import bench.tokenization as tk
    import embeddings
    from embeddings.random_vectors import RandomEmbedder

    class Cut(RandomEmbedder):
        family = "bert"

        def tokenization_stats(self, sents):
            words = [w for s in sents for w in s]
            split = [len(w) > 4 for w in words]
            return {"n_words": len(words), "pieces_per_word": (len(words) + sum(split)) / len(words),
                    "share_split": sum(split) / len(words), "share_unknown_pieces": 0.0,
                    "max_pieces_per_word": 2 if any(split) else 1}

        def tokenizer_kind(self):
            return "Cut"

    loaded = []

    def fake_load(name, **o):
        loaded.append(name)
        return Cut(dim=2) if name == "minilm-l6" else RandomEmbedder(dim=2)

    monkeypatch.setattr(tk, "SOURCES", {"toy": lambda: [["a", "river", "bank"], ["muddy"]]})
    monkeypatch.setattr(embeddings, "load", fake_load)
    assert main(["tokenization", "--embedders", "minilm-l6,glove-6b-50d", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "tokenization.md").read_text()
    assert "| minilm-l6 | bert | Cut | toy | 4 | 1.500 | 50.00 | 0.00 | 2 |" in text
    assert "No sub-word tokenizer: glove-6b-50d" in text
    assert loaded == ["minilm-l6"]  # a static model is listed from its registry entry, never loaded
    capsys.readouterr()
    assert main(["tokenization", "--embedders", "minilm-l6,glove-6b-50d", "--out", str(tmp_path)]) == 0
    assert "up to date" in capsys.readouterr().out and loaded == ["minilm-l6"]


FAILING_RUN = """
import sys
import bench.tasks.similarity as similarity
from bench.cli import main
from embeddings.support.errors import CtxbenchError

def evaluate(self, source):
    if sys.argv[1] == "bug":
        raise TypeError("a deliberate bug inside a task")
    raise CtxbenchError("ws353: the mirror copy is damaged; replace the mirror copy with a verified one " + "x" * 80)

similarity.SimilarityTask.evaluate = evaluate
sys.exit(main(["--no-progress", "run", sys.argv[2], "--out", sys.argv[3]]))
"""


@pytest.mark.parametrize("kind", ["bug", "expected"])
def test_a_bug_in_a_task_shows_its_traceback_and_an_expected_error_one_full_line(kind, tmp_path):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nsettings: {n_boot: 20}\nembedders: [random]\ntasks: [ws353, mc30]\n")
    run = subprocess.run([sys.executable, "-c", FAILING_RUN, kind, str(suite), str(tmp_path / "res")],
                         capture_output=True, text=True, env={**os.environ, "CTXBENCH_PROGRESS": "0"})
    assert run.returncode == 1  # failed cells: the run goes on, then fails
    assert "ran 0, skipped 0 finished, failed 2" in run.stdout
    if kind == "bug":
        assert "Traceback (most recent call last)" in run.stderr
        assert "in evaluate" in run.stderr and "TypeError: a deliberate bug inside a task" in run.stderr
    else:
        assert "Traceback" not in run.stderr
        line = next(x for x in run.stdout.splitlines() if "FAILED" in x)
        assert line.endswith("x" * 80) and "replace the mirror copy" in line


def test_a_run_logging_to_a_file_writes_a_few_progress_lines_not_a_redraw_per_cell(tmp_path):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\nsettings: {n_boot: 20}\nembedders: [random, {name: random, options: {seed: 1}}]\n"
                     "tasks: [ws353, ws353-sim, ws353-rel, mc30, rg65, mturk287, polysemy-probe, direction-probe]\n")
    err = tmp_path / "stderr.log"
    env = {**os.environ, "CTXBENCH_PROGRESS": "1", "CTXBENCH_PROGRESS_INTERVAL": "60"}
    with err.open("w") as f:  # a file, not a terminal
        run = subprocess.run([sys.executable, "-m", "bench.cli", "run", str(suite), "--out", str(tmp_path / "r")],
                             stderr=f, stdout=subprocess.PIPE, text=True, env=env)
    assert run.returncode == 0 and run.stdout.count("  ok  ") == 16  # 16 cells reported on stdout
    text = err.read_text()
    bars = [line for line in text.splitlines() if "%|" in line]
    assert "\r" not in text
    assert 1 <= len(bars) <= 4, bars  # the suite bar's first and final state, not one per cell
    assert "16/16" in bars[-1]
