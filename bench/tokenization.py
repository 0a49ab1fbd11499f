"""The tokenization report: how each sub-word model cuts each dataset's words.

WordPiece (BERT family) and byte-level BPE (GPT family) are one of the differences between
the two families; this report says, per model and dataset, how many pieces a word gets,
how many words are split, and how many pieces are the unknown token — on the exact pieces
the adapter feeds its model. Models without a sub-word tokenizer (static vectors, ELMo's
characters, ULMFiT's words) have no ``tokenization_stats`` and are listed as such.

    ctxbench tokenization [--embedders a,b] [--out results]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import embeddings
from embeddings.support.files import atomic_path, write_text_atomic

logger = logging.getLogger(__name__)

Sentences = list[list[str]]


def _pair_words(name: str) -> Sentences:
    from bench.datasets.similarity import load_pairs

    words = sorted({w for a, b, _ in load_pairs(name) for w in (a, b)})
    return [[w] for w in words]


def _wic_sentences() -> Sentences:
    from bench.datasets.wic import load_wic

    return [list(s) for item in load_wic("test") for s in (item.sentence1, item.sentence2)]


def _brown_held_out() -> Sentences:
    from bench.datasets.corpora import brown_split

    return [list(s) for s in brown_split()[1][:2000]]


#: dataset label -> sentences (single words for the similarity sets)
SOURCES: dict[str, Callable[[], Sentences]] = {
    "simlex999 (words)": lambda: _pair_words("simlex999"),
    "ws353 (words)": lambda: _pair_words("ws353"),
    "rw (rare words)": lambda: _pair_words("rw"),
    "men (words)": lambda: _pair_words("men"),
    "wic test (sentences)": _wic_sentences,
    "brown held-out (2,000 sentences)": _brown_held_out,
}


def _tokenizer_kind(emb: Any) -> str:
    """'WordPiece', 'BPE (byte-level)', ...: the tokenizer's model, not its wrapper class."""
    tokenizer = getattr(emb, "tokenizer", None)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return type(tokenizer).__name__ if tokenizer is not None else type(emb).__name__
    kind = type(backend.model).__name__
    return f"{kind} (byte-level)" if getattr(emb, "byte_level", False) else kind


def tokenization_table(names: Sequence[str], sources: dict[str, Callable[[], Sentences]] | None = None
                       ) -> list[dict[str, Any]]:
    """One row per (model, dataset) for models with ``tokenization_stats``."""
    data = {label: make() for label, make in (sources or SOURCES).items()}
    rows: list[dict[str, Any]] = []
    for name in names:
        emb = embeddings.load(name)
        stats_fn = getattr(emb, "tokenization_stats", None)
        if stats_fn is None:
            rows.append({"model": name, "family": emb.family, "dataset": "-", "tokenizer": "none (whole words "
                         "or characters)"})
            continue
        tok = _tokenizer_kind(emb)
        for label, sents in data.items():
            if not sents:
                continue
            st = stats_fn(sents)
            rows.append({"model": name, "family": emb.family, "dataset": label, "tokenizer": tok,
                         **{k: st[k] for k in ("n_words", "pieces_per_word", "share_split",
                                               "share_unknown_pieces", "max_pieces_per_word")}})
    return rows


def write_tokenization_report(names: Sequence[str], out_dir: str | Path) -> list[Path]:
    import pandas as pd

    from bench.report import md_table

    out = Path(out_dir)
    rows = tokenization_table(names)
    df = pd.DataFrame(rows)
    with atomic_path(out / "tokenization.csv") as tmp:
        df.to_csv(tmp, index=False)
    sub = [r for r in rows if r["dataset"] != "-"]
    table = md_table(["model", "family", "tokenizer", "dataset", "words", "pieces/word", "% words split",
                      "% unknown pieces", "max pieces"],
                     [[r["model"], r["family"], r["tokenizer"], r["dataset"], str(r["n_words"]),
                       f"{r['pieces_per_word']:.3f}", f"{100 * r['share_split']:.2f}",
                       f"{100 * r['share_unknown_pieces']:.2f}", str(r["max_pieces_per_word"])] for r in sub])
    none = [r["model"] for r in rows if r["dataset"] == "-"]
    text = ("# Tokenization: WordPiece vs byte-level BPE\n\nHow each sub-word model cuts the words it is "
            "given (the exact pieces the adapter feeds the model; similarity sets: each word alone, with "
            "the same leading-space convention as in running text). Reproduce: `ctxbench tokenization`.\n\n"
            + table + "\n\n" + (f"No sub-word tokenizer: {', '.join(none)}.\n" if none else ""))
    write_text_atomic(out / "tokenization.md", text)
    return [out / "tokenization.md", out / "tokenization.csv"]
