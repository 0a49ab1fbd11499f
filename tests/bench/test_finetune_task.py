"""sst2-finetune: the fine-tuning regime beside frozen features, on the same test items."""

from __future__ import annotations

import numpy as np
import pytest

from bench.tasks import get_task
from bench.tasks.finetune import NotFineTunable
from embeddings.random_vectors import RandomEmbedder


class KeywordClassifier:
    def __init__(self, positive: set[str]) -> None:
        self.positive = positive

    def predict(self, sentences):
        return np.array([int(any(w in self.positive for w in s)) for s in sentences])


class TunableRandom(RandomEmbedder):
    """A test double with the capability: 'fine-tuning' learns which words mark label 1."""

    contextual = True
    direction = "bi"
    seen: dict = {}

    def finetune_classifier(self, sentences, labels, *, dev_sentences=None, dev_labels=None, seed=0, **settings):
        TunableRandom.seen = {"n": len(sentences), "dev": len(dev_sentences or []), "seed": seed, **settings}
        pos = {w for s, y in zip(sentences, labels, strict=True) if y == 1 for w in s}
        neg = {w for s, y in zip(sentences, labels, strict=True) if y == 0 for w in s}
        return KeywordClassifier(pos - neg)


def test_finetuning_scores_the_frozen_tasks_test_items():
    task = get_task("sst2-finetune", max_train=300, n_boot=50, finetune={"epochs": 1})
    out = task.run(TunableRandom(dim=4))
    (r,) = out.results
    assert r.layer == "finetuned" and r.total == 1821 and r.n == 1821
    assert TunableRandom.seen == {"n": 300, "dev": 872, "seed": 0, "epochs": 1}
    assert out.selection.items.ids[0].startswith("sst2:") and not np.isnan(out.selection.dev_value)
    frozen_task = get_task("sst2", n_boot=20)
    frozen = frozen_task.run(RandomEmbedder(dim=4))
    assert set(frozen.selection.items.ids) == set(out.selection.items.ids)  # the same test items, pairable
    # the same training items as the frozen task's quick protocol (2,000 hash-drawn phrases)
    assert set(get_task("sst2-finetune", n_boot=20).splits()["train"][2]) == set(frozen_task.splits()["train"][2])


def test_a_static_model_is_refused_with_a_clear_message():
    with pytest.raises(NotFineTunable, match="cannot be fine-tuned"):
        get_task("sst2-finetune", max_train=20, n_boot=10).run(RandomEmbedder(dim=4))
