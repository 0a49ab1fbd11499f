"""The SentEval protocol: known accuracy on synthetic data, chance on noise, no test leakage,
determinism, pooling by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from bench.tasks.senteval import (
    PROTOCOLS,
    SENTEVAL,
    SENTEVAL_QUICK,
    hashed_subset,
    kfold_accuracy,
    pool_sentences,
    pool_words,
    train_test_accuracy,
)

FAST = {"n_folds": 5, "inner_folds": 3, "Cs": (0.01, 0.1, 1.0), "n_boot": 500}
FAST_TT = {"inner_folds": 3, "Cs": (0.01, 0.1, 1.0), "n_boot": 500}


def _noisy_linear(n: int, dim: int, noise: float, seed: int, gap: float = 0.0):
    """Features and labels = [w.x + b > 0], with exactly ``noise`` of the labels flipped.

    With ``gap`` > 0 no item lies within ``gap`` of the boundary (w has unit norm), so any
    classifier whose boundary falls in the gap is right on every unflipped item and wrong
    on every flipped one: its accuracy is exactly ``1 - noise``.
    """
    rng = np.random.default_rng(seed)
    w = rng.normal(size=dim)
    w /= np.linalg.norm(w)
    X = rng.normal(size=(4 * n, dim))
    X = X[np.abs(X @ w + 0.3) >= gap][:n]
    assert len(X) == n
    y = (X @ w + 0.3 > 0).astype(int)
    flip = rng.choice(n, size=int(round(noise * n)), replace=False)
    y[flip] = 1 - y[flip]
    flipped = np.zeros(n, bool)
    flipped[flip] = True
    return X, y, flipped


def _sentences_with_mean(X: np.ndarray, seed: int) -> list[np.ndarray]:
    """Word vectors (n_words, 1, dim) per sentence whose known words average to X[i]; some OOV zero rows."""
    rng = np.random.default_rng(seed)
    out = []
    for x in X:
        k = int(rng.integers(1, 5))
        words = rng.normal(size=(k, len(x)))
        words += x - words.mean(0)  # the known words' mean is x
        rows = list(words)
        for _ in range(int(rng.integers(0, 3))):  # OOV words (all-zero rows) anywhere in the sentence
            rows.insert(int(rng.integers(0, len(rows) + 1)), np.zeros(len(x)))
        out.append(np.stack(rows)[:, None, :])
    return out


# -- (a) a known linear signal with 10% label noise reaches 0.9 -------------------------
def test_kfold_pipeline_reaches_the_noise_ceiling():
    X, y, flipped = _noisy_linear(2000, 6, noise=0.10, seed=1, gap=0.5)
    feats = pool_sentences(_sentences_with_mean(X, seed=2))[:, 0]
    np.testing.assert_allclose(feats, X, atol=1e-5)  # pooling recovered the sentence features
    r = kfold_accuracy(feats, y, **FAST)
    assert r.ci_low <= 0.9 <= r.ci_high
    assert abs(r.accuracy - 0.9) <= 0.005
    assert np.mean(r.correct == ~flipped) >= 0.995  # the errors are the flipped labels
    assert r.n == 2000 and len(r.fold_accuracies) == 5 and len(r.chosen_C) == 5
    assert r.ci_high - r.ci_low < 0.04


@pytest.mark.parametrize("with_dev", [False, True])
def test_train_test_pipeline_reaches_the_noise_ceiling(with_dev):
    X, y, flipped = _noisy_linear(3000, 6, noise=0.10, seed=3, gap=0.5)
    dev = (X[2000:2500], y[2000:2500]) if with_dev else None
    r = train_test_accuracy(X[:2000], y[:2000], X[2500:], y[2500:], dev=dev, **FAST_TT)
    expected = 1 - flipped[2500:].mean()  # the test part's own share of flipped labels
    assert abs(expected - 0.9) < 0.03
    assert r.ci_low <= expected <= r.ci_high
    assert abs(r.accuracy - expected) <= 0.005
    np.testing.assert_array_equal(r.correct, ~flipped[2500:])  # wrong exactly where the label was flipped
    assert r.n == 500
    assert r.selection == ("accuracy on the dev set" if with_dev else "inner 3-fold CV on train")


# -- (b) random labels stay at chance ---------------------------------------------------
def test_random_labels_stay_at_chance():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(1000, 20))
    y = rng.permutation(np.repeat([0, 1], 500))
    r = kfold_accuracy(X, y, **FAST)
    assert r.ci_low <= 0.5 <= r.ci_high


def test_random_six_class_labels_stay_at_chance():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1800, 10))
    y = rng.permutation(np.repeat(np.arange(6), 300))
    r = train_test_accuracy(X[:1200], y[:1200], X[1200:], y[1200:], **FAST_TT)
    assert r.ci_low <= 1 / 6 <= r.ci_high


# -- (c) the test fold never reaches a fit ----------------------------------------------
@pytest.fixture
def fit_spy(monkeypatch):
    """Records, for every fit of a scaler, a logistic regression or a pipeline, the ids of the
    rows it received (each row's first feature is its id; LogisticRegression gets standardised
    rows, so for it only the row count is kept)."""
    calls: list[tuple[str, object]] = []

    def wrap(cls, what):
        original = cls.fit

        def fit(self, X, y=None, **kw):
            X = np.asarray(X)
            calls.append((what, len(X) if what == "logreg" else frozenset(np.rint(X[:, 0]).astype(int).tolist())))
            return original(self, X, y, **kw)

        monkeypatch.setattr(cls, "fit", fit)

    wrap(StandardScaler, "scaler")
    wrap(Pipeline, "pipeline")
    wrap(LogisticRegression, "logreg")
    return calls


def _with_ids(X: np.ndarray, start: int = 0) -> np.ndarray:
    return np.column_stack([np.arange(start, start + len(X), dtype=float), X])


def test_kfold_fits_only_see_their_training_rows(fit_spy):
    X, y, _ = _noisy_linear(300, 4, noise=0.1, seed=6)
    r = kfold_accuracy(_with_ids(X), y, n_folds=5, inner_folds=3, Cs=(0.1, 1.0), n_boot=100)
    tests = [set(np.flatnonzero(r.fold == k).tolist()) for k in range(5)]
    assert sorted(len(t) for t in tests) == [60] * 5 and set().union(*tests) == set(range(300))
    seen = [ids for what, ids in fit_spy if what != "logreg"]
    assert seen and len(fit_spy) > 5 * 3 * 2
    for ids in seen:
        # every fit lies inside the training part of some outer fold
        assert any(not (ids & t) for t in tests), "a fit saw held-out rows of every fold"
    for t in tests:  # and each fold's final model was fit on exactly its training part
        assert frozenset(set(range(300)) - t) in seen
    # every logistic regression was fit on a training part (an outer one or an inner one)
    assert {n for what, n in fit_spy if what == "logreg"} <= {240, 160}


def test_train_test_fits_never_see_dev_or_test_rows(fit_spy):
    X, y, _ = _noisy_linear(600, 4, noise=0.1, seed=7)
    train, dev, test = _with_ids(X[:300]), _with_ids(X[300:450], 300), _with_ids(X[450:], 450)
    for d in (None, (dev, y[300:450])):
        fit_spy.clear()
        train_test_accuracy(train, y[:300], test, y[450:], dev=d, inner_folds=3, Cs=(0.1, 1.0), n_boot=100)
        seen = [ids for what, ids in fit_spy if what != "logreg"]
        assert seen and all(ids <= set(range(300)) for ids in seen)
        assert frozenset(range(300)) in seen


def test_poisoned_test_fold_does_not_change_the_search_or_the_model():
    X, y, _ = _noisy_linear(400, 5, noise=0.1, seed=8)
    clean = kfold_accuracy(X, y, **FAST)
    k = 2
    test = clean.fold == k
    poisoned = X.copy()
    poisoned[test] = poisoned[test] * 1e6 + 1e6  # if a scaler or the C search saw these rows, they would say so
    r = kfold_accuracy(poisoned, y, **FAST)
    np.testing.assert_array_equal(r.fold, clean.fold)  # folds depend on the labels and seed only
    assert r.selection_scores[k] == clean.selection_scores[k]
    assert r.chosen_C[k] == clean.chosen_C[k]
    # the poison did reach the other folds' searches (they train on these rows): the check can see it
    assert any(r.selection_scores[j] != clean.selection_scores[j] for j in range(5) if j != k)
    # fold k's model is the one fit on the clean training rows alone (scikit-learn directly)
    train = ~test
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=clean.chosen_C[k], max_iter=1000))
    expected = reference.fit(X[train], y[train]).predict(poisoned[test])
    np.testing.assert_array_equal(r.predictions[test], expected)


def test_poisoned_test_items_do_not_change_the_other_predictions():
    X, y, _ = _noisy_linear(900, 5, noise=0.1, seed=9)
    train, test = slice(0, 500), slice(500, 700)
    rng = np.random.default_rng(0)
    poison = rng.normal(size=(200, 5)) * 1e6 + 1e6
    for dev in (None, (X[700:], y[700:])):
        clean = train_test_accuracy(X[train], y[train], X[test], y[test], dev=dev, **FAST_TT)
        both = train_test_accuracy(X[train], y[train], np.vstack([X[test], poison]),
                                   np.concatenate([y[test], y[test]]), dev=dev, **FAST_TT)
        np.testing.assert_array_equal(both.predictions[:200], clean.predictions)
        assert both.chosen_C == clean.chosen_C and both.selection_scores == clean.selection_scores


def test_poisoned_dev_changes_nothing_but_the_choice_of_C():
    X, y, _ = _noisy_linear(900, 5, noise=0.1, seed=10)
    dev = (X[700:], y[700:])
    clean = train_test_accuracy(X[:500], y[:500], X[500:700], y[500:700], dev=dev, Cs=(0.1,), n_boot=100)
    poisoned = train_test_accuracy(X[:500], y[:500], X[500:700], y[500:700], dev=(dev[0] * 1e6 + 1e6, dev[1]),
                                   Cs=(0.1,), n_boot=100)
    # with one C there is nothing to choose: a dev set that never reaches a fit changes nothing
    np.testing.assert_array_equal(poisoned.predictions, clean.predictions)


# -- (d) determinism --------------------------------------------------------------------
def test_same_seed_same_result_other_seed_other_folds():
    X, y, _ = _noisy_linear(500, 5, noise=0.2, seed=11)
    a, b = kfold_accuracy(X, y, seed=3, **FAST), kfold_accuracy(X, y, seed=3, **FAST)
    for field in ("correct", "predictions", "fold"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert (a.accuracy, a.ci_low, a.ci_high, a.chosen_C, a.selection_scores) == (
        b.accuracy, b.ci_low, b.ci_high, b.chosen_C, b.selection_scores)
    c = kfold_accuracy(X, y, seed=4, **FAST)
    assert not np.array_equal(a.fold, c.fold)
    summary = json.loads(json.dumps(a.summary()))
    assert summary["n"] == 500 and summary["chosen_C"] == list(a.chosen_C) and summary["n_folds"] == 5
    t1 = train_test_accuracy(X[:300], y[:300], X[300:], y[300:], seed=5, **FAST_TT)
    t2 = train_test_accuracy(X[:300], y[:300], X[300:], y[300:], seed=5, **FAST_TT)
    np.testing.assert_array_equal(t1.predictions, t2.predictions)
    assert (t1.accuracy, t1.ci_low, t1.ci_high, t1.chosen_C) == (t2.accuracy, t2.ci_low, t2.ci_high, t2.chosen_C)


def test_ties_go_to_the_smallest_C_and_results_are_read_only():
    X = np.array([[-2.0], [-1.5], [-1.0], [1.0], [1.5], [2.0]] * 10)
    y = (X[:, 0] > 0).astype(int)
    r = kfold_accuracy(X, y, n_folds=3, inner_folds=2, Cs=(10.0, 1.0, 0.5), n_boot=50)
    assert r.accuracy == 1.0 and r.chosen_C == (0.5, 0.5, 0.5)
    with pytest.raises(ValueError):
        r.correct[0] = False


def test_input_errors_say_what_is_wrong():
    X, y = np.zeros((20, 3)), np.array([0] * 18 + [1] * 2)
    with pytest.raises(ValueError, match="rarest class has 2 items, fewer than the 5 folds"):
        kfold_accuracy(X, y, n_folds=5)
    with pytest.raises(ValueError, match="labels must be integers"):
        kfold_accuracy(X, y.astype(float))
    with pytest.raises(ValueError, match="NaN or infinite"):
        kfold_accuracy(np.full((20, 3), np.nan), y)
    with pytest.raises(ValueError, match="train has 3 features, test 4"):
        train_test_accuracy(X, y, np.zeros((5, 4)), np.zeros(5, int))


# -- protocols and the capped item choice -----------------------------------------------
def test_named_protocols():
    assert set(PROTOCOLS) == {"senteval", "senteval-quick"}
    grid = (2**-10, 2**-8, 2**-6, 2**-4, 2**-2, 1.0, 4.0)
    assert SENTEVAL.settings_for("mr") == {"n_folds": 10, "inner_folds": 10, "Cs": grid, "n_boot": 1000}
    assert SENTEVAL.settings_for("trec") == {"inner_folds": 10, "Cs": grid, "n_boot": 1000}
    assert SENTEVAL.settings_for("sst2") == {"Cs": grid, "n_boot": 1000}
    assert SENTEVAL.max_items is None and SENTEVAL.max_train is None
    assert SENTEVAL_QUICK.n_folds < SENTEVAL.n_folds and len(SENTEVAL_QUICK.Cs) < len(SENTEVAL.Cs)
    assert SENTEVAL_QUICK.max_items and SENTEVAL_QUICK.max_train
    with pytest.raises(ValueError, match="no SentEval settings for 'wic'"):
        SENTEVAL.settings_for("wic")


def test_hashed_subset_is_model_independent():
    ids = [f"mr:neg:{i}" for i in range(1, 5001)]
    keep = hashed_subset(ids, 2000, "mr")
    assert len(keep) == 2000 and np.all(np.diff(keep) > 0)
    np.testing.assert_array_equal(keep, hashed_subset(ids, 2000, "mr"))
    shuffled = list(np.random.default_rng(0).permutation(ids))
    assert {shuffled[i] for i in hashed_subset(shuffled, 2000, "mr")} == {ids[i] for i in keep}
    assert set(hashed_subset(ids, 2000, "other-salt").tolist()) != set(keep.tolist())
    assert 0.35 < np.mean(keep < 2500) / 1.0 < 0.65  # spread over the file, not its head


# -- (e) pooling by hand ----------------------------------------------------------------
def test_pooling_on_a_hand_computed_toy():
    # sentence 0: 3 words x 2 layers x 2 dims; word 1 is OOV (all zeros)
    s0 = np.array([
        [[1.0, -2.0], [4.0, 0.0]],
        [[0.0, 0.0], [0.0, 0.0]],
        [[3.0, -6.0], [-2.0, 2.0]],
    ])
    s1 = np.zeros((0, 2, 2))  # empty sentence
    s2 = np.zeros((2, 2, 2))  # only OOV words
    s3 = np.array([[[-1.0, -1.0], [0.0, 5.0]]])  # one word, zero in layer 0 only: kept
    mean = pool_sentences([s0, s1, s2, s3])
    assert mean.shape == (4, 2, 2) and mean.dtype == np.float32
    np.testing.assert_array_equal(mean[0], [[2.0, -4.0], [1.0, 1.0]])
    np.testing.assert_array_equal(mean[1], np.zeros((2, 2)))
    np.testing.assert_array_equal(mean[2], np.zeros((2, 2)))
    np.testing.assert_array_equal(mean[3], [[-1.0, -1.0], [0.0, 5.0]])
    mx = pool_sentences([s0, s1, s2, s3], "max")
    np.testing.assert_array_equal(mx[0], [[3.0, -2.0], [4.0, 2.0]])  # the OOV zeros do not win the max
    np.testing.assert_array_equal(mx[1], np.zeros((2, 2)))
    with_oov = pool_sentences([s0], skip_zero_rows=False)[0]
    np.testing.assert_allclose(with_oov, [[4 / 3, -8 / 3], [2 / 3, 2 / 3]], rtol=1e-6)
    assert pool_sentences([s0], "max", skip_zero_rows=False)[0, 0, 1] == 0.0
    lm = pool_sentences([s0, s3], layer_mean=True)
    assert lm.shape == (2, 1, 2)
    np.testing.assert_array_equal(lm[:, 0], [[1.5, -1.5], [-0.5, 2.0]])
    np.testing.assert_array_equal(pool_words(s0), mean[0])
    assert pool_words(s0, "max", layer_mean=True).tolist() == [[3.5, 0.0]]


def test_pooling_errors():
    with pytest.raises(ValueError, match="allowed: \\('mean', 'max'\\)"):
        pool_sentences([np.zeros((1, 1, 2))], "sum")
    with pytest.raises(ValueError, match="sentence 1: word vectors of shape \\(1, 1, 3\\)"):
        pool_sentences([np.zeros((1, 1, 2)), np.zeros((1, 1, 3))])
