"""The FiT step of ULMFiT: fine-tune a pretrained language model on the target task's text.

Howard & Ruder (2018, section 3.2) adapt a general-domain language model to the target
domain with three techniques, all here:

- discriminative learning rates: the top layer group gets ``lr``, each group below it
  ``lr / 2.6`` of the one above (groups bottom to top: LSTM 1, LSTM 2, LSTM 3, and the
  tied embedding/decoder, as fastai groups the language model);
- slanted triangular learning rates (eq. 3: a short linear rise over ``cut_frac`` of the
  steps, a long linear decay, ``ratio`` between the peak and the floor);
- gradual unfreezing: epoch 0 trains only the top group, each further epoch unfreezes the
  next group down, until all are trained.

The vocabulary is kept: target-text words the source model does not know read as
``xxunk`` (so the adapted model embeds exactly like the source one). The stage returns a
new model; the source is not changed. :func:`finetune_checkpoint` reads and writes
checkpoint directories (any layout in, the ctxbench layout out).

The stage takes sentences as arguments and knows no dataset (the benchmark reads the data).
Measured with the default ``ulmfit-brown`` and default settings: fine-tuning on the first
8,000 GLUE SST-2 training phrases (82,929 tokens, 4 epochs, 59 s on one thread) took the
perplexity of the 872 SST-2 dev sentences from 218.5 to 123.3. The classifier built on the
adapted model is :mod:`embeddings.ulmfit.classifier`.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from embeddings.ulmfit.checkpoint import LoadedLM, load_checkpoint, save_checkpoint
from embeddings.ulmfit.model import AWDLSTM
from embeddings.ulmfit.tokens import text_to_ids
from embeddings.ulmfit.training import fit, perplexity, slanted_triangular

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FineTuneSettings:
    """Settings of the FiT step (defaults follow the paper, sized for a CPU)."""

    #: epochs; with gradual unfreezing, epoch k trains the top k+1 groups
    epochs: int = 4
    #: peak learning rate of the top group
    lr: float = 4e-3
    #: each group below gets the rate of the group above divided by this
    lr_decay: float = 2.6
    cut_frac: float = 0.1
    ratio: float = 32.0
    gradual_unfreezing: bool = True
    batch_size: int = 32
    bptt: int = 70
    weight_decay: float = 0.01
    seed: int = 0

    def group_lrs(self, n_groups: int) -> list[float]:
        """Discriminative rates, bottom group first: lr / decay^(n-1), ..., lr / decay, lr."""
        return [self.lr / self.lr_decay ** (n_groups - 1 - k) for k in range(n_groups)]


@dataclass
class FineTuneResult:
    """The adapted model and what the stage measured."""

    model: AWDLSTM
    perplexity_before: float | None
    perplexity_after: float | None
    train_losses: list[float]
    train_tokens: int
    seconds: float
    settings: FineTuneSettings

    def summary(self) -> dict[str, Any]:
        return {"perplexity_before": self.perplexity_before, "perplexity_after": self.perplexity_after,
                "train_losses": self.train_losses, "train_tokens": self.train_tokens,
                "seconds": round(self.seconds, 1), "settings": asdict(self.settings)}


def finetune_lm(lm: LoadedLM, texts: Sequence[Sequence[str]], settings: FineTuneSettings = FineTuneSettings(),
                *, held_out: Sequence[Sequence[str]] | None = None, progress: bool | None = None
                ) -> FineTuneResult:
    """Fine-tune a copy of ``lm.model`` on ``texts`` (sentences as word lists).

    ``held_out`` sentences, when given, are scored (perplexity per fastai token) before and
    after.
    """
    model = copy.deepcopy(lm.model)
    train_ids = text_to_ids(texts, lm.vocab)
    held_ids = text_to_ids(held_out, lm.vocab) if held_out else None

    def score(m: AWDLSTM) -> float | None:
        if held_ids is None:
            return None
        return perplexity(m, held_ids, batch_size=min(16, max(1, len(held_ids) // 4)), bptt=settings.bptt)

    before = score(model)
    n_groups = len(model.layer_groups())
    start = time.perf_counter()
    losses = fit(
        model, train_ids, epochs=settings.epochs, group_lrs=settings.group_lrs(n_groups),
        batch_size=settings.batch_size, bptt=settings.bptt, weight_decay=settings.weight_decay,
        trainable_groups=(lambda e: min(n_groups, e + 1)) if settings.gradual_unfreezing else None,
        schedule=lambda t, total: slanted_triangular(t, total, cut_frac=settings.cut_frac,
                                                     ratio=settings.ratio),
        seed=settings.seed, desc="fine-tune LM", progress=progress,
    )
    seconds = time.perf_counter() - start
    after = score(model)
    if before is not None:
        logger.info("fine-tuning: held-out perplexity %.1f -> %.1f (%.0f s)", before, after, seconds)
    return FineTuneResult(model, before, after, losses, int(len(train_ids)), seconds, settings)


def finetune_checkpoint(source: str | Path, texts: Sequence[Sequence[str]], target: str | Path,
                        settings: FineTuneSettings = FineTuneSettings(), *,
                        held_out: Sequence[Sequence[str]] | None = None,
                        progress: bool | None = None) -> FineTuneResult:
    """Fine-tune the checkpoint at ``source`` and save the result at ``target`` (ctxbench layout).

    The result loads with ``embeddings.load("ulmfit", path=target)``.
    """
    lm = load_checkpoint(source)
    result = finetune_lm(lm, texts, settings, held_out=held_out, progress=progress)
    meta = {**lm.meta, "finetuned_from": str(source), "finetune": result.summary()}
    save_checkpoint(result.model, lm.vocab.itos, target, meta)
    return result
