"""Words to sub-word pieces and back, for Hugging Face fast tokenizers.

The caller's words are pre-tokenized. They go to the tokenizer as words
(``is_split_into_words=True``) and the fast tokenizer's ``word_ids()`` says which pieces
belong to which word; :func:`pooling_matrix` then pools each word's pieces back into one
vector (first, mean or last piece).

Conventions (the same for every model, so results compare):

- **Byte-level BPE** (GPT-2, RoBERTa, SmolLM2, ...): in running text every word but the
  first carries its leading space (``" bank"`` -> ``Ġbank``), and the vocabulary is built on
  that form. Each word is therefore fed as ``" " + word``, so it gets the pieces it has
  mid-sentence, the first word included (we do not rely on the tokenizer's
  ``add_prefix_space`` flag: transformers 5 silently ignores it for some checkpoints).
- **Blank words** (``""``, whitespace only) produce no pieces: their vector is zeros and
  ``oov`` is True. Words whose every piece is the unknown token are ``oov`` too (their
  vector is still the model's, at the unknown token's positions).

Examples
--------
>>> pooling_matrix([(0, 1), (1, 3), (3, 3)], 4, "mean", offset=1).tolist()
[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

POOLINGS = ("first", "mean", "last")


@dataclass(frozen=True)
class WordPieces:
    """One sentence as pieces: ``ids[spans[i][0]:spans[i][1]]`` are word i's pieces.

    Attributes
    ----------
    ids : list of int
        Piece ids of the whole sentence, no special tokens.
    spans : list of (int, int)
        Per word, its [start, end) range in ``ids``; start == end when it has no pieces.
    oov : bool array, shape (n_words,)
        No pieces, or every piece is the unknown token.
    n_unknown : int
        Pieces that are the unknown token.
    """

    ids: list[int]
    spans: list[tuple[int, int]]
    oov: np.ndarray
    n_unknown: int


def is_byte_level(tokenizer: Any) -> bool:
    """True when the tokenizer's pre-tokenizer (or a part of it) is byte-level BPE."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise TypeError(
            f"{type(tokenizer).__name__} is not a fast tokenizer; ctxbench needs word_ids() from a "
            "tokenizers-backed (fast) tokenizer"
        )
    spec = json.loads(backend.to_str()).get("pre_tokenizer")
    return _has_type(spec, "ByteLevel")


def _has_type(node: Any, name: str) -> bool:
    if isinstance(node, dict):
        return node.get("type") == name or any(_has_type(v, name) for v in node.values())
    if isinstance(node, list):
        return any(_has_type(v, name) for v in node)
    return False


def tokenizer_lowercases(tokenizer: Any) -> bool:
    """Does the tokenizer's normalizer lower-case text (as uncased BERT's does)?"""
    normalizer = tokenizer.backend_tokenizer.normalizer
    return normalizer is not None and normalizer.normalize_str("A") == "a"


def special_tokens_around(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special-token ids the tokenizer puts before and after a sentence.

    ``([CLS], [SEP])`` for BERT; ``([], [])`` for GPT-2, whose tokenizer adds none.
    """
    enc = tokenizer(["a"], is_split_into_words=True, add_special_tokens=True)
    ids, wids = enc["input_ids"], enc.word_ids()
    content = [k for k, w in enumerate(wids) if w is not None]
    if not content:
        raise ValueError(f"{type(tokenizer).__name__} produced no pieces for the word 'a'")
    return list(ids[: content[0]]), list(ids[content[-1] + 1 :])


def split_words(
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    *,
    byte_level: bool,
    lowercase: bool = False,
) -> list[WordPieces]:
    """Tokenize pre-tokenized sentences and record which pieces belong to which word.

    Parameters
    ----------
    tokenizer : a fast (tokenizers-backed) transformers tokenizer
    sentences : sequence of sequences of str (non-empty sentences)
    byte_level : bool
        Feed words as ``" " + word`` (the mid-sentence form of byte-level BPE).
    lowercase : bool
        Lower-case words before tokenizing (on top of whatever the tokenizer does).
    """
    fed = []
    for words in sentences:
        row = []
        for w in words:
            if not w.strip():
                row.append("")  # blank: no pieces, whatever the tokenizer would make of it
                continue
            w = w.lower() if lowercase else w
            row.append(" " + w if byte_level else w)
        fed.append(row)
    enc = tokenizer(fed, is_split_into_words=True, add_special_tokens=False, verbose=False)
    unk = tokenizer.unk_token_id
    out = []
    for i, words in enumerate(sentences):
        ids = list(enc["input_ids"][i])
        wids = enc.word_ids(i)
        starts = [-1] * len(words)
        ends = [-1] * len(words)
        for k, w in enumerate(wids):
            if w is None:
                continue
            if starts[w] < 0:
                starts[w] = k
            elif ends[w] != k:
                raise RuntimeError(f"pieces of word {w} ({words[w]!r}) are not contiguous: {wids}")
            ends[w] = k + 1
        spans = [(s, e) if s >= 0 else (0, 0) for s, e in zip(starts, ends, strict=True)]
        is_unk = (
            np.array([t == unk for t in ids], dtype=bool) if unk is not None else np.zeros(len(ids), bool)
        )
        oov = np.array([e == s or bool(is_unk[s:e].all()) for s, e in spans], dtype=bool)
        out.append(WordPieces(ids, spans, oov, int(is_unk.sum())))
    return out


def pooling_matrix(
    spans: Sequence[tuple[int, int]], n_positions: int, pooling: str, *, offset: int = 0
) -> np.ndarray:
    """(n_words, n_positions) weights that pool each word's pieces into one row.

    ``spans`` index pieces; piece ``k`` sits at position ``offset + k`` of the model input
    (``offset`` = special tokens in front). Words without pieces get an all-zero row.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    mat = np.zeros((len(spans), n_positions), dtype=np.float32)
    for i, (s, e) in enumerate(spans):
        if e <= s:
            continue
        if pooling == "first":
            mat[i, offset + s] = 1.0
        elif pooling == "last":
            mat[i, offset + e - 1] = 1.0
        else:
            mat[i, offset + s : offset + e] = 1.0 / (e - s)
    return mat
