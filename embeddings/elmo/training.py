"""Training a small ELMo biLM: a pure function of a corpus and settings, saved in the official layout.

The same architecture as the published models (char CNN, highway, projection, projected
LSTMs per direction with clipping and a skip connection), trained as a forward and a
backward language model sharing one output layer, and written in the official options.json
+ hdf5 layout, so :func:`embeddings.elmo.load_elmo` reads it like a published checkpoint.
The benchmark's ``elmo-brown`` stand-in is this function applied to the Brown corpus (its
recipe, corpus and cache live in ``bench.standins``).

Settings (:class:`ElmoTrainingSettings`), defaults as used for ``elmo-brown``:

- data: sentences truncated to 50 words, each wrapped in ``<S> ... </S>``;
- model: char embedding 16, filters (1,32) (2,32) (3,64) (4,64) (5,64) (256 in all), 1
  highway layer, projection 64; LSTM 256 cells projected to 64, 2 layers, cell and
  projection clip 3, skip connection; layer width 128 (forward + backward);
- output layer: softmax over the 10,000 most frequent training words + ``<S>``, ``</S>``,
  ``<UNK>`` (other words are ``<UNK>``), trained with a sampled softmax (512 log-uniform
  negatives per step, shared by the batch, with the usual log-expected-count correction
  and accidental hits removed), evaluated with the full softmax;
- training: 2,000 steps of 32 sentences (bucketed by length), Adam lr 2e-3, gradient norm
  clipped at 1, dropout 0.1 before the output layer, seed 0 (one seeded generator for data
  order, initialisation, dropout and negative samples; the global torch RNG is not touched).

The held-out perplexity (``exp`` of the mean negative log-likelihood per predicted token,
including ``</S>``/``<S>``; out-of-vocabulary words count as ``<UNK>``) of each direction
and of both together goes into ``meta.json`` beside the weights.

Measured with the defaults on Brown (torch 2.13 CPU, one thread): 244 CPU-seconds of
training (~10 wall-clock minutes on two heavily shared cores) plus ~27 s of evaluation;
held-out perplexity 163.6 (forward 165.3, backward 161.9) over 61,458 predictions of the
2,892 held-out sentences, 9.1% of whose words are ``<UNK>``; a unigram model over the same
vocabulary scores 463.

Files written by :func:`save` (and :func:`train_to_dir`): ``options.json``,
``weights.hdf5`` (bilm-tf layout, see :mod:`embeddings.elmo.hdf5_format`), ``vocab.txt``
(output vocabulary, bilm-tf style, one word per line), ``softmax.safetensors`` (output
layer, not needed for embeddings), ``meta.json``.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from embeddings.elmo.bilm import BiLM, ElmoOptions
from embeddings.elmo.chars import BOS, EOS, batch_char_ids
from embeddings.elmo.hdf5_format import save_weights
from embeddings.progress import progress_bar
from embeddings.support.files import atomic_path, sha256_file
from embeddings.support.threads import torch_threads

logger = logging.getLogger(__name__)

UNK = "<UNK>"
#: bump when the training code changes in a way that changes the weights
TRAINING_VERSION = 1


@dataclass(frozen=True)
class ElmoTrainingSettings:
    """Everything that determines the trained weights (see the module docstring)."""

    seed: int = 0
    steps: int = 2000
    train_batch_size: int = 32
    max_sentences: int | None = None
    max_len: int = 50
    vocab_size: int = 10_000
    n_samples: int = 512
    lr: float = 2e-3
    clip_norm: float = 1.0
    dropout: float = 0.1
    char_dim: int = 16
    filters: tuple[tuple[int, int], ...] = ((1, 32), (2, 32), (3, 64), (4, 64), (5, 64))
    n_highway: int = 1
    lstm_dim: int = 256
    projection_dim: int = 64
    n_layers: int = 2
    cell_clip: float = 3.0
    proj_clip: float = 3.0
    eval_sentences: int | None = None

    def __post_init__(self) -> None:
        if self.steps < 1 or self.train_batch_size < 1 or self.vocab_size < 1 or self.n_samples < 1:
            raise ValueError(f"steps, train_batch_size, vocab_size, n_samples must be >= 1: {self}")
        object.__setattr__(self, "filters", tuple(tuple(int(x) for x in f) for f in self.filters))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["filters"] = [list(f) for f in self.filters]
        return d


    def options(self, n_vocab: int) -> dict[str, Any]:
        """options.json in the bilm-tf layout (plus its training fields)."""
        return {
            "bidirectional": True,
            "char_cnn": {"activation": "relu", "embedding": {"dim": self.char_dim},
                         "filters": [list(f) for f in self.filters], "max_characters_per_token": 50,
                         "n_characters": 262, "n_highway": self.n_highway},
            "dropout": self.dropout,
            "lstm": {"cell_clip": self.cell_clip, "dim": self.lstm_dim, "n_layers": self.n_layers,
                     "proj_clip": self.proj_clip, "projection_dim": self.projection_dim,
                     "use_skip_connections": True},
            "all_clip_norm_val": self.clip_norm,
            "n_epochs": None,
            "n_train_tokens": None,
            "batch_size": self.train_batch_size,
            "n_tokens_vocab": n_vocab,
            "unroll_steps": self.max_len + 2,
            "n_negative_samples_batch": self.n_samples,
        }


# -- data ---------------------------------------------------------------------------
def build_vocab(sentences: Sequence[Sequence[str]], size: int) -> list[str]:
    """Output vocabulary: ``</S>``, ``<S>``, ``<UNK>``, then the ``size`` most frequent words
    (ties broken alphabetically), so ids are in frequency order for the log-uniform sampler."""
    counts = Counter(w for s in sentences for w in s)
    words = sorted(counts, key=lambda w: (-counts[w], w))
    return [EOS, BOS, UNK] + [w for w in words if w not in (EOS, BOS, UNK)][:size]


class Batch:
    """Padded tensors for one batch of sentences (boundary tokens included)."""

    def __init__(self, sentences: Sequence[Sequence[str]], word_id: dict[str, int], max_chars: int) -> None:
        padded = [[BOS, *s, EOS] for s in sentences]
        self.lengths = torch.tensor([len(s) for s in padded])
        t = int(self.lengths.max())
        uniq = list(dict.fromkeys(w for s in padded for w in s))
        pos = {w: i for i, w in enumerate(uniq)}
        self.uniq_ids = torch.from_numpy(batch_char_ids([uniq], max_chars))  # (1, U, C)
        # index into the unique-word vectors; padding slots point at an extra zero row
        self.index = torch.full((len(padded), t), len(uniq), dtype=torch.long)
        unk = word_id[UNK]
        self.targets = torch.zeros((len(padded), t), dtype=torch.long)
        for i, s in enumerate(padded):
            self.index[i, : len(s)] = torch.tensor([pos[w] for w in s])
            self.targets[i, : len(s)] = torch.tensor([word_id.get(w, unk) for w in s])


def token_vectors(model: BiLM, batch: Batch) -> torch.Tensor:
    """Char-CNN vectors (batch, n, proj), computed once per distinct word of the batch."""
    uniq = model.char_cnn(batch.uniq_ids)[0]
    uniq = torch.cat([uniq, uniq.new_zeros(1, uniq.shape[1])])
    return uniq[batch.index]


def lm_hidden(model: BiLM, batch: Batch, dropout: nn.Module | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-layer states that predict a word, and the word ids: (N, proj), (N,).

    Forward: the state at position t predicts token t+1; backward: token t-1.
    """
    token = token_vectors(model, batch)
    outputs, _ = model.run_lstms(token, batch.lengths, track_state=False)
    fw, bw = outputs["fw"][-1], outputs["bw"][-1]
    t = token.shape[1]
    steps = torch.arange(t - 1)
    valid = steps[None, :] < (batch.lengths[:, None] - 1)  # (b, t-1) pairs inside the sentence
    h = torch.cat([fw[:, :-1][valid], bw[:, 1:][valid]])
    y = torch.cat([batch.targets[:, 1:][valid], batch.targets[:, :-1][valid]])
    if dropout is not None:
        h = dropout(h)
    return h, y


