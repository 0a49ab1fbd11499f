"""The ULMFiT classifier (embeddings/ulmfit/classifier.py) on a toy task, with the tiny Brown LM.

The toy task: a sentence is a few filler words from the LM's vocabulary plus one keyword,
from set A (label "a") or set B (label "b"). Expected behaviour is measured against the
model's own frozen features (mean-pooled top-layer vectors from ``embed()``, standardised,
logistic regression), never computed by the code under test.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import embeddings
from embeddings.ulmfit.classifier import ClassifierSettings, train_ulmfit_classifier
from embeddings.ulmfit.finetune import FineTuneSettings

SET_A = "good great best better well victory won winning".split()
SET_B = "problem attack fight injury opposition trial charged concern".split()


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tiny_lm():
    return embeddings.load("ulmfit-brown", tiny=True)


def toy(lm, n: int, seed: int, lengths: tuple[int, int] = (3, 7)) -> tuple[list[list[str]], list[str]]:
    """n sentences: filler words (any alphabetic vocabulary word but the keywords) + one keyword."""
    vocab = lm.lms[0].vocab
    assert all(w in vocab for w in SET_A + SET_B), "keywords must not read as xxunk"
    filler = [w for w in vocab.itos[9:400] if w.isalpha() and w not in SET_A + SET_B]
    rng = np.random.default_rng(seed)
    sentences, labels = [], []
    for _ in range(n):
        label = str(rng.choice(["a", "b"]))
        words = [str(w) for w in rng.choice(filler, size=int(rng.integers(*lengths)))]
        words.insert(int(rng.integers(len(words) + 1)), str(rng.choice(SET_A if label == "a" else SET_B)))
        sentences.append(words)
        labels.append(label)
    return sentences, labels


def frozen_score(emb, train, test) -> float:
    """Frozen features: the mean of each sentence's top-layer vectors, standardised, logistic regression."""
    def feats(sentences):
        return np.stack([wv.vectors[:, -1].mean(axis=0) for wv in emb.embed(sentences)])

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    return float(model.fit(feats(train[0]), train[1]).score(feats(test[0]), test[1]))


def test_finetuned_classifier_learns_the_toy_task_and_beats_frozen_features(tiny_lm) -> None:
    train, test = toy(tiny_lm, 600, seed=0), toy(tiny_lm, 200, seed=1)
    # a 16/32-wide LM needs more epochs, no dropout and a flatter rate profile than the paper's
    settings = ClassifierSettings(lm_finetune=None, lr=3e-2, lr_decay=1.5, drop_mult=0.0, batch_size=32,
                                  full_epochs=8)
    source_weights = copy.deepcopy(tiny_lm.lms[0].model.state_dict())
    clf = train_ulmfit_classifier(tiny_lm, *train, dev_sentences=test[0], dev_labels=test[1], settings=settings)
    finetuned = float(np.mean(clf.predict(test[0]) == np.array(test[1])))
    frozen = frozen_score(tiny_lm, train, test)
    assert finetuned >= 0.9, clf.history
    assert finetuned > frozen + 0.2, (finetuned, frozen)
    assert clf.history[-1]["dev_accuracy"] == pytest.approx(finetuned)
    assert [h["groups_trained"] for h in clf.history] == [1, 2, 3, 4, 5]  # head, +lstm3, +lstm2, +lstm1, +emb
    proba = clf.predict_proba(test[0][:5])
    assert proba.shape == (5, 2) and np.allclose(proba.sum(axis=1), 1)
    assert clf.classes_.tolist() == ["a", "b"]
    for k, v in tiny_lm.lms[0].model.state_dict().items():  # the source LM is not changed
        assert torch.equal(v, source_weights[k]), k
    assert clf.predict_proba([]).shape == (0, 2)


def small_settings(**kw) -> ClassifierSettings:
    base = dict(lm_finetune=FineTuneSettings(epochs=1, batch_size=4, bptt=20), batch_size=8, stage_epochs=1,
                full_epochs=1)
    return ClassifierSettings(**{**base, **kw})


def test_gradual_unfreezing_trains_only_the_unfrozen_groups(tiny_lm) -> None:
    train = toy(tiny_lm, 40, seed=2)
    snapshots = []

    def snapshot(stage, net):
        snapshots.append([[p.detach().clone() for p in g] for g in net.layer_groups()])

    clf = train_ulmfit_classifier(tiny_lm, *train, settings=small_settings(lm_finetune=None), on_stage_end=snapshot)
    lm = tiny_lm.lms[0].model
    start = [[lm.encoder.weight]] + [list(r.parameters()) for r in lm.rnns]  # encoder groups before training

    def changed(stage: int) -> list[bool]:
        before = start if stage == 0 else snapshots[stage - 1][:-1]
        return [any(not torch.equal(p, q) for p, q in zip(now, was, strict=True))
                for now, was in zip(snapshots[stage][:-1], before, strict=True)]

    assert len(snapshots) == 5
    assert changed(0) == [False, False, False, False], "stage 1 trains the head only"
    assert changed(1) == [False, False, False, True], "stage 2 adds the top LSTM"
    assert changed(2) == [False, False, True, True]
    assert changed(3) == [False, True, True, True]
    assert changed(4) == [True, True, True, True], "the last stage trains everything, the embedding included"
    assert all(p.requires_grad for g in clf.net.layer_groups() for p in g)


def test_same_seed_same_predictions_and_the_seed_matters(tiny_lm) -> None:
    train, test = toy(tiny_lm, 60, seed=3), toy(tiny_lm, 30, seed=4)
    runs = [train_ulmfit_classifier(tiny_lm, *train, settings=small_settings(seed=s)) for s in (0, 0, 1)]
    p = [r.predict_proba(test[0]) for r in runs]
    np.testing.assert_array_equal(p[0], p[1])
    assert not np.allclose(p[0], p[2])
    assert runs[0].lm_finetune is not None and runs[0].lm_finetune.train_losses  # the FiT stage ran


def test_bad_input_is_refused_with_a_clear_message(tiny_lm) -> None:
    sents = [["good", "film"], ["bad", "film"]]
    with pytest.raises(ValueError, match="2 sentences but labels of shape"):
        train_ulmfit_classifier(tiny_lm, sents, [1], settings=small_settings())
    with pytest.raises(ValueError, match="at least two classes"):
        train_ulmfit_classifier(tiny_lm, sents, [1, 1], settings=small_settings())
    with pytest.raises(TypeError, match="sentence 1 is a str"):
        train_ulmfit_classifier(tiny_lm, [["good"], "bad film"], [0, 1], settings=small_settings())
    with pytest.raises(ValueError, match="label 2 of sentence 0 is not a training class"):
        train_ulmfit_classifier(tiny_lm, sents, [0, 1], dev_sentences=[["ok"]], dev_labels=[2],
                                settings=small_settings())
    with pytest.raises(ValueError, match="batch_size must be >= 2"):
        ClassifierSettings(batch_size=1)
