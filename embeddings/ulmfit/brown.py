"""``ulmfit-brown``: a small AWD-LSTM language model that ctxbench trains on the Brown corpus.

No ULMFiT weights ship in a package, so offline runs use this stand-in: the same
architecture and tokenization as fastai's WT103 model, much smaller, trained on the train
part of :func:`bench.datasets.corpora.brown_split` (every 20th sentence is held out, as for
the other Brown stand-ins) with a fixed seed. The model is saved in the project's own
format under ``cache_dir("models", "ulmfit-brown-<hash>")`` (the hash covers every
setting and the corpus checksum), with its held-out perplexity in ``config.json``'s
``meta``, and reloaded from there on later calls.

Default settings (:class:`BrownSettings`): vocabulary of fastai tokens seen >= 3 times,
capped at 10,000; embedding 64, hidden 256, 3 layers, tied decoder; one epoch over the
1.27 M-token training stream in windows of 70 tokens, 16 rows per batch (1,134 updates);
AdamW (betas 0.7, 0.99, weight decay 0.01) with a slanted triangular schedule peaking at
5e-3; fastai's language-model dropouts scaled by 0.2. Measured on one thread of a shared
2-core machine: 234 s of training, held-out perplexity 129.4 per fastai token (67,394
held-out tokens; xxbos, case markers and xxunk count as tokens). Batch size mattered most
in this budget: 64 rows per batch gave 364.7 (and LSTM states with mean cosine 0.997
between random tokens), 32 rows 173.3; a peak rate of 1e-2 saturated the LSTMs (366.2).
``load("ulmfit-brown", tiny=True)`` trains a 16/32 model on 1,500 sentences in seconds,
for tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch

from embeddings.support.paths import cache_dir
from embeddings.ulmfit.checkpoint import FORMAT_VERSION, LoadedLM, load_own, save_checkpoint
from embeddings.ulmfit.embedder import UlmfitEmbedder
from embeddings.ulmfit.model import AWDLSTM, AWDConfig
from embeddings.ulmfit.tokens import build_vocab, text_to_ids
from embeddings.ulmfit.training import fit, perplexity
from embeddings.ulmfit.vocab import Vocab

logger = logging.getLogger(__name__)

#: bump when the training code changes in a way that changes the weights
TRAINING_VERSION = 1


@dataclass(frozen=True)
class BrownSettings:
    """Everything that determines the trained stand-in (see the module docstring)."""

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
    #: use only the first N training sentences (None: all); for tiny test models
    max_sentences: int | None = None
    #: score only the first N held-out sentences (None: all)
    max_held_out: int | None = None
    backward: bool = False

    def key(self) -> str:
        from bench.datasets.registry import get_dataset

        payload = {**asdict(self), "corpus": get_dataset("brown").files["zip"].sha256,
                   "format": FORMAT_VERSION, "training": TRAINING_VERSION}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def _corpus(settings: BrownSettings) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    from bench.datasets.corpora import brown_split

    train, held = brown_split()
    if settings.max_sentences is not None:
        train = train[: settings.max_sentences]
    if settings.max_held_out is not None:
        held = held[: settings.max_held_out]
    return train, held


def train_brown(settings: BrownSettings, *, progress: bool | None = None
                ) -> tuple[AWDLSTM, list[str], dict[str, Any]]:
    """Train the stand-in; returns the model, its vocabulary and metadata (perplexity, timing)."""
    train, held = _corpus(settings)
    itos = build_vocab(train, min_freq=settings.min_freq, max_vocab=settings.max_vocab)
    vocab = Vocab(itos)
    # a backward LM reads each sentence's tokens in reverse (xxbos first, as the adapter feeds it)
    train_ids = text_to_ids(train, vocab, backward=settings.backward)
    held_ids = text_to_ids(held, vocab, backward=settings.backward)
    torch.manual_seed(settings.seed)
    config = AWDConfig(vocab_size=len(itos), emb_sz=settings.emb_sz, n_hid=settings.n_hid,
                       n_layers=settings.n_layers).scaled(settings.drop_mult)
    model = AWDLSTM(config)
    n_groups = len(model.layer_groups())
    start = time.perf_counter()
    losses = fit(model, train_ids, epochs=settings.epochs, group_lrs=[settings.lr] * n_groups,
                 batch_size=settings.bs, bptt=settings.bptt, weight_decay=settings.weight_decay,
                 seed=settings.seed, desc="train ulmfit-brown" + (" (backward)" if settings.backward else ""),
                 progress=progress)
    seconds = time.perf_counter() - start
    ppl = perplexity(model, held_ids, batch_size=min(16, max(1, len(held_ids) // 4)), bptt=settings.bptt)
    meta = {
        "name": "ulmfit-brown",
        "settings": asdict(settings),
        "corpus": "Brown (NLTK), brown_split(): every 20th sentence held out",
        "train_tokens": int(len(train_ids)),
        "held_out_tokens": int(len(held_ids)),
        "held_out_perplexity": ppl,
        "perplexity_note": "per fastai token (xxbos, case markers and xxunk included), held-out stream",
        "train_loss_per_epoch": losses,
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
    }
    logger.info("ulmfit-brown%s: held-out perplexity %.1f after %.0f s",
                " (backward)" if settings.backward else "", ppl, seconds)
    return model, itos, meta


#: a model that trains in seconds (tests, the conformance kit): ``load("ulmfit-brown", tiny=True)``
TINY_SETTINGS: dict[str, Any] = dict(emb_sz=16, n_hid=32, max_vocab=600, min_freq=2, max_sentences=1500,
                                     max_held_out=150, bs=8, bptt=35, lr=1e-2)


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def brown_checkpoint(settings: BrownSettings, *, retrain: bool = False, progress: bool | None = None,
                     threads: int | None = None) -> Path:
    """The cached checkpoint directory for ``settings``, training it first if needed.

    ``threads``: torch threads while training (None: leave torch's setting alone).
    """
    path = cache_dir("models") / f"ulmfit-brown-{settings.key()}"
    if retrain or not (path / "config.json").is_file():
        with _torch_threads(threads):
            model, itos, meta = train_brown(settings, progress=progress)
        save_checkpoint(model, itos, path, meta)
    return path


def load_ulmfit_brown(*, backward: bool = False, markers: bool = True, device: str = "cpu",
                      batch_size: int = 32, tiny: bool = False, retrain: bool = False,
                      progress: bool | None = None, threads: int | None = None,
                      **settings: Any) -> UlmfitEmbedder:
    """The ``ulmfit-brown`` stand-in (trained on first use, then loaded from the cache).

    Parameters
    ----------
    backward : also train/load a backward model and concatenate (direction "bi").
    tiny : start from :data:`TINY_SETTINGS` (trains in seconds; for tests).
    threads : torch threads while training (default: torch's setting; 1 for ``tiny``, where
        thread synchronisation costs more than it gains).
    settings : overrides of :class:`BrownSettings` fields.
    """
    known = set(BrownSettings.__dataclass_fields__) - {"backward"}
    unknown = set(settings) - known
    if unknown:
        raise TypeError(f"unknown ulmfit-brown options {sorted(unknown)}; settings are {sorted(known)}, "
                        f"plus backward, markers, device, batch_size, tiny, retrain, progress, threads")
    options = dict(settings, tiny=True) if tiny else dict(settings)
    fwd_settings = BrownSettings(**({**TINY_SETTINGS, **settings} if tiny else settings))
    if tiny and threads is None:
        threads = 1
    lms: list[LoadedLM] = []
    for direction in ([False, True] if backward else [False]):
        s = replace(fwd_settings, backward=direction)
        lms.append(load_own(brown_checkpoint(s, retrain=retrain, progress=progress, threads=threads)))
    meta = lms[0].meta
    ppl = meta.get("held_out_perplexity")
    s = fwd_settings
    label = (f"ulmfit-brown (ctxbench stand-in: AWD-LSTM {s.emb_sz}/{s.n_hid}x{s.n_layers}, "
             f"vocab {lms[0].model.config.vocab_size}, trained on Brown, seed {s.seed}, "
             f"held-out perplexity {ppl:.1f})")
    return UlmfitEmbedder(lms[0], lms[1] if backward else None, name="ulmfit-brown", checkpoint=label,
                          options=options, markers=markers, device=device, batch_size=batch_size)
