"""Language-model training: from scratch (:func:`train_language_model`) and the pieces fine-tuning reuses.

A corpus is one token-id stream (sentences joined, each opened by ``xxbos``, as fastai
builds language-model data). It is cut into ``batch_size`` contiguous rows and read in
windows of ``bptt`` tokens, the hidden state carried from one window to the next (truncated
back-propagation through time). Perplexity is exp of the mean cross-entropy over every
predicted token of a stream, read the same way in eval mode.

Examples
--------
>>> [round(slanted_triangular(t, 100), 3) for t in (0, 5, 10, 55, 99)]
[0.031, 0.516, 1.0, 0.516, 0.042]
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from embeddings.progress import progress_bar
from embeddings.ulmfit.model import AWDLSTM, Hidden

logger = logging.getLogger(__name__)


def batchify(ids: np.ndarray, batch_size: int) -> torch.Tensor:
    """Cut a stream into ``batch_size`` contiguous rows (the tail that does not fit is dropped)."""
    n = len(ids) // batch_size
    if n < 2:
        raise ValueError(f"a stream of {len(ids)} tokens is too short for batch_size={batch_size}")
    return torch.as_tensor(np.asarray(ids[: n * batch_size], dtype=np.int64)).view(batch_size, n)


def windows(batched: torch.Tensor, bptt: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(input, target) windows of at most ``bptt`` steps; target is input shifted by one."""
    length = batched.size(1) - 1
    for start in range(0, length, bptt):
        end = min(start + bptt, length)
        yield batched[:, start:end], batched[:, start + 1 : end + 1]


def _detach(hidden: Hidden) -> Hidden:
    return [(h.detach(), c.detach()) for h, c in hidden]


@torch.no_grad()
def perplexity(model: AWDLSTM, ids: np.ndarray, *, batch_size: int = 16, bptt: int = 70) -> float:
    """Perplexity of ``model`` on a token stream (eval mode: no dropout)."""
    was_training = model.training
    model.eval()
    batched = batchify(ids, batch_size)
    total, count, hidden = 0.0, 0, None
    for x, y in windows(batched, bptt):
        logits, hidden = model(x, hidden)
        total += float(F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="sum"))
        count += y.numel()
    model.train(was_training)
    return math.exp(total / count)


def slanted_triangular(t: int, total: int, *, cut_frac: float = 0.1, ratio: float = 32.0) -> float:
    """Slanted triangular learning-rate multiplier (Howard & Ruder 2018, eq. 3), in [1/ratio, 1].

    Rises linearly over the first ``cut_frac`` of the ``total`` steps, then decays linearly.
    """
    cut = max(1, math.floor(total * cut_frac))
    p = t / cut if t < cut else 1 - (t - cut) / max(1, total - cut)
    return (1 + p * (ratio - 1)) / ratio


def fit(model: AWDLSTM, ids: np.ndarray, *, epochs: int, group_lrs: Sequence[float],
        batch_size: int = 32, bptt: int = 70, weight_decay: float = 0.01,
        betas: tuple[float, float] = (0.7, 0.99), clip: float = 0.4,
        trainable_groups: Callable[[int], int] | None = None,
        schedule: Callable[[int, int], float] = slanted_triangular,
        seed: int = 0, desc: str = "train LM", progress: bool | None = None) -> list[float]:
    """Train a language model on a token stream with per-group learning rates.

    Parameters
    ----------
    group_lrs : one peak learning rate per :meth:`AWDLSTM.layer_groups` group (bottom to top).
    trainable_groups : epoch -> how many groups, counted from the top, are trained that
        epoch (gradual unfreezing); default: all, every epoch.
    schedule : (step, total steps) -> multiplier of every group's rate.
    seed : seeds torch (dropout masks) for reproducible runs.

    Returns
    -------
    The mean training loss of each epoch.
    """
    torch.manual_seed(seed)
    groups = model.layer_groups()
    if len(group_lrs) != len(groups):
        raise ValueError(f"{len(group_lrs)} learning rates for {len(groups)} layer groups")
    opt = torch.optim.AdamW([{"params": g, "lr": lr} for g, lr in zip(groups, group_lrs, strict=True)],
                            betas=betas, weight_decay=weight_decay)
    batched = batchify(ids, batch_size)
    steps_per_epoch = math.ceil((batched.size(1) - 1) / bptt)
    total = steps_per_epoch * epochs
    step, losses = 0, []
    model.train()
    bar = progress_bar(total=total, desc=desc, disable=progress is False)
    try:
        for epoch in range(epochs):
            n_train = len(groups) if trainable_groups is None else trainable_groups(epoch)
            for k, g in enumerate(groups):
                for p in g:
                    p.requires_grad_(k >= len(groups) - n_train)
            hidden, running, seen = None, 0.0, 0
            for x, y in windows(batched, bptt):
                mult = schedule(step, total)
                for pg, lr in zip(opt.param_groups, group_lrs, strict=True):
                    pg["lr"] = lr * mult
                logits, hidden = model(x, hidden)
                hidden = _detach(hidden)
                loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], clip)
                opt.step()
                running += float(loss.detach())
                seen += 1
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{running / seen:.3f}", epoch=epoch)
            losses.append(running / max(1, seen))
    finally:
        bar.close()
        for p in model.parameters():
            p.requires_grad_(True)
        model.eval()
    return losses


