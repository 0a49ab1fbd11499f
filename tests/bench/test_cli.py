"""The ctxbench command end to end (in-process, on the reference adapter)."""

from __future__ import annotations

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
