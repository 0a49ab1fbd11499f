"""Fine-tune a transformers encoder or causal LM as a sentence classifier.

The fine-tuning regime of BERT (Devlin et al. 2019) and GPT (Radford et al. 2018): every
weight of the pretrained model is trained, together with a new linear head, on the
labelled task data. The model is ``AutoModelForSequenceClassification`` loaded from the
same source as the adapter (hub id or directory, never remote code), so the head is the
architecture's own:

- encoders (BERT, MiniLM, ...): the pooler over ``[CLS]`` (dense + tanh), dropout, linear;
- causal LMs (GPT-2, Llama/SmolLM2, ...): a linear layer on the hidden state of the last
  non-pad token (transformers finds it as the rightmost token that is not
  ``config.pad_token_id``; inputs are right-padded and the pad id is set here from the
  tokenizer's pad, else its EOS token).

Inputs are built as the adapter builds them (:class:`~embeddings.hf.HFEmbedder`): words
pre-split, byte-level BPE words in their mid-sentence form (``" word"``, see
:mod:`embeddings.hf.align`), optional lower-casing, the tokenizer's special tokens around an
encoder's input, the checkpoint's BOS token in front of a causal model's. Sentences longer
than ``max_length`` pieces (special tokens included) are cut at the end.

Training: AdamW (weight decay 0.01, none on biases and norm weights), learning rate
warmed up linearly over the first ``warmup_frac`` of the steps then decayed linearly to 0,
gradient-norm clipping at 1.0, batches of similar-length sentences in a seeded random
order, the model's own dropout. Defaults are within BERT's fine-tuning ranges (Devlin et
al. 2019, appendix A.3: batch 16 or 32, learning rate 5e-5, 3e-5 or 2e-5, 2-4 epochs;
warm-up over 10% of the steps as in its released ``run_classifier.py``); GPT used 6.25e-5,
batch 32, 3 epochs, 0.2% warm-up and an auxiliary LM loss (not used here). Seeded (head
initialisation, batch order, dropout) and on one torch thread by default, so two runs on
a CPU give the same predictions.

Examples
--------
Needs weights, so not run as a doctest::

    emb = embeddings.load("minilm-l6")
    clf = finetune_embedder(emb, train_sentences, train_labels, dev_sentences=dev, dev_labels=dev_y,
                            settings=FinetuneSettings(epochs=2))
    clf.predict([["a", "gorgeous", "film"]]), clf.score(dev, dev_y), clf.history

Cost on SST-2
-------------
Measured once (seed 0) on a 2-core machine shared with a long benchmark run and other jobs
(load average 6-11 throughout, so the process had about half a core: treat the times as
rough upper bounds), one torch thread, torch 2.13 CPU, transformers 5.24. Training: 2,000
GLUE SST-2 training phrases drawn at random (seed 0; 18,830 words); dev: all 872 sentences;
``max_length=64``, batch 16, lr 5e-5, otherwise the defaults. Frozen: the adapter's
top-layer vectors mean-pooled, standardised, logistic regression on the same 2,000.

==============  ======  =====================  ===============  ==========  ============
model           epochs  training               one pass on dev  dev acc.    frozen acc.
==============  ======  =====================  ===============  ==========  ============
minilm-l6       2       175 s (92 + 83 s)      14 s             0.827       0.773
smollm2-135m    1       776 s                  105-132 s        0.872       0.737
==============  ======  =====================  ===============  ==========  ============

MiniLM reached 0.827 after its first epoch already. SmolLM2 needs about 4 GB of memory
while training (AdamW keeps two float32 copies of its 135 M weights); a second epoch
would take about another 13 minutes under the same load. Loading: 8 s (MiniLM), 14 s
(SmolLM2, already dequantised; the first load dequantises it once).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.hf.align import is_byte_level, special_tokens_around, split_words, tokenizer_lowercases
from embeddings.hf.embedder import detect_direction, max_input_length
from embeddings.labelled import (
    Labelled,
    SentenceClassifier,
    accuracy,
    check_sentences,
    check_train_dev,
    length_batches,
    sortish_batches,
)
from embeddings.progress import progress_bar
from embeddings.support.threads import torch_threads

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinetuneSettings:
    """Settings of transformer fine-tuning (defaults: see the module docstring)."""

    epochs: int = 2
    #: peak learning rate (after warm-up)
    lr: float = 5e-5
    batch_size: int = 16
    #: pieces per sentence, special tokens included; longer sentences are cut
    max_length: int = 64
    #: share of the steps over which the rate rises linearly from 0
    warmup_frac: float = 0.1
    weight_decay: float = 0.01
    #: gradient-norm clipping (None: none)
    clip: float | None = 1.0
    #: lower-case words before tokenizing (None: as the adapter does by default, i.e. not;
    #: an uncased tokenizer lower-cases anyway)
    lowercase: bool | None = None
    #: causal models: the checkpoint's BOS token in front (as the adapter's ``bos``)
    bos: bool = True
    #: sentences per forward pass when predicting
    eval_batch_size: int = 64
    seed: int = 0
    #: torch threads while training and predicting (None: leave torch's setting alone). One, as for
    #: every model ctxbench trains: a training run amplifies rounding, and with torch's ambient
    #: thread count the same fine-tuning gave different accuracies in one test run and the next
    threads: int | None = 1

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.max_length < 2:
            raise ValueError(f"need epochs >= 1, batch_size >= 1, max_length >= 2: {self}")
        if not 0 <= self.warmup_frac < 1:
            raise ValueError(f"warmup_frac must be in [0, 1), got {self.warmup_frac}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def warmup_linear(step: int, total: int, warmup_frac: float) -> float:
    """Learning-rate multiplier: linear rise over ``warmup_frac`` of ``total`` steps, then linear decay to 0.

    >>> [round(warmup_linear(t, 10, 0.2), 3) for t in (0, 1, 2, 6, 9)]
    [0.5, 1.0, 1.0, 0.5, 0.125]
    """
    warm = math.floor(total * warmup_frac)
    if step < warm:
        return (step + 1) / warm
    return max(0.0, (total - step) / max(1, total - warm))


@dataclass(frozen=True)
class InputFormat:
    """How sentences become model inputs (the adapter's conventions, see the module docstring)."""

    byte_level: bool
    lowercase: bool
    prefix: list[int]
    suffix: list[int]
    pad_id: int
    max_length: int

    @classmethod
    def for_model(cls, tokenizer: Any, config: Any, *, max_length: int, lowercase: bool | None = None,
                  bos: bool = True) -> InputFormat:
        causal = detect_direction(config) == "left"
        prefix, suffix = special_tokens_around(tokenizer)
        if causal:
            suffix = []
            if not prefix and bos and tokenizer.bos_token_id is not None:
                prefix = [int(tokenizer.bos_token_id)]
        pad = next((t for t in (tokenizer.pad_token_id, tokenizer.eos_token_id) if t is not None), None)
        if pad is None:
            if causal:
                raise ValueError("the tokenizer has neither a pad nor an EOS token: the classifier cannot tell "
                                 "padding from text")
            pad = 0  # an encoder masks padding; the id does not matter
        limit = max_input_length(config, tokenizer)
        if max_length > limit:
            raise ValueError(f"max_length={max_length} exceeds the model's maximum input ({limit})")
        if max_length - len(prefix) - len(suffix) < 1:
            raise ValueError(f"max_length={max_length} leaves no room after {len(prefix) + len(suffix)} "
                             "special tokens")
        lower = bool(lowercase) and not tokenizer_lowercases(tokenizer)
        return cls(is_byte_level(tokenizer), lower, prefix, suffix, int(pad), max_length)

    def encode(self, tokenizer: Any, sentences: list[list[str]]) -> list[list[int]]:
        """Model input ids of each sentence, special tokens included, at most ``max_length``."""
        budget = self.max_length - len(self.prefix) - len(self.suffix)
        out: list[list[int]] = [[] for _ in sentences]
        nonempty = [i for i, s in enumerate(sentences) if s]
        pieces = split_words(tokenizer, [sentences[i] for i in nonempty], byte_level=self.byte_level,
                             lowercase=self.lowercase)
        for i, wp in zip(nonempty, pieces, strict=True):
            out[i] = list(wp.ids[:budget])
        rows = [self.prefix + ids + self.suffix for ids in out]
        # an empty sentence for a model without special tokens: one pad position, so it has an output
        return [r or [self.pad_id] for r in rows]


class FinetunedClassifier(SentenceClassifier):
    """A fine-tuned transformers classifier; build it with :func:`finetune_classifier`.

    Attributes
    ----------
    model : the ``*ForSequenceClassification`` model (eval mode)
    tokenizer : its fast tokenizer
    source : hub id or directory the pretrained weights came from
    fmt : InputFormat
    classes_ : array of the training labels' distinct values (``predict`` returns these)
    settings : FinetuneSettings
    history : list of dict, one per epoch (mean train loss, dev accuracy, seconds)
    seconds : wall time of training (loading excluded)
    """

    def __init__(self, model: Any, tokenizer: Any, *, source: str, fmt: InputFormat, classes: np.ndarray,
                 settings: FinetuneSettings, history: list[dict[str, Any]] | None = None,
                 seconds: float = 0.0) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.source = source
        self.fmt = fmt
        self.classes_ = classes
        self.settings = settings
        self.history = list(history or [])
        self.seconds = seconds

    def encode(self, sentences: Sequence[Sequence[str]]) -> list[list[int]]:
        """Model input ids of each sentence, exactly as training and prediction feed them."""
        return self.fmt.encode(self.tokenizer, check_sentences(sentences))

    def _logits(self, rows: list[list[int]]) -> Any:
        import torch

        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.fmt.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for b, r in enumerate(rows):
            ids[b, : len(r)] = torch.tensor(r, dtype=torch.long)
            mask[b, : len(r)] = 1
        device = next(self.model.parameters()).device
        return self.model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits

    def predict_proba(self, sentences: Sequence[Sequence[str]], *, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities, float64 (n_sentences, n_classes), columns in ``classes_`` order."""
        import torch

        rows = self.encode(sentences)
        out = np.zeros((len(rows), len(self.classes_)), dtype=np.float64)
        if not rows:
            return out
        self.model.eval()
        with torch_threads(self.settings.threads), torch.inference_mode():
            for idx in length_batches(np.array([len(r) for r in rows]), batch_size or self.settings.eval_batch_size):
                logits = self._logits([rows[i] for i in idx])
                out[idx] = torch.softmax(logits.float(), dim=-1).double().cpu().numpy()
        return out



def load_for_classification(source: str | Path, n_classes: int) -> tuple[Any, Any]:
    """``AutoModelForSequenceClassification`` (float32, a new head of ``n_classes``) and the fast tokenizer.

    The caller seeds torch first: the head is initialised at random. transformers' own load
    report is replaced by a log line: the new head at INFO, any other weight missing from the
    checkpoint (initialised at random, e.g. a BERT pooler) at WARNING.
    """
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    src = str(source)
    config = None
    report = logging.getLogger("transformers.modeling_utils")
    level = report.level
    try:
        config = AutoConfig.from_pretrained(src, trust_remote_code=False)
        detect_direction(config)  # refuses encoder-decoders, as the adapter does
        tokenizer = AutoTokenizer.from_pretrained(src, trust_remote_code=False)
        config.num_labels = n_classes
        report.setLevel(logging.ERROR)
        model, info = AutoModelForSequenceClassification.from_pretrained(
            src, config=config, dtype=torch.float32, trust_remote_code=False, output_loading_info=True)
    except OSError as e:
        where = "directory" if Path(src).exists() else "Hugging Face id"
        raise OSError(f"could not load {where} {src!r} for fine-tuning: {str(e).rstrip('.')}") from e
    except ValueError as e:
        if "Unrecognized configuration class" in str(e):
            kind = getattr(config, "model_type", "?")
            raise ValueError(f"{src}: transformers has no sequence-classification model for model type "
                             f"{kind!r}") from e
        raise
    finally:
        report.setLevel(level)
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(f"{src}: fine-tuning needs a fast (tokenizers-backed) tokenizer, got "
                        f"{type(tokenizer).__name__}")
    base = f"{model.base_model_prefix}."
    missing = sorted(info.get("missing_keys") or [])
    head = [k for k in missing if not k.startswith(base)]
    body = [k for k in missing if k.startswith(base)]
    logger.info("%s: new classification head %s; checkpoint weights not used: %d", src, head,
                len(info.get("unexpected_keys") or []))
    if body:
        logger.warning("%s: weights missing from the checkpoint, initialised at random: %s", src, body)
    return model, tokenizer


def finetune_classifier(
    source: str | Path,
    train_sentences: Sequence[Sequence[str]],
    train_labels: Sequence[Any],
    *,
    dev_sentences: Sequence[Sequence[str]] | None = None,
    dev_labels: Sequence[Any] | None = None,
    settings: FinetuneSettings | None = None,
    progress: bool | None = None,
) -> FinetunedClassifier:
    """Fine-tune the encoder or causal LM at ``source`` (hub id or directory) on labelled sentences.

    Parameters
    ----------
    source : what :class:`~embeddings.hf.HFEmbedder` was loaded from (its ``source``).
    train_sentences, train_labels : sentences as lists of words, one label each (any sortable
        values; at least two distinct).
    dev_sentences, dev_labels : optional; scored after every epoch (``history``). Nothing is
        selected on them.
    settings : :class:`FinetuneSettings`.

    Returns
    -------
    FinetunedClassifier
    """
    import torch

    settings = settings or FinetuneSettings()
    train, dev = check_train_dev(train_sentences, train_labels, dev_sentences, dev_labels)
    with torch_threads(settings.threads):
        torch.manual_seed(settings.seed)
        model, tokenizer = load_for_classification(source, len(train.classes))
        fmt = InputFormat.for_model(tokenizer, model.config, max_length=settings.max_length,
                                    lowercase=settings.lowercase, bos=settings.bos)
        model.config.pad_token_id = fmt.pad_id  # causal heads pool the last token that is not this
        clf = FinetunedClassifier(model, tokenizer, source=str(source), fmt=fmt, classes=train.classes,
                                  settings=settings)
        start = time.perf_counter()
        clf.history = _train(clf, train, dev, progress=progress)
        clf.seconds = time.perf_counter() - start
    clf.model.eval()
    logger.info("fine-tuned %s on %d sentences in %.0f s%s", source, len(train.sentences), clf.seconds,
                f", dev accuracy {clf.history[-1]['dev_accuracy']:.3f}" if dev else "")
    return clf


def finetune_embedder(
    embedder: Any,
    train_sentences: Sequence[Sequence[str]],
    train_labels: Sequence[Any],
    *,
    dev_sentences: Sequence[Sequence[str]] | None = None,
    dev_labels: Sequence[Any] | None = None,
    settings: FinetuneSettings | None = None,
    progress: bool | None = None,
) -> FinetunedClassifier:
    """:func:`finetune_classifier` on the weights of an :class:`~embeddings.hf.HFEmbedder`, with its conventions.

    Takes the adapter's ``source``, its lower-casing and BOS choice (``settings`` gives the
    rest; its ``lowercase``/``bos`` are overridden). The embedder itself is not changed:
    the weights are read again from ``source``.
    """
    from dataclasses import replace

    source = getattr(embedder, "source", None)
    if source is None or not hasattr(embedder, "tokenizer"):
        raise TypeError(f"expected an HFEmbedder (with .source and .tokenizer), got {type(embedder).__name__}")
    settings = replace(settings or FinetuneSettings(), lowercase=bool(embedder.lowercase),
                       bos=bool(getattr(embedder, "bos", True)))
    return finetune_classifier(source, train_sentences, train_labels, dev_sentences=dev_sentences,
                               dev_labels=dev_labels, settings=settings, progress=progress)


def _train(clf: FinetunedClassifier, train: Labelled, dev: Labelled | None, *, progress: bool | None
           ) -> list[dict[str, Any]]:
    import torch
    import torch.nn.functional as F

    s, model = clf.settings, clf.model
    rows = clf.fmt.encode(clf.tokenizer, train.sentences)
    lengths = np.array([len(r) for r in rows])
    labels = torch.from_numpy(train.y)
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]  # biases, norm weights
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": s.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=s.lr)
    rng = np.random.default_rng(s.seed)
    epochs = [sortish_batches(lengths, s.batch_size, rng) for _ in range(s.epochs)]
    total = sum(len(e) for e in epochs)
    device = next(model.parameters()).device
    bar = progress_bar(total=total, desc=f"fine-tune {Path(clf.source).name}", disable=progress is False)
    history, step = [], 0
    try:
        for epoch, batches in enumerate(epochs):
            t0, losses = time.perf_counter(), []
            model.train()
            for idx in batches:
                for pg in opt.param_groups:
                    pg["lr"] = s.lr * warmup_linear(step, total, s.warmup_frac)
                logits = clf._logits([rows[i] for i in idx])
                loss = F.cross_entropy(logits.float(), labels[idx].to(device))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if s.clip is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), s.clip)
                opt.step()
                losses.append(float(loss.detach()))
                step += 1
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{np.mean(losses):.3f}")
            entry: dict[str, Any] = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)),
                                     "seconds": round(time.perf_counter() - t0, 2)}
            if dev is not None:
                entry["dev_accuracy"] = accuracy(clf.predict(dev.sentences), dev.classes[dev.y])
            history.append(entry)
            logger.debug("epoch %s", entry)
    finally:
        bar.close()
        model.eval()
    return history
