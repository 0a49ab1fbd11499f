"""Plots: deterministic bytes, fixed sizes, what each plot shows."""

from __future__ import annotations

import struct
import zlib

import matplotlib
import numpy as np
import pytest
from report_cells import EVIL, make_cells

from bench.headline import headline_rows
from bench.plots import (
    DPI,
    _style,
    delta_figure,
    heatmap_figure,
    heatmap_plot,
    layer_figure,
    layer_plot,
    model_colours,
    write_plots,
)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of every chunk; checks the signature and every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, payload = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + payload) == crc
        out.append((kind, payload))
        pos += 12 + n
    return out


def png_size(data: bytes) -> tuple[int, int]:
    kind, payload = png_chunks(data)[0]
    assert kind == b"IHDR"
    return struct.unpack(">II", payload[:8])


@pytest.fixture(scope="module")
def cells():
    return make_cells()


def test_pngs_are_byte_identical_and_carry_no_version_or_time(cells, tmp_path):
    rows = headline_rows([c for c in cells if c.ok], n_boot=100)
    tasks = ["ws353", "simlex999", "wic", "polysemy-probe", "mr"]
    first = write_plots(cells, rows, tmp_path / "a", tasks)
    with matplotlib.rc_context({"lines.linewidth": 6, "font.size": 20, "figure.dpi": 40}):  # a user's rc file
        second = write_plots(cells, rows, tmp_path / "b", tasks)
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
        kinds = {k for k, _ in png_chunks(a.read_bytes())}
        assert b"tIME" not in kinds
        text = b"".join(p for k, p in png_chunks(a.read_bytes()) if k in (b"tEXt", b"iTXt", b"zTXt"))
        assert b"matplotlib" not in text.lower() and b"Software" not in text


def test_layer_plot_has_a_fixed_size_and_labels_stand_ins(cells, tmp_path):
    colours = model_colours(cells)
    path = layer_plot(cells, "wic", tmp_path / "wic.png", colours)
    assert png_size(path.read_bytes()) == (round(7.5 * DPI), round(3.8 * DPI))
    with _style():
        fig = layer_figure(cells, "wic", colours)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "minilm-l6 (stand-in for BERT)" in texts and "random (floor), one layer" in texts
    assert "glove-6b-50d, one layer" in texts and "bow:glove-6b-50d" in texts
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("relative layer depth")
    assert len(ax.collections) >= 4  # a CI band per model
    # every model keeps its colour across plots
    line = next(line for line in ax.get_lines() if line.get_label() == "minilm-l6 (stand-in for BERT)")
    assert matplotlib.colors.to_hex(line.get_color()) == colours["minilm-l6"]
    assert np.allclose(line.get_xdata(), [0, 1 / 3, 2 / 3, 1])  # relative depth


def test_delta_plot_draws_zero_ci_and_the_adjusted_verdict(cells):
    rows = headline_rows([c for c in cells if c.ok], n_boot=100)
    with _style():
        fig = delta_figure(rows)
    ax = fig.axes[0]
    zero = [line for line in ax.get_lines() if list(line.get_xdata()) == [0.0, 0.0]]
    assert zero, "the 0 line is missing"
    compared = [r for r in rows if r["diff"] is not None and not np.isnan(r["diff"])]
    bars = ax.patches
    assert len(bars) == len(compared)
    assert sorted(round(b.get_width(), 6) for b in bars) == sorted(round(r["diff"], 6) for r in compared)
    notes = [t.get_text() for t in ax.texts]
    for r in compared:
        mark = {"contextual ahead": "ctx ahead", "static ahead": "static ahead"}.get(r["verdict"], "n.s.")
        assert any(n.startswith(mark) for n in notes)
    kinds = {t.get_text() for t in ax.texts} & {"similarity", "context", "classification"}
    assert kinds == {"similarity", "context", "classification"}


def test_heatmap_normalises_each_task_and_writes_raw_values(cells, tmp_path):
    tasks = ["ws353", "wic", "mr"]
    with _style():
        fig = heatmap_figure(cells, tasks)
    ax = fig.axes[0]
    data = ax.images[0].get_array()
    for j in range(len(tasks)):
        col = data[:, j].compressed()
        assert col.min() == pytest.approx(0.0) and col.max() == pytest.approx(1.0)
    texts = [t.get_text() for t in ax.texts]
    by = {(c.embedder, c.task): c for c in cells}
    assert f"{by[('minilm-l6', 'ws353')].selection.value:.2f}" in texts
    assert "failed" in texts  # minilm-l6 on mr
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "minilm-l6 (stand-in for BERT)" in labels and "random (floor)" in labels and EVIL in labels
    assert png_size(heatmap_plot(cells, tasks, tmp_path / "h.png").read_bytes())[0] > 0
