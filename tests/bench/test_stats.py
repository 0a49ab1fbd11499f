"""bench.stats: rank correlation, bootstrap CIs resampled by the right unit, paired differences, Holm."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from bench.stats import accuracy, bootstrap_ci, holm, paired_bootstrap_diff, spearman, statistic


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 60).astype(float), rng.normal(size=60)
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic)


def correlated_items(n_words=24, per_word=8, seed=0):
    """Every item of a word is right or wrong together: the information is in the words, not the items."""
    rng = np.random.default_rng(seed)
    word_ok = rng.random(n_words) < 0.6
    pred = np.repeat(word_ok.astype(float), per_word)
    groups = np.repeat([f"w{k}" for k in range(n_words)], per_word)
    return pred, groups


def test_a_cluster_bootstrap_is_wider_than_an_item_bootstrap_on_correlated_items():
    pred, groups = correlated_items()
    item = bootstrap_ci(accuracy, pred, n_boot=2000, seed=0)
    word = bootstrap_ci(accuracy, pred, n_boot=2000, seed=0, groups=groups, scheme="cluster")
    assert (word[1] - word[0]) > 2 * (item[1] - item[0])  # 8 items per word: about sqrt(8) wider
    assert word[0] < pred.mean() < word[1]


def test_the_stratified_statistic_is_the_mean_over_groups():
    pred = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    groups = np.array(["a", "a", "a", "a", "b", "b"])
    assert statistic(accuracy, pred, groups=groups, scheme="stratified") == pytest.approx((0.75 + 0.5) / 2)
    low, high = bootstrap_ci(accuracy, pred, n_boot=500, groups=groups, scheme="stratified")
    assert 0.0 <= low <= high <= 1.0


def test_paired_difference_resamples_the_same_units_for_both_systems():
    pred, groups = correlated_items(seed=1)
    other = np.roll(pred, 8)
    d_item = paired_bootstrap_diff(accuracy, pred, other, n_boot=1000)
    d_word = paired_bootstrap_diff(accuracy, pred, other, n_boot=1000, groups=groups, scheme="cluster")
    assert d_item["diff"] == d_word["diff"] == pytest.approx(pred.mean() - other.mean())
    assert (d_word["ci_high"] - d_word["ci_low"]) > (d_item["ci_high"] - d_item["ci_low"])
    same = paired_bootstrap_diff(accuracy, pred, pred, n_boot=200, groups=groups, scheme="cluster")
    assert same["diff"] == 0 and same["ci_low"] == same["ci_high"] == 0


def test_schemes_need_groups_and_refuse_unknown_names():
    with pytest.raises(ValueError, match="group"):
        bootstrap_ci(accuracy, np.ones(10), scheme="cluster")
    with pytest.raises(ValueError, match="scheme"):
        bootstrap_ci(accuracy, np.ones(10), groups=np.arange(10), scheme="blocks")


def test_holm_matches_a_hand_computation():
    # sorted 0.01, 0.02, 0.04 -> 3 * 0.01, max(.03, 2 * .02), max(.04, .04)
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")  # tiny resamples can be constant
@pytest.mark.parametrize("n", [4, 40, 400])
def test_the_resampled_spearman_equals_scipy_on_every_resample_with_ties(n):
    # the bootstrap ranks items by their draw counts instead of sorting each resample; it must
    # give scipy's Spearman (average ranks for ties) of every resample, copies of an item included
    from bench.stats import _resampled_spearman

    rng = np.random.default_rng(n)
    pred = rng.normal(size=n)
    pred[: n // 4] = pred[0]  # ties in the predictions
    gold = np.round(pred + rng.normal(size=n), 0)  # many ties in the gold scores
    idx = rng.integers(0, n, size=(30, n))
    fast = _resampled_spearman(pred, gold, idx)
    for row, got in zip(idx, fast, strict=True):
        expected = spearmanr(pred[row], gold[row]).statistic
        if np.isnan(expected):
            assert np.isnan(got)
        else:
            assert got == pytest.approx(expected, abs=1e-12)
