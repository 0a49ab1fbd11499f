"""Labelled sentences for the fine-tuning trainers: input checks, label coding, batches.

The ULMFiT classifier (:mod:`embeddings.ulmfit.classifier`) and the transformers one
(:mod:`embeddings.hf.finetune`) take the same input: sentences as lists of words and one
label per sentence (any sortable labels: ints, strings). Labels are coded as indices into
their sorted unique values (``classes``, as scikit-learn's ``classes_``), and predictions
are mapped back.

Training batches either group sentences of similar length so little is padding, yet vary
from epoch to epoch (:func:`sortish_batches`, the idea of fastai's ``SortishSampler``:
shuffle, cut into chunks of ``chunk`` batches, sort each chunk by length, cut it into
batches, shuffle the batches), or are plain random draws (:func:`random_batches`, for a
model with batch normalisation).

Examples
--------
>>> d = check_labelled([["a", "good", "film"], ["dull"], ["fine"]], ["pos", "neg", "pos"])
>>> d.classes.tolist(), d.y.tolist()
(['neg', 'pos'], [1, 0, 1])
>>> rng = np.random.default_rng(0)
>>> sorted(len(b) for b in sortish_batches(np.array([5, 1, 4, 2, 3]), 2, rng))
[2, 3]
>>> [len(b) for b in random_batches(5, 2, rng)]
[2, 3]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Labelled:
    """Checked sentences with their labels coded as class indices."""

    sentences: list[list[str]]
    #: int64 (n,): index of each sentence's label in ``classes``
    y: np.ndarray
    #: the sorted distinct labels
    classes: np.ndarray


def check_sentences(sentences: Sequence[Sequence[str]], *, what: str = "sentences") -> list[list[str]]:
    """The sentences as lists of str; a bare str (instead of a list of words) is refused."""
    if isinstance(sentences, str):
        raise TypeError(f"{what}: expected a list of sentences, each a list of words; got a str")
    out = []
    for i, s in enumerate(sentences):
        if isinstance(s, str):
            raise TypeError(f"{what}: sentence {i} is a str ({s[:30]!r}); pass a list of words, "
                            f"e.g. {s.split()[:3]!r}")
        words = list(s)
        for j, w in enumerate(words):
            if not isinstance(w, str):
                raise TypeError(f"{what}: sentence {i}, word {j} is {type(w).__name__}, expected str")
        out.append(words)
    return out


def check_labelled(sentences: Sequence[Sequence[str]], labels: Sequence[Any], *, what: str = "train",
                   classes: np.ndarray | None = None) -> Labelled:
    """Check sentences and labels and code the labels.

    Parameters
    ----------
    what : name of the data in error messages ("train", "dev").
    classes : the classes of the training data; labels outside them are refused. None: the
        distinct labels given (at least two).
    """
    sents = check_sentences(sentences, what=f"{what} sentences")
    lab = np.asarray(list(labels))
    if lab.ndim != 1 or len(lab) != len(sents):
        raise ValueError(f"{what}: {len(sents)} sentences but labels of shape {lab.shape}; "
                         "pass one label per sentence")
    if classes is None:
        classes = np.unique(lab)
        if len(classes) < 2:
            raise ValueError(f"{what}: every label is {classes.tolist()!r}; a classifier needs at least two classes")
    else:
        known = np.isin(lab, classes)
        if not known.all():
            i = int(np.argmin(known))
            raise ValueError(f"{what}: label {lab[i].tolist()!r} of sentence {i} is not a training class "
                             f"{classes.tolist()!r}")
    return Labelled(sents, np.searchsorted(classes, lab).astype(np.int64), classes)


def sortish_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, *,
                    chunk: int = 50) -> list[np.ndarray]:
    """Index batches of similar-length items, in a random order (see the module docstring).

    No batch has a single item (batch normalisation cannot train on one): a batch of one is
    joined to the batch before it.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    lengths = np.asarray(lengths)
    order = rng.permutation(len(lengths))
    batches: list[np.ndarray] = []
    step = batch_size * chunk
    for start in range(0, len(order), step):
        part = order[start : start + step]
        part = part[np.argsort(-lengths[part], kind="stable")]
        batches += [part[k : k + batch_size] for k in range(0, len(part), batch_size)]
    merged: list[np.ndarray] = []
    for b in batches:
        if len(b) == 1 and merged:
            merged[-1] = np.concatenate([merged[-1], b])
        else:
            merged.append(b)
    if len(merged) > 1 and len(merged[0]) == 1:
        merged[1] = np.concatenate([merged[0], merged[1]])
        merged.pop(0)
    return [merged[i] for i in rng.permutation(len(merged))]


def random_batches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Index batches of a random permutation; a last batch of one is joined to the one before.

    For models with batch normalisation: its running statistics must come from batches that
    look like the data as a whole (length-sorted batches would bias them, since max- and
    mean-pooled features vary with length).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = rng.permutation(n)
    batches = [order[k : k + batch_size] for k in range(0, n, batch_size)]
    if len(batches) > 1 and len(batches[-1]) == 1:
        last = batches.pop()
        batches[-1] = np.concatenate([batches[-1], last])
    return batches


def length_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Index batches in order of length (for prediction: least padding, order undone by the caller)."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[k : k + batch_size] for k in range(0, len(order), batch_size)]


def accuracy(predicted: np.ndarray, labels: Sequence[Any]) -> float:
    """Share of ``predicted`` equal to ``labels``."""
    lab = np.asarray(list(labels))
    if len(lab) != len(predicted):
        raise ValueError(f"{len(predicted)} predictions for {len(lab)} labels")
    return float(np.mean(predicted == lab)) if len(lab) else float("nan")


class SentenceClassifier:
    """What a fine-tuned classifier offers beyond ``predict_proba``: ``predict`` and ``score``.

    Subclasses set ``classes_`` (the label values, in column order) and implement
    ``predict_proba(sentences) -> (n, n_classes)``.
    """

    classes_: np.ndarray

    def predict_proba(self, sentences: Sequence[Sequence[str]], *, batch_size: int | None = None) -> np.ndarray:
        raise NotImplementedError

    def predict(self, sentences: Sequence[Sequence[str]], *, batch_size: int | None = None) -> np.ndarray:
        """The most probable class of each sentence (values from ``classes_``)."""
        predicted: np.ndarray = self.classes_[self.predict_proba(sentences, batch_size=batch_size).argmax(axis=1)]
        return predicted

    def score(self, sentences: Sequence[Sequence[str]], labels: Sequence[Any]) -> float:
        """Accuracy on labelled sentences."""
        return accuracy(self.predict(sentences), labels)


def check_train_dev(train_sentences: Sequence[Sequence[str]], train_labels: Sequence[Any],
                    dev_sentences: Sequence[Sequence[str]] | None,
                    dev_labels: Sequence[Any] | None) -> tuple[Labelled, Labelled | None]:
    """A fine-tuning function's training data and optional dev data, checked; dev coded with train's classes."""
    train = check_labelled(train_sentences, train_labels, what="train")
    if dev_sentences is None:
        return train, None
    if dev_labels is None:
        raise ValueError("dev_sentences given without dev_labels")
    return train, check_labelled(dev_sentences, dev_labels, what="dev", classes=train.classes)
