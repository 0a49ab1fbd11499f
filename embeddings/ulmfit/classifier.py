"""The ULMFiT text classifier: fine-tune an AWD-LSTM language model on labelled sentences.

Howard & Ruder (2018), "Universal Language Model Fine-tuning for Text Classification",
ACL. The three stages: a general language model (here any checkpoint this package loads,
e.g. ``ulmfit-brown`` or fastai's WT103), the language model fine-tuned on the task's
text (FiT, :mod:`embeddings.ulmfit.finetune`), then the classifier (section 3.3), built
here:

- **encoder**: the (fine-tuned) AWD-LSTM reading the sentence in fastai's tokens (``xxbos``,
  case markers, ``xxunk``; :mod:`embeddings.ulmfit.tokens`);
- **concat pooling**: ``[h_T, maxpool(H), meanpool(H)]`` over the top LSTM layer's states
  ``H`` (padding excluded), ``h_T`` the state at the last token;
- **head**: two blocks of batch norm, dropout and a linear layer, ReLU between them; the
  hidden layer has 50 units (the paper's size), the last one a unit per class (softmax in
  the cross-entropy loss);
- **gradual unfreezing**: stage 1 trains the head alone, each further stage unfreezes the
  next layer group down (groups bottom to top: embedding, LSTM 1, 2, 3, head, as fastai
  splits the classifier); the last stage trains everything for ``full_epochs``;
- **discriminative learning rates**: the top group gets ``lr``, each group below it the
  rate of the group above divided by 2.6 (paper, section 3.2);
- **slanted triangular learning rates** (paper, eq. 3; ``cut_frac`` 0.1, ``ratio`` 32),
  one schedule per stage (each stage is a separate fit, as in fastai's ULMFiT scripts);
- the paper's other hyper-parameters (section 4.1): Adam with betas (0.7, 0.99), batch 64,
  learning rate 0.01 for the classifier (0.004 for LM fine-tuning, FiT's default), and the
  classifier dropouts 0.4 (pooled output, before the head), 0.3 (between LSTM layers),
  0.4 (LSTM input), 0.05 (embedding rows), 0.5 (DropConnect on the hidden-to-hidden
  weights), here times ``drop_mult`` (default 0.5, fastai's ``text_classifier_learner``
  default; the second head block drops 0.1, fastai's value, here also times ``drop_mult``).
  Not from the paper: AdamW's weight decay 0.01 and gradient-norm clipping at 0.4 (as the LM
  stages here).

Sentences are short (SST-2: at most ~60 words), so each is read whole in one pass; the
paper's BPT3C (long documents in windows) is not needed: sentences longer than
``max_tokens`` fastai tokens are cut. Only the forward model is used (the paper averages a
forward and a backward classifier). Training batches are random draws, not grouped by
length: the head's batch norm must see batches like the data as a whole (max- and
mean-pooled features vary with length; length-sorted batches left the running statistics
so far off that eval-mode predictions were at chance on a toy task the model fitted in
train mode). Everything is seeded (``seed``), on one torch thread by default: two runs
give the same predictions.

Examples
--------
Needs a trained language model, so not run as a doctest::

    lm = embeddings.load("ulmfit-brown")
    clf = train_ulmfit_classifier(lm, train_sentences, train_labels,
                                  dev_sentences=dev, dev_labels=dev_y, settings=ClassifierSettings())
    clf.predict([["a", "gorgeous", "film"]]), clf.score(dev, dev_y), clf.history[-1]

Cost on SST-2
-------------
Measured once (seed 0) on a 2-core machine shared with a long benchmark run and other jobs
(load average 6-11, about half a core for this process: rough upper bounds), one torch
thread. 2,000 GLUE SST-2 training phrases drawn at random (seed 0; 18,830 words), all 872
dev sentences, the default ``ulmfit-brown`` (64/256 x 3, 10,000 tokens) and the default
settings above:

- training ``ulmfit-brown`` itself (first use only): 12.5 minutes under this load (234 s
  on one thread of a quieter machine, see :mod:`embeddings.ulmfit.brown`);
- FiT, 4 epochs on the 2,000 phrases: 45 s; SST-2 dev perplexity 218.5 -> 147.7;
- the classifier, 5 stages (6 epochs, 192 steps of 64): 50 s, plus under 1 s per pass
  over the dev sentences;
- dev accuracy **0.595**; frozen features of the same model (top layer mean-pooled,
  standardised, logistic regression on the same 2,000): 0.575.

The stand-in is a weak base for SST-2: 17% of the dev words are ``xxunk`` in its Brown
vocabulary, and its training loss hardly falls (0.71 -> 0.67). Other settings did not
change that: no FiT 0.604, ``full_epochs=8`` 0.609, ``drop_mult=0.1`` with 8 epochs 0.556,
``lr=3e-2`` with 8 epochs 0.609 (between 53 s and 136 s each). The published WT103 model
(``ulmfit-wt103``) is the one the paper's numbers come from.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from embeddings.labelled import (
    Labelled,
    SentenceClassifier,
    accuracy,
    check_sentences,
    check_train_dev,
    length_batches,
    random_batches,
)
from embeddings.progress import progress_bar
from embeddings.support.threads import torch_threads
from embeddings.ulmfit.checkpoint import LoadedLM, load_checkpoint
from embeddings.ulmfit.finetune import FineTuneResult, FineTuneSettings, finetune_lm
from embeddings.ulmfit.model import AWDLSTM, AWDConfig
from embeddings.ulmfit.tokens import encode_words
from embeddings.ulmfit.training import slanted_triangular
from embeddings.ulmfit.vocab import PAD, Vocab

logger = logging.getLogger(__name__)

#: the paper's classifier dropouts (section 4.1), before ``drop_mult``
PAPER_DROPOUTS = {"output_p": 0.4, "hidden_p": 0.3, "input_p": 0.4, "embed_p": 0.05, "weight_p": 0.5}


@dataclass(frozen=True)
class ClassifierSettings:
    """Settings of the classifier stage (and of the LM fine-tuning before it).

    Defaults follow Howard & Ruder (2018) where the paper gives a value (see the module
    docstring); ``stage_epochs``/``full_epochs`` the paper tunes on validation data.
    """

    #: the FiT stage on the training sentences first; None skips it (classify with the LM as given)
    lm_finetune: FineTuneSettings | None = field(default_factory=FineTuneSettings)
    #: peak learning rate of the top group (the head)
    lr: float = 1e-2
    #: each group below gets the rate of the group above divided by this
    lr_decay: float = 2.6
    #: epochs of each partly frozen stage of gradual unfreezing
    stage_epochs: int = 1
    #: epochs of the last stage (every group trained); without gradual unfreezing, the only stage
    full_epochs: int = 2
    gradual_unfreezing: bool = True
    batch_size: int = 64
    betas: tuple[float, float] = (0.7, 0.99)
    weight_decay: float = 0.01
    cut_frac: float = 0.1
    ratio: float = 32.0
    #: hidden units of the head
    hidden: int = 50
    #: multiplies every dropout rate (:data:`PAPER_DROPOUTS`, and 0.1 in the second head block)
    drop_mult: float = 0.5
    #: gradient-norm clipping (None: none)
    clip: float | None = 0.4
    #: fastai tokens per sentence (``xxbos`` and case markers included); longer ones are cut
    max_tokens: int = 256
    #: fastai's xxmaj/xxup case markers (as the adapter's ``markers``)
    markers: bool = True
    seed: int = 0
    #: torch threads while training and predicting (None: leave torch's setting alone)
    threads: int | None = 1

    def __post_init__(self) -> None:
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be >= 2 (batch norm trains on batches), got {self.batch_size}")
        if self.stage_epochs < 0 or self.full_epochs < 1:
            raise ValueError(f"need stage_epochs >= 0 and full_epochs >= 1, got {self.stage_epochs}, "
                             f"{self.full_epochs}")
        if self.max_tokens < 2:
            raise ValueError(f"max_tokens must be >= 2, got {self.max_tokens}")

    def group_lrs(self, n_groups: int) -> list[float]:
        """Discriminative rates, bottom group first: lr / decay^(n-1), ..., lr / decay, lr."""
        return [self.lr / self.lr_decay ** (n_groups - 1 - k) for k in range(n_groups)]

    def stages(self, n_groups: int) -> list[tuple[int, int]]:
        """(groups trained, counted from the top; epochs) of each stage."""
        if not self.gradual_unfreezing:
            return [(n_groups, self.full_epochs)]
        partial = [(k, self.stage_epochs) for k in range(1, n_groups)] if self.stage_epochs else []
        return partial + [(n_groups, self.full_epochs)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ConcatPoolClassifier(nn.Module):
    """AWD-LSTM encoder + concat pooling + the two-block head (see the module docstring)."""

    def __init__(self, encoder: AWDLSTM, n_classes: int, *, hidden: int, head_dropouts: tuple[float, float]
                 ) -> None:
        super().__init__()
        self.encoder = encoder
        width = encoder.layer_dims[-1]
        p1, p2 = head_dropouts
        self.head = nn.Sequential(
            nn.BatchNorm1d(3 * width), nn.Dropout(p1), nn.Linear(3 * width, hidden), nn.ReLU(),
            nn.BatchNorm1d(hidden), nn.Dropout(p2), nn.Linear(hidden, n_classes),
        )
        # the LM's decoder (tied or not) plays no part in classification
        for p in encoder.decoder.parameters():
            if all(p is not q for q in encoder.encoder.parameters()):
                p.requires_grad_(False)

    def pooled(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``[last, max, mean]`` of the top layer over each row's first ``lengths`` positions."""
        top = self.encoder.encode(ids)[-1]  # (B, T, D); right padding is never read by real tokens
        mask = (torch.arange(top.size(1), device=top.device)[None, :] < lengths[:, None]).unsqueeze(-1)
        last = top[torch.arange(top.size(0), device=top.device), lengths - 1]
        biggest = top.masked_fill(~mask, float("-inf")).max(dim=1).values
        mean = (top * mask).sum(dim=1) / lengths[:, None].to(top.dtype)
        return torch.cat([last, biggest, mean], dim=1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.pooled(ids, lengths))
        return logits

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Bottom to top: [embedding], [LSTM 1], ..., [LSTM N], [head]."""
        return ([list(self.encoder.encoder.parameters())] + [list(r.parameters()) for r in self.encoder.rnns]
                + [list(self.head.parameters())])


class UlmfitClassifier(SentenceClassifier):
    """A trained ULMFiT classifier; build it with :func:`train_ulmfit_classifier`.

    Attributes
    ----------
    net : ConcatPoolClassifier (eval mode)
    vocab : Vocab
    classes_ : array of the training labels' distinct values (``predict`` returns these)
    settings : ClassifierSettings
    history : list of dict, one per stage (groups trained, epochs, mean train loss, dev accuracy, seconds)
    lm_finetune : FineTuneResult or None, what the FiT stage did
    seconds : wall time of the whole training (FiT included)
    """

    def __init__(self, net: ConcatPoolClassifier, vocab: Vocab, classes: np.ndarray, settings: ClassifierSettings,
                 *, history: list[dict[str, Any]] | None = None, lm_finetune: FineTuneResult | None = None,
                 seconds: float = 0.0) -> None:
        self.net = net.eval()
        self.vocab = vocab
        self.classes_ = classes
        self.settings = settings
        self.history = list(history or [])
        self.lm_finetune = lm_finetune
        self.seconds = seconds

    def encode(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """fastai token ids of each sentence (``xxbos`` first), cut to ``max_tokens``."""
        s = self.settings
        return [encode_words(words, self.vocab, markers=s.markers).ids[: s.max_tokens] for words in sentences]

    def predict_proba(self, sentences: Sequence[Sequence[str]], *, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities, float64 (n_sentences, n_classes), columns in ``classes_`` order."""
        sents = check_sentences(sentences)
        ids = self.encode(sents)
        out = np.zeros((len(sents), len(self.classes_)), dtype=np.float64)
        if not sents:
            return out
        pad = self.vocab.index(PAD)
        self.net.eval()
        with torch_threads(self.settings.threads), torch.no_grad():
            for idx in length_batches(np.array([len(x) for x in ids]), batch_size or self.settings.batch_size):
                x, lengths = _pad([ids[i] for i in idx], pad)
                out[idx] = F.softmax(self.net(x, lengths), dim=-1).double().numpy()
        return out