#: bump when a change here changes the trained weights for the same corpus and settings
TRAINING_VERSION = 1


@dataclass(frozen=True)
class LMSettings:
    """Everything that determines an AWD-LSTM language model trained from scratch by :func:`train_language_model`.

    The defaults are the ``ulmfit-brown`` stand-in's (measured on one thread of a shared
    2-core machine on Brown: 234 s of training, held-out perplexity 129.4 per fastai token;
    batch size mattered most in this budget: 64 rows per batch gave 364.7, 32 rows 173.3; a
    peak rate of 1e-2 saturated the LSTMs, 366.2).
    """

    emb_sz: int = 64
    n_hid: int = 256
    n_layers: int = 3
    min_freq: int = 3
    max_vocab: int = 10000
    epochs: int = 1
    #: training rows per batch (fastai's bs)
    bs: int = 16
    bptt: int = 70
    lr: float = 5e-3
    drop_mult: float = 0.2
    weight_decay: float = 0.01
    seed: int = 0
    backward: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_language_model(train_sentences: Sequence[Sequence[str]], held_out_sentences: Sequence[Sequence[str]],
                         settings: LMSettings, *, progress: bool | None = None, desc: str = "train AWD-LSTM LM"
                         ) -> tuple[AWDLSTM, list[str], dict[str, Any]]:
    """Train an AWD-LSTM language model from scratch; returns the model, its vocabulary and metadata.

    Vocabulary: fastai tokens seen at least ``min_freq`` times, at most ``max_vocab``; the
    corpus is one stream of fastai tokens (``xxbos`` per sentence, case markers), read in
    windows of ``bptt``; AdamW (betas 0.7, 0.99) with a slanted triangular schedule peaking at
    ``lr``; fastai's language-model dropouts scaled by ``drop_mult``. A backward model reads
    each sentence's tokens in reverse (``xxbos`` first, as the adapter feeds it). Metadata
    holds the held-out perplexity per fastai token.
    """
    from embeddings.ulmfit.model import AWDConfig
    from embeddings.ulmfit.tokens import build_vocab, text_to_ids
    from embeddings.ulmfit.vocab import Vocab

    itos = build_vocab(train_sentences, min_freq=settings.min_freq, max_vocab=settings.max_vocab)
    vocab = Vocab(itos)
    train_ids = text_to_ids(train_sentences, vocab, backward=settings.backward)
    held_ids = text_to_ids(held_out_sentences, vocab, backward=settings.backward)
    torch.manual_seed(settings.seed)
    config = AWDConfig(vocab_size=len(itos), emb_sz=settings.emb_sz, n_hid=settings.n_hid,
                       n_layers=settings.n_layers).scaled(settings.drop_mult)
    model = AWDLSTM(config)
    n_groups = len(model.layer_groups())
    start = time.perf_counter()
    losses = fit(model, train_ids, epochs=settings.epochs, group_lrs=[settings.lr] * n_groups,
                 batch_size=settings.bs, bptt=settings.bptt, weight_decay=settings.weight_decay,
                 seed=settings.seed, desc=desc + (" (backward)" if settings.backward else ""), progress=progress)
    seconds = time.perf_counter() - start
    ppl = perplexity(model, held_ids, batch_size=min(16, max(1, len(held_ids) // 4)), bptt=settings.bptt)
    meta = {
        "settings": settings.to_dict(),
        "train_tokens": int(len(train_ids)),
        "held_out_tokens": int(len(held_ids)),
        "held_out_perplexity": ppl,
        "perplexity_note": "per fastai token (xxbos, case markers and xxunk included), held-out stream",
        "train_loss_per_epoch": losses,
        "train_seconds": round(seconds, 1),
        "training_version": TRAINING_VERSION,
        "torch": torch.__version__,
    }
    logger.info("AWD-LSTM LM%s: held-out perplexity %.1f after %.0f s",
                " (backward)" if settings.backward else "", ppl, seconds)
    return model, itos, meta