def sampled_softmax_loss(h: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                         n_samples: int, generator: torch.Generator) -> torch.Tensor:
    """Mean sampled-softmax loss with ``n_samples`` log-uniform negatives shared by the batch.

    Ids are assumed sorted by frequency; P(k) = log((k+2)/(k+1)) / log(V+1). Logits are
    corrected by -log(expected count), and a negative equal to the target is masked out.
    """
    v = weight.shape[0]
    ranks = torch.arange(v, dtype=torch.float64)
    prob = (torch.log(ranks + 2) - torch.log(ranks + 1)) / math.log(v + 1)
    neg = torch.multinomial(prob, n_samples, replacement=True, generator=generator)
    log_q = torch.log(prob * n_samples).float()
    true_logit = (h * weight[y]).sum(-1) + bias[y] - log_q[y]
    neg_logit = h @ weight[neg].t() + bias[neg] - log_q[neg]
    neg_logit = neg_logit.masked_fill(neg[None, :] == y[:, None], float("-inf"))
    logits = torch.cat([true_logit[:, None], neg_logit], dim=1)
    return nn.functional.cross_entropy(logits, torch.zeros_like(y))


def _batches(sentences: list[tuple[str, ...]], size: int, rng: random.Random) -> list[list[int]]:
    """One epoch of batches: shuffled, bucketed by length within chunks of 50 batches."""
    order = list(range(len(sentences)))
    rng.shuffle(order)
    out: list[list[int]] = []
    chunk = size * 50
    for k in range(0, len(order), chunk):
        part = sorted(order[k : k + chunk], key=lambda i: len(sentences[i]))
        out.extend(part[j : j + size] for j in range(0, len(part), size))
    rng.shuffle(out)
    return out


