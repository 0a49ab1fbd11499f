"""How a sub-word tokenizer cuts a dataset's words: the tokenization report.

WordPiece (BERT) and byte-level BPE (GPT-2, SmolLM2) cut words differently: BPE has no
unknown token (every byte is a piece) but splits rare words into more pieces; WordPiece
falls back to ``[UNK]`` for characters outside its vocabulary. :func:`tokenization_stats`
counts this on the exact pieces the adapter feeds its model (same word alignment, same
leading-space convention), so the report describes what the embeddings saw.

Examples
--------
Needs a loaded adapter, so not run as a doctest::

    stats = tokenization_stats(embeddings.load("minilm-l6"), [["Unbelievably", "muddy"]])
    stats["pieces_per_word"], stats["share_split"], stats["share_unknown_pieces"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

STAT_KEYS = (
    "n_sentences",
    "n_words",
    "n_pieces",
    "pieces_per_word",
    "share_split",
    "share_unknown_pieces",
    "share_oov_words",
    "share_no_pieces",
    "max_pieces_per_word",
)


def tokenization_stats(
    embedder: Any, sentences: Sequence[Sequence[str]], *, chunk: int = 512
) -> dict[str, Any]:
    """Counts of how ``embedder``'s tokenizer splits the words of ``sentences``.

    Parameters
    ----------
    embedder : :class:`embeddings.hf.HFEmbedder` (anything with ``word_pieces(sentences)``)
    sentences : sequence of sequences of str
    chunk : sentences tokenized per call

    Returns
    -------
    dict with ``model``, ``tokenizer`` (``byte-level BPE`` or the tokenizer model's type),
    ``vocab_size`` and :data:`STAT_KEYS`: words, pieces, mean pieces per word (over words
    with at least one piece), share of words split into more than one piece, share of
    pieces that are the unknown token, share of words marked OOV (all pieces unknown, or
    no pieces), share of words with no pieces, and the longest split.
    """
    sents = [list(s) for s in sentences if len(s) > 0]
    counts: list[np.ndarray] = []
    n_unknown = 0
    oov = 0
    for k in range(0, len(sents), chunk):
        for wp in embedder.word_pieces(sents[k : k + chunk]):
            counts.append(np.array([e - s for s, e in wp.spans], dtype=np.int64))
            n_unknown += wp.n_unknown
            oov += int(wp.oov.sum())
    per_word = np.concatenate(counts) if counts else np.zeros(0, np.int64)
    n_words = int(per_word.size)
    n_pieces = int(per_word.sum())
    with_pieces = per_word[per_word > 0]
    tok = embedder.tokenizer
    return {
        "model": embedder.name,
        "checkpoint": getattr(embedder, "checkpoint", embedder.name),
        "tokenizer": _tokenizer_kind(embedder),
        "vocab_size": int(len(tok)),
        "n_sentences": len(sents),
        "n_words": n_words,
        "n_pieces": n_pieces,
        "pieces_per_word": float(with_pieces.mean()) if with_pieces.size else 0.0,
        "share_split": float((per_word > 1).sum() / n_words) if n_words else 0.0,
        "share_unknown_pieces": float(n_unknown / n_pieces) if n_pieces else 0.0,
        "share_oov_words": float(oov / n_words) if n_words else 0.0,
        "share_no_pieces": float((per_word == 0).sum() / n_words) if n_words else 0.0,
        "max_pieces_per_word": int(per_word.max()) if n_words else 0,
    }


def _tokenizer_kind(embedder: Any) -> str:
    import json

    if getattr(embedder, "byte_level", False):
        return "byte-level BPE"
    model = json.loads(embedder.tokenizer.backend_tokenizer.to_str()).get("model", {})
    return str(model.get("type", "unknown"))
