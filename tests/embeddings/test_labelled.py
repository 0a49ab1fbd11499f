"""Labelled data for the fine-tuning trainers (embeddings/labelled.py): label coding and batches."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.labelled import check_labelled, length_batches, random_batches, sortish_batches


@pytest.mark.parametrize("n, batch_size", [(1000, 64), (65, 64), (129, 64), (7, 3), (2, 2)])
def test_batches_cover_every_item_once_and_never_hold_one(n: int, batch_size: int) -> None:
    lengths = np.random.default_rng(0).integers(1, 60, size=n)
    for batches in (sortish_batches(lengths, batch_size, np.random.default_rng(1)),
                    random_batches(n, batch_size, np.random.default_rng(1)),
                    length_batches(lengths, batch_size)):
        flat = np.concatenate(batches)
        assert sorted(flat.tolist()) == list(range(n))
        assert all(len(b) <= batch_size + 1 for b in batches)
    for batches in (sortish_batches(lengths, batch_size, np.random.default_rng(1)),
                    random_batches(n, batch_size, np.random.default_rng(1))):
        assert min(len(b) for b in batches) >= 2


def test_sortish_batches_group_similar_lengths_and_change_with_the_seed() -> None:
    lengths = np.random.default_rng(0).integers(1, 60, size=2000)
    batches = sortish_batches(lengths, 32, np.random.default_rng(1))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    random_spread = np.mean([np.ptp(lengths[b]) for b in random_batches(2000, 32, np.random.default_rng(1))])
    assert spread < random_spread / 5
    again = sortish_batches(lengths, 32, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    other = sortish_batches(lengths, 32, np.random.default_rng(2))
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other, strict=False))


def test_labels_are_coded_as_sorted_classes() -> None:
    d = check_labelled([["x"], ["y"], ["z"]], [2, 0, 2])
    assert d.classes.tolist() == [0, 2] and d.y.tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="dev: label 1 of sentence 1 is not a training class"):
        check_labelled([["x"], ["y"]], [0, 1], what="dev", classes=d.classes)
    with pytest.raises(TypeError, match="expected a list of sentences"):
        check_labelled("a sentence", [0])
    with pytest.raises(TypeError, match="sentence 0, word 1 is int"):
        check_labelled([["x", 3], ["y"]], [0, 1])
