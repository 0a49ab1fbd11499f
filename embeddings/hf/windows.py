"""Sliding windows for sentences longer than a transformer's maximum input.

Windows are ranges of pieces that start and end on word boundaries (no word is cut, unless
one word alone is longer than a window), consecutive windows overlap by about
``overlap`` pieces, and each word takes its vector from the one window where it has the
most context:

- ``left`` (causal models): the window with the most pieces before the word;
- ``bi`` (encoders): the window where the word is most centred (the larger of the two
  smaller sides, ``min(before, after)``).

Ties go to the earlier window. A sentence that fits is one window, so short inputs are
never affected.

Examples
--------
>>> spans = [(k, k + 1) for k in range(10)]          # ten one-piece words
>>> plan_windows(spans, 10, budget=4, overlap=2)
[(0, 4), (2, 6), (4, 8), (6, 10)]
>>> assign_windows(spans, [(0, 4), (2, 6), (4, 8), (6, 10)], "left")
[0, 0, 0, 0, 1, 1, 2, 2, 3, 3]
>>> assign_windows(spans, [(0, 4), (2, 6), (4, 8), (6, 10)], "bi")
[0, 0, 0, 1, 1, 2, 2, 3, 3, 3]
"""

from __future__ import annotations

from collections.abc import Sequence


def plan_windows(
    spans: Sequence[tuple[int, int]], n_pieces: int, *, budget: int, overlap: int
) -> list[tuple[int, int]]:
    """[start, end) piece ranges covering ``n_pieces`` in windows of at most ``budget``.

    Parameters
    ----------
    spans : per word, its [start, end) range of pieces (empty words are ignored)
    n_pieces : total pieces in the sentence
    budget : pieces per window (the model's maximum minus its special tokens)
    overlap : pieces consecutive windows share (0 <= overlap < budget)
    """
    if budget < 1:
        raise ValueError(f"window budget must be >= 1 piece, got {budget}")
    if not 0 <= overlap < budget:
        raise ValueError(f"window overlap must be in [0, {budget}), got {overlap}")
    if n_pieces <= budget:
        return [(0, n_pieces)]
    cuts = sorted({s for s, e in spans if e > s} | {n_pieces})
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        limit = start + budget
        if limit >= n_pieces:
            windows.append((start, n_pieces))
            return windows
        inside = [c for c in cuts if start < c <= limit]
        end = inside[-1] if inside else limit  # a word longer than the window is cut
        windows.append((start, end))
        later = [c for c in cuts if c >= end - overlap and c > start]
        start = min(later[0], end) if later else end


def assign_windows(
    spans: Sequence[tuple[int, int]], windows: Sequence[tuple[int, int]], direction: str
) -> list[int]:
    """Index of the window each word takes its vector from (0 for words without pieces).

    A word must lie wholly inside its window; a word longer than any window (cut by
    :func:`plan_windows`) takes the window holding most of its pieces.
    """
    if direction not in ("left", "bi"):
        raise ValueError(f"direction must be 'left' or 'bi', got {direction!r}")
    if len(windows) == 1:
        return [0] * len(spans)
    out = []
    for s, e in spans:
        best, best_key = 0, None
        for j, (ws, we) in enumerate(windows):
            covered = min(e, we) - max(s, ws)
            if e > s and covered <= 0:
                continue
            before, after = s - ws, we - e
            context = before if direction == "left" else min(before, after)
            key = (covered, context)
            if best_key is None or key > best_key:
                best, best_key = j, key
        out.append(best)
    return out
