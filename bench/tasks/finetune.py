"""SST-2 by fine-tuning the whole model, beside the frozen-feature ``sst2`` task on the same items.

The regime ULMFiT and BERT were designed for: pre-train, then fine-tune on the task.

Protocol
--------
- Training items: at most ``max_train`` GLUE SST-2 training phrases, drawn by the same
  stable hash as the frozen-feature ``sst2`` task's quick protocol (so both see the same
  training items); one seed. The dev set (872) is scored after training and recorded (it
  does not choose anything); the test set is SentEval's labelled 1,821 sentences, the same
  items the frozen ``sst2`` task scores, so the two compare item by item.
- The model fine-tunes a COPY of itself through its :class:`~embeddings.base.FineTunable`
  capability: ULMFiT runs its LM fine-tuning stage on the training sentences, then trains
  its classifier with gradual unfreezing, discriminative rates and slanted triangular rates
  (Howard & Ruder 2018); a transformer gets a classification head and AdamW with warm-up
  (:mod:`embeddings.hf.finetune`). ``finetune`` (a mapping) passes model-specific settings
  (e.g. ``{epochs: 1}`` for a slow model; set per model with the suite's ``overrides``).
- A model without the capability (a static model) fails this cell with a clear message:
  list the task for fine-tunable models only (the suite's ``embedders:`` on a task entry).
- Accuracy on the test items with a 95% bootstrap CI over them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.datasets.classification import load_classification
from bench.stats import accuracy, bootstrap_ci
from bench.tasks.base import ItemScores, Selection, Task, TaskMeta, TaskOutput
from bench.tasks.senteval import hashed_subset
from bench.vectors import VectorSource
from embeddings.base import FineTunable
from embeddings.support.errors import CtxbenchError

__all__ = ["FinetuneTask", "NotFineTunable"]


class NotFineTunable(CtxbenchError, TypeError):
    """The model has no fine-tuning capability (a static model, a bag of context)."""


class FinetuneTask(Task):
    """Fine-tuning on SST-2 (capped training set, one seed), scored on SentEval's test set."""

    meta = TaskMeta(
        name="sst2-finetune",
        kind="classification",
        description="SST-2 binary sentiment by fine-tuning the whole model (ULMFiT: LM fine-tuning + classifier "
        "with gradual unfreezing; transformers: a classification head) on capped GLUE training phrases; accuracy "
        "on SentEval's labelled test set (the frozen-feature sst2 task's items)",
        metric="accuracy",
        datasets=("sst2",),
        license="no explicit licence (Stanford Sentiment Treebank; GLUE / SentEval copies)",
        citation="Socher et al. 2013, Recursive Deep Models for Semantic Compositionality Over a Sentiment "
        "Treebank, EMNLP 2013; Howard & Ruder 2018, Universal Language Model Fine-tuning for Text "
        "Classification, ACL 2018; Devlin et al. 2019, BERT, NAACL 2019",
    )
    defaults: dict[str, Any] = {"max_train": 2000, "finetune": {}}

    def splits(self) -> dict[str, tuple[list[tuple[str, ...]], np.ndarray, list[str]]]:
        """train (capped, hash-drawn as the frozen sst2 task's), dev, test: (sentences, labels, ids)."""
        out = {}
        limit = self.settings["limit"]
        for split in ("train", "dev", "test"):
            data = load_classification("sst2", split)
            cap = self.settings["max_train"] if split == "train" else None
            if limit:
                cap = min(int(limit), cap or 10**9)
            keep = hashed_subset(list(data.ids), cap, f"sst2-{split}")
            out[split] = ([data.sentences[i] for i in keep], np.array(data.labels)[keep], [data.ids[i] for i in keep])
        return out

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        model = embedder.embedder
        if not isinstance(model, FineTunable):
            raise NotFineTunable(f"sst2-finetune: {embedder.name} cannot be fine-tuned (no finetune_classifier); "
                                 "list the task for fine-tunable models only (embedders: on the task entry)")
        splits = self.splits()
        (tr_s, tr_y, _), (dv_s, dv_y, _), (te_s, te_y, te_ids) = splits["train"], splits["dev"], splits["test"]
        settings = dict(self.settings["finetune"] or {})
        clf = model.finetune_classifier([list(s) for s in tr_s], tr_y.tolist(), dev_sentences=[list(s) for s in dv_s],
                                        dev_labels=dv_y.tolist(), seed=int(self.settings["seed"]), **settings)
        correct = (np.asarray(clf.predict([list(s) for s in te_s])) == te_y).astype(float)
        dev_acc = float((np.asarray(clf.predict([list(s) for s in dv_s])) == dv_y).mean())
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        ci = bootstrap_ci(accuracy, correct, n_boot=n_boot, seed=seed)
        total = len(load_classification("sst2", "train").ids)
        protocol = {"regime": "fine-tuning", "train": f"{len(tr_s)} of {total} GLUE training phrases (hash sample)",
                    "test": "SentEval's labelled SST-2 test set (1,821)", "model_settings": settings}
        extra = {"dev_accuracy": dev_acc, "train_items": len(tr_s),
                 "train_seconds": float(getattr(clf, "seconds", float("nan")))}
        result = self.result(embedder, "finetuned", accuracy(correct), ci, len(correct), len(te_ids),
                             protocol=protocol, extra=extra)
        selection = Selection("finetuned", "the fine-tuned model (no layer to choose)", accuracy(correct), ci[0],
                              ci[1], len(correct), "test", ItemScores(tuple(te_ids), tuple(map(float, correct)), (),
                                                                      "accuracy"), dev_value=dev_acc)
        return TaskOutput([result], selection)