# -- training -----------------------------------------------------------------------
@torch.no_grad()
def perplexity(model: BiLM, softmax: nn.Linear, sentences: Sequence[Sequence[str]], word_id: dict[str, int],
               batch_size: int = 64) -> dict[str, float]:
    """Full-softmax held-out perplexity: forward, backward, and both directions pooled."""
    model.eval()
    nll = {"fw": 0.0, "bw": 0.0}
    count = 0
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    for k in range(0, len(order), batch_size):
        batch = Batch([sentences[i] for i in order[k : k + batch_size]], word_id, model.opts.max_chars)
        h, y = lm_hidden(model, batch)
        n = h.shape[0] // 2
        losses = nn.functional.cross_entropy(softmax(h), y, reduction="none")
        nll["fw"] += float(losses[:n].sum())
        nll["bw"] += float(losses[n:].sum())
        count += n
    return {"forward": math.exp(nll["fw"] / count), "backward": math.exp(nll["bw"] / count),
            "both": math.exp((nll["fw"] + nll["bw"]) / (2 * count)), "tokens": count}


def train(cfg: ElmoTrainingSettings, train_sents: Sequence[Sequence[str]], held_sents: Sequence[Sequence[str]],
          *, progress: bool = True) -> tuple[BiLM, nn.Linear, list[str], dict[str, Any]]:
    """Train the biLM; returns (model, output layer, output vocabulary, metadata).

    Runs on one CPU thread (restored afterwards): the model is small, so intra-op threads
    only add overhead (and spin badly on a shared machine), and one thread keeps the
    floating-point reduction order the same on every machine.
    """
    with torch_threads(1):
        return _train(cfg, train_sents, held_sents, progress=progress)