def _pad(rows: list[np.ndarray], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    x = torch.full((len(rows), int(lengths.max())), pad, dtype=torch.long)
    for b, r in enumerate(rows):
        x[b, : len(r)] = torch.from_numpy(r)
    return x, lengths


def _as_lm(lm: LoadedLM | str | Path | Any) -> LoadedLM:
    """A LoadedLM from itself, a checkpoint directory or a :class:`UlmfitEmbedder` (its forward model)."""
    if isinstance(lm, LoadedLM):
        return lm
    if isinstance(lm, str | Path):
        return load_checkpoint(lm)
    lms = getattr(lm, "lms", None)
    if lms and isinstance(lms[0], LoadedLM):
        if len(lms) > 1:
            logger.info("the classifier uses the forward language model only")
        return lms[0]
    raise TypeError(f"expected a LoadedLM, a checkpoint directory or a UlmfitEmbedder, got {type(lm).__name__}")


def build_classifier(model: AWDLSTM, n_classes: int, settings: ClassifierSettings) -> ConcatPoolClassifier:
    """A fresh classifier around a copy of ``model`` with the classifier's dropouts (seeded by the caller)."""
    m = settings.drop_mult
    rates = {k: v * m for k, v in PAPER_DROPOUTS.items()}
    encoder = AWDLSTM(AWDConfig.from_dict({**model.config.to_dict(), **rates}))
    encoder.load_state_dict(model.state_dict())
    return ConcatPoolClassifier(encoder, n_classes, hidden=settings.hidden, head_dropouts=(rates["output_p"], 0.1 * m))


def train_ulmfit_classifier(
    lm: LoadedLM | str | Path | Any,
    train_sentences: Sequence[Sequence[str]],
    train_labels: Sequence[Any],
    *,
    dev_sentences: Sequence[Sequence[str]] | None = None,
    dev_labels: Sequence[Any] | None = None,
    settings: ClassifierSettings | None = None,
    progress: bool | None = None,
    on_stage_end: Callable[[int, ConcatPoolClassifier], None] | None = None,
) -> UlmfitClassifier:
    """Fine-tune a ULMFiT classifier on labelled sentences.

    Parameters
    ----------
    lm : the pretrained language model: a :class:`LoadedLM`, a checkpoint directory (fastai or
        ctxbench layout) or a :class:`~embeddings.ulmfit.UlmfitEmbedder` (its forward model).
        It is not changed.
    train_sentences, train_labels : sentences as lists of words, one label each (any sortable
        values; at least two distinct).
    dev_sentences, dev_labels : optional; scored after every stage (``history``) and used as
        held-out text for the FiT stage's perplexity. Nothing is selected on them.
    settings : :class:`ClassifierSettings` (default: the paper's, see the module docstring).
    on_stage_end : called as ``on_stage_end(stage_index, net)`` after each stage (in train mode).

    Returns
    -------
    UlmfitClassifier
    """
    settings = settings or ClassifierSettings()
    source = _as_lm(lm)
    train, dev = check_train_dev(train_sentences, train_labels, dev_sentences, dev_labels)
    start = time.perf_counter()
    with torch_threads(settings.threads):
        ft = None
        model = source.model
        if settings.lm_finetune is not None:
            ft = finetune_lm(source, train.sentences, settings.lm_finetune,
                             held_out=dev.sentences if dev else None, progress=progress)
            model = ft.model
        torch.manual_seed(settings.seed)
        net = build_classifier(model, len(train.classes), settings)
        clf = UlmfitClassifier(net, source.vocab, train.classes, settings, lm_finetune=ft)
        clf.history = _fit_stages(clf, train, dev, progress=progress, on_stage_end=on_stage_end)
    clf.seconds = time.perf_counter() - start
    clf.net.eval()
    logger.info("ULMFiT classifier: %d sentences, %d stages, %.0f s%s", len(train.sentences), len(clf.history),
                clf.seconds, f", dev accuracy {clf.history[-1]['dev_accuracy']:.3f}" if dev else "")
    return clf


def _fit_stages(clf: UlmfitClassifier, train: Labelled, dev: Labelled | None, *, progress: bool | None,
                on_stage_end: Callable[[int, ConcatPoolClassifier], None] | None) -> list[dict[str, Any]]:
    """Gradual unfreezing: one slanted-triangular fit per stage, one more group trained each stage."""
    s, net = clf.settings, clf.net
    groups = net.layer_groups()
    lrs = s.group_lrs(len(groups))
    # one optimizer for all stages: a frozen parameter gets no gradient, so AdamW leaves it alone
    opt = torch.optim.AdamW([{"params": g, "lr": lr} for g, lr in zip(groups, lrs, strict=True)],
                            betas=s.betas, weight_decay=s.weight_decay)
    ids = clf.encode(train.sentences)
    labels = torch.from_numpy(train.y)
    pad = clf.vocab.index(PAD)
    rng = np.random.default_rng(s.seed)
    stages = s.stages(len(groups))
    n = len(ids)
    steps_per_epoch = -(-n // s.batch_size) - (1 if n > s.batch_size and n % s.batch_size == 1 else 0)
    bar = progress_bar(total=steps_per_epoch * sum(e for _, e in stages), desc="train ULMFiT classifier",
                       disable=progress is False)
    history = []
    try:
        for stage, (n_train, epochs) in enumerate(stages):
            t0 = time.perf_counter()
            for k, g in enumerate(groups):
                for p in g:
                    p.requires_grad_(k >= len(groups) - n_train)
            net.train()
            total, step, losses = steps_per_epoch * epochs, 0, []
            for _ in range(epochs):
                for idx in random_batches(n, s.batch_size, rng):
                    mult = slanted_triangular(step, total, cut_frac=s.cut_frac, ratio=s.ratio)
                    for pg, lr in zip(opt.param_groups, lrs, strict=True):
                        pg["lr"] = lr * mult
                    x, lens = _pad([ids[i] for i in idx], pad)
                    loss = F.cross_entropy(net(x, lens), labels[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    if s.clip is not None:
                        torch.nn.utils.clip_grad_norm_([p for p in net.parameters() if p.requires_grad], s.clip)
                    opt.step()
                    losses.append(float(loss.detach()))
                    step += 1
                    bar.update(1)
                    bar.set_postfix(stage=stage + 1, loss=f"{np.mean(losses):.3f}")
            entry: dict[str, Any] = {"stage": stage + 1, "groups_trained": n_train, "epochs": epochs,
                                     "train_loss": float(np.mean(losses)) if losses else float("nan"),
                                     "seconds": round(time.perf_counter() - t0, 2)}
            if on_stage_end is not None:
                on_stage_end(stage, net)
            if dev is not None:
                entry["dev_accuracy"] = accuracy(clf.predict(dev.sentences), dev.classes[dev.y])
            history.append(entry)
            logger.debug("stage %s", entry)
    finally:
        bar.close()
        for g in groups:
            for p in g:
                p.requires_grad_(True)
        net.eval()
    return history
