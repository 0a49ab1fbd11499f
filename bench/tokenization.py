"""The tokenization report: how each sub-word model cuts each dataset's words.

WordPiece (BERT family) and byte-level BPE (GPT family) are one of the differences between
the two families; this report says, per model and dataset, how many pieces a word gets,
how many words are split, and how many pieces are the unknown token — on the exact pieces
the adapter feeds its model. Models without a sub-word tokenizer (static vectors, ELMo's
characters, ULMFiT's words) have no ``tokenization_stats`` and are listed as such.

    ctxbench tokenization [--embedders a,b] [--out results]
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import embeddings
from embeddings.base import SubwordTokenizing
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


#: families whose models cut words into sub-word pieces (the others read words or characters)
SUBWORD_FAMILIES = ("bert", "gpt")
#: bump when the report's computation changes
REPORT_VERSION = "2"


def _family(name: str) -> str:
    """The family a registry name declares (no model is loaded)."""
    entry = embeddings.registry.entry(name).info()
    return entry.family


def tokenization_table(names: Sequence[str], sources: dict[str, Callable[[], Sentences]] | None = None
                       ) -> list[dict[str, Any]]:
    """One row per (model, dataset) for sub-word models; one "none" row per other model.

    Only models of a sub-word family are loaded (static, ELMo and ULMFiT models are listed from
    their registry metadata alone, so no stand-in is trained for this report).
    """
    data = {label: make() for label, make in (sources or SOURCES).items()}
    rows: list[dict[str, Any]] = []
    for name in names:
        family = _family(name)
        emb = embeddings.load(name) if family in SUBWORD_FAMILIES or "|" in family else None
        if emb is None or not isinstance(emb, SubwordTokenizing):
            rows.append({"model": name, "family": emb.family if emb is not None else family, "dataset": "-",
                         "tokenizer": "none (whole words or characters)"})
            continue
        tok = emb.tokenizer_kind()
        for label, sents in data.items():
            if not sents:
                continue
            st = emb.tokenization_stats(sents)
            rows.append({"model": name, "family": emb.family, "dataset": label, "tokenizer": tok,
                         **{k: st[k] for k in ("n_words", "pieces_per_word", "share_split",
                                               "share_unknown_pieces", "max_pieces_per_word")}})
    return rows


def inputs_key(names: Sequence[str]) -> str:
    """A hash of everything the report depends on: the models' identities, the datasets, the code."""
    from bench.datasets import get_dataset

    datasets = {n: get_dataset(n).sha256() for n in ("simlex999", "ws353", "rw", "men", "wic", "brown")}
    idents = {n: embeddings.identity(n) for n in names}
    payload = json.dumps({"models": idents, "datasets": datasets, "sources": sorted(SOURCES),
                          "version": REPORT_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def write_tokenization_report(names: Sequence[str], out_dir: str | Path, *, force: bool = False
                              ) -> tuple[list[Path], bool]:
    """Write tokenization.md/.csv; returns (files, written). Skipped when its inputs are unchanged.

    The markdown ends with a comment holding :func:`inputs_key`; when the existing file has
    the same key (and every model could be named without loading), nothing is loaded or
    written again.
    """
    import pandas as pd

    from bench.report import md_table

    out = Path(out_dir)
    files = [out / "tokenization.md", out / "tokenization.csv"]
    key = None
    if not any(embeddings.identity(n) is None for n in names):
        key = inputs_key(names)
        marker = f"<!-- inputs {key} -->"
        if not force and all(f.is_file() for f in files) and marker in files[0].read_text(encoding="utf-8"):
            return files, False
    rows = tokenization_table(names)
    df = pd.DataFrame(rows)
    with atomic_path(files[1]) as tmp:
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
            + table + "\n\n" + (f"No sub-word tokenizer: {', '.join(none)}.\n" if none else "")
            + (f"\n<!-- inputs {key} -->\n" if key else ""))
    write_text_atomic(files[0], text)
    return files, True