def _train(cfg: ElmoTrainingSettings, train_sents: Sequence[Sequence[str]], held_sents: Sequence[Sequence[str]],
           *, progress: bool) -> tuple[BiLM, nn.Linear, list[str], dict[str, Any]]:
    start = time.time()
    cpu_start = time.process_time()
    rng = random.Random(cfg.seed)
    sents = [tuple(s[: cfg.max_len]) for s in train_sents if len(s) > 0]
    if cfg.max_sentences is not None:
        idx = sorted(rng.sample(range(len(sents)), min(cfg.max_sentences, len(sents))))
        sents = [sents[i] for i in idx]
    vocab = build_vocab(sents, cfg.vocab_size)
    word_id = {w: i for i, w in enumerate(vocab)}
    opts = ElmoOptions.from_dict(cfg.options(len(vocab)))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = BiLM(opts)
        softmax = nn.Linear(model.output_dim, len(vocab))
        nn.init.normal_(softmax.weight, std=1.0 / math.sqrt(model.output_dim))
        nn.init.zeros_(softmax.bias)
        gen = torch.Generator().manual_seed(cfg.seed)
        params = list(model.parameters()) + list(softmax.parameters())
        optim = torch.optim.Adam(params, lr=cfg.lr)
        dropout = nn.Dropout(cfg.dropout)
        model.train()
        batches: list[list[int]] = []
        losses: list[float] = []
        bar = progress_bar(range(cfg.steps), desc="train ELMo biLM", disable=not progress)
        for step in bar:
            if not batches:
                batches = _batches(sents, cfg.train_batch_size, rng)
            batch = Batch([sents[i] for i in batches.pop()], word_id, opts.max_chars)
            h, y = lm_hidden(model, batch, dropout)
            loss = sampled_softmax_loss(h, y, softmax.weight, softmax.bias, cfg.n_samples, gen)
            optim.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, cfg.clip_norm)
            optim.step()
            losses.append(float(loss.detach()))
            if step % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
    train_seconds = time.time() - start
    train_cpu_seconds = time.process_time() - cpu_start
    held = [tuple(s) for s in held_sents if len(s) > 0]
    if cfg.eval_sentences is not None:
        held = held[: cfg.eval_sentences]
    ppl = perplexity(model, softmax, held, word_id)
    n_held = sum(len(s) for s in held)
    unk_rate = sum(w not in word_id for s in held for w in s) / max(n_held, 1)
    model.eval()
    meta = {
        "config": cfg.to_dict(),
        "training_version": TRAINING_VERSION,
        "perplexity": ppl,
        "held_out_sentences": len(held),
        "held_out_words": n_held,
        "held_out_unk_rate": unk_rate,
        "train_sentences": len(sents),
        "train_words": sum(len(s) for s in sents),
        "output_vocab_size": len(vocab),
        "final_train_loss_mean_last_100": float(np.mean(losses[-100:])),
        "train_seconds": train_seconds,
        "train_cpu_seconds": train_cpu_seconds,
        "eval_seconds": time.time() - start - train_seconds,
        "torch": torch.__version__,
        "torch_threads": 1,
    }
    logger.info("ELMo biLM trained in %.0fs; held-out perplexity %.1f (fw %.1f, bw %.1f)",
                train_seconds, ppl["both"], ppl["forward"], ppl["backward"])
    return model, softmax, vocab, meta


def write_files(folder: Path, model: BiLM, softmax: nn.Linear, vocab: list[str], meta: dict[str, Any]) -> None:
    """Write options.json, weights.hdf5, vocab.txt, softmax.safetensors and meta.json into ``folder``."""
    from safetensors.torch import save_file

    options = json.dumps(model.opts.raw, indent=2, sort_keys=True)
    (folder / "options.json").write_text(options, encoding="utf-8")
    save_weights(model, folder / "weights.hdf5")
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tensors = {"weight": softmax.weight.detach().contiguous(), "bias": softmax.bias.detach().contiguous()}
    save_file(tensors, str(folder / "softmax.safetensors"))
    meta = {**meta, "weights_sha256": sha256_file(folder / "weights.hdf5")}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")


def save(folder: Path, model: BiLM, softmax: nn.Linear, vocab: list[str], meta: dict[str, Any]) -> None:
    """Write the model directory atomically (see :func:`write_files`)."""
    with atomic_path(folder) as tmp:
        tmp.mkdir(parents=True)
        write_files(tmp, model, softmax, vocab, meta)


def train_to_dir(settings: ElmoTrainingSettings, train_sentences: Sequence[Sequence[str]],
                 held_out_sentences: Sequence[Sequence[str]], folder: str | Path, *,
                 progress: bool = True, extra_meta: dict[str, Any] | None = None) -> Path:
    """Train on ``train_sentences`` and save the model directory (atomically) at ``folder``."""
    model, softmax, vocab, meta = train(settings, train_sentences, held_out_sentences, progress=progress)
    save(Path(folder), model, softmax, vocab, {**meta, **(extra_meta or {})})
    return Path(folder)
