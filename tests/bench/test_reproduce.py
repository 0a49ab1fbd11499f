"""make reproduce's comparison: byte for byte on the same CPU; on another, torch-trained rows within their spread."""

from __future__ import annotations

from bench.reproduce import compare

HEADER = "embedder,task,layer,value\n"


def _results(root, cpu, rows):
    root.mkdir()
    (root / "timing.md").write_text(f"# Timing\n\n- CPU: {cpu}\n")
    (root / "results.csv").write_text(HEADER + "".join(f"{e},{t},{layer},{v}\n" for e, t, layer, v in rows))
    (root / "summary.md").write_text("same\n")
    return root


def test_same_cpu_compares_every_table_byte_for_byte(tmp_path):
    a = _results(tmp_path / "a", "cpu X", [("glove-6b-50d", "ws353", "emb", 0.5)])
    b = _results(tmp_path / "b", "cpu X", [("glove-6b-50d", "ws353", "emb", 0.5000001)])
    ok, notes = compare(a, b)
    assert not ok and "DIFFERS: results.csv" in notes


def test_another_cpu_compares_untrained_rows_at_the_printed_precision_and_leaves_fine_tuning_to_the_spread(tmp_path):
    rows = [("glove-6b-50d", "ws353", "emb", 0.5), ("minilm-l6", "sst2-finetune", "head", 0.80),
            ("elmo-brown", "ws353", "lstm1", 0.30)]
    a = _results(tmp_path / "a", "cpu X", rows)
    moved = [("glove-6b-50d", "ws353", "emb", 0.5001), ("minilm-l6", "sst2-finetune", "head", 0.83),
             ("elmo-brown", "ws353", "lstm1", 0.31)]
    ok, notes = compare(a, _results(tmp_path / "b", "cpu Y", moved))
    assert ok, notes  # 0.5001 prints as 0.500; trained rows without a seeds run are not judged
    assert any("0/0 rows judged" in n for n in notes)
    worse = [("glove-6b-50d", "ws353", "emb", 0.502), *moved[1:]]
    ok, notes = compare(a, _results(tmp_path / "c", "cpu Y", worse))
    assert not ok and any("DIFFERS: ('glove-6b-50d', 'ws353', 'emb')" in n for n in notes)
