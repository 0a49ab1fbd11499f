"""Window planning for long inputs (embeddings/hf_windows.py)."""

from __future__ import annotations

import pytest

from embeddings.hf.windows import assign_windows, plan_windows


def test_short_input_is_one_window():
    assert plan_windows([(0, 2), (2, 3)], 3, budget=10, overlap=5) == [(0, 3)]
    assert assign_windows([(0, 2), (2, 3)], [(0, 3)], "left") == [0, 0]


def test_windows_never_cut_a_word_and_overlap():
    spans = []
    pos = 0
    for k in range(50):
        n = 1 + k % 3  # words of 1, 2, 3 pieces
        spans.append((pos, pos + n))
        pos += n
    windows = plan_windows(spans, pos, budget=10, overlap=4)
    starts = {s for s, _ in spans} | {pos}
    assert windows[0][0] == 0 and windows[-1][1] == pos
    for (s, e), (s2, _e2) in zip(windows, windows[1:], strict=False):
        assert e - s <= 10 and s in starts and e in starts
        assert s < s2 < e, "consecutive windows overlap and advance"
    for direction in ("left", "bi"):
        for (s, e), j in zip(spans, assign_windows(spans, windows, direction), strict=True):
            assert windows[j][0] <= s and e <= windows[j][1], "a word lies inside its window"


def test_word_longer_than_window_is_cut_but_assigned():
    spans = [(0, 1), (1, 15), (15, 16)]
    windows = plan_windows(spans, 16, budget=6, overlap=2)
    assert all(e - s <= 6 for s, e in windows) and windows[-1][1] == 16
    chosen = assign_windows(spans, windows, "bi")
    s, e = windows[chosen[1]]
    assert min(e, 15) - max(s, 1) == 6 or e - s < 6  # the window holding most of its pieces


def test_bad_arguments():
    with pytest.raises(ValueError, match="overlap"):
        plan_windows([(0, 1)], 20, budget=4, overlap=4)
    with pytest.raises(ValueError, match="direction"):
        assign_windows([(0, 1)], [(0, 1), (1, 2)], "none")
