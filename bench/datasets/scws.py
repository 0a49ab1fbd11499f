"""SCWS, Stanford's Contextual Word Similarities (Huang et al. 2012).

``ratings.txt`` has one tab-separated line per pair: ``id, word1, POS1, word2, POS2,
context1, context2, average rating, 10 individual ratings``. In each context the target
word is marked ``<b> word </b>`` (markers and word separated by spaces). The contexts are
whitespace-tokenized here; the markers are removed and the target's position kept.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "ratings.txt"
>>> ctx1, ctx2 = "the <b> bank </b> of the river", "a <b> bank </b> loan"
>>> _ = p.write_text("\\t".join(["1", "bank", "n", "bank", "n", ctx1, ctx2, "2.5"] + ["2.5"] * 10) + "\\n")
>>> item = read_scws(p)[0]
>>> item.context1, item.index1, item.rating
(('the', 'bank', 'of', 'the', 'river'), 1, 2.5)
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from bench.datasets.base import DataFile, Dataset, DatasetCollection
from bench.datasets.fetching import fetch
from bench.validation import DatasetFormatError, parse_float, read_text

#: the datasets this module defines (listed in bench.datasets.registry.INDEX)
DATASETS = DatasetCollection()

__all__ = ["SCWSItem", "read_scws", "load_scws"]

#: the scale of the human ratings (Huang et al. 2012: 0 to 10)
RATING_RANGE = (0.0, 10.0)

SCWS = DATASETS.add(
    Dataset(
        "scws",
        "SCWS: Stanford's Contextual Word Similarities (2,003 pairs in context)",
        {
            "ratings": DataFile(
                "scws/SCWS/ratings.txt",
                "b371cee6142e6be9fad9129a2b6cc7e3b945b7bc931b355051043fb438c16000",
                "http://ai.stanford.edu/~ehhuang/SCWS.zip",
                member="SCWS/ratings.txt",
            )
        },
        license="no explicit license (README asks to cite); research use",
        citation="Huang, Socher, Manning & Ng 2012, Improving Word Representations via Global Context "
        "and Multiple Word Prototypes, ACL 2012",
        homepage="http://ai.stanford.edu/~ehhuang/",
    )
)


@dataclass(frozen=True)
class SCWSItem:
    """One SCWS pair: two words, each in its tokenized context, and the mean human rating (0-10)."""

    id: str
    word1: str
    word2: str
    context1: tuple[str, ...]
    index1: int
    context2: tuple[str, ...]
    index2: int
    rating: float


def _locate(context: str, path: str | Path, lineno: int, which: str) -> tuple[tuple[str, ...], int]:
    tokens = context.split()
    if tokens.count("<b>") != 1 or tokens.count("</b>") != 1:
        raise DatasetFormatError(
            path,
            lineno,
            f"{which}: expected one '<b> word </b>' marker, found "
            f"{tokens.count('<b>')} '<b>' and {tokens.count('</b>')} '</b>'",
        )
    start, end = tokens.index("<b>"), tokens.index("</b>")
    if end != start + 2:
        raise DatasetFormatError(
            path,
            lineno,
            f"{which}: expected exactly one token between <b> and </b>, got {tokens[start + 1 : end]}",
        )
    return tuple(tokens[:start] + tokens[start + 1 : end] + tokens[end + 1 :]), start


def read_scws(path: str | Path) -> list[SCWSItem]:
    """Read ``ratings.txt``; a malformed line raises :class:`DatasetFormatError` with file:line."""
    items = []
    seen: dict[str, int] = {}  # id -> line: the ids key the items downstream
    for lineno, raw in enumerate(io.StringIO(read_text(path), newline=None), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 8:
            raise DatasetFormatError(
                path, lineno, f"expected at least 8 tab-separated columns, got {len(cols)}"
            )
        if not cols[0].strip():
            raise DatasetFormatError(path, lineno, "empty id")
        t1, i1 = _locate(cols[5], path, lineno, "context1")
        t2, i2 = _locate(cols[6], path, lineno, "context2")
        for tokens, i, word in ((t1, i1, cols[1]), (t2, i2, cols[3])):
            if tokens[i].lower() != word.lower():
                raise DatasetFormatError(
                    path, lineno, f"marked token {tokens[i][:40]!r} is not the word {word[:40]!r}"
                )
        rating = parse_float(cols[7], path, lineno, "average rating")
        if not RATING_RANGE[0] <= rating <= RATING_RANGE[1]:
            raise DatasetFormatError(path, lineno, f"average rating {rating} is outside {RATING_RANGE}")
        if cols[0] in seen:
            raise DatasetFormatError(path, lineno, f"id {cols[0][:20]!r} already used on line {seen[cols[0]]}")
        seen[cols[0]] = lineno
        items.append(SCWSItem(cols[0], cols[1], cols[3], t1, i1, t2, i2, rating))
    if not items:
        raise DatasetFormatError(path, 0, "no pairs (empty file?)")
    return items


def load_scws() -> list[SCWSItem]:
    """The verified 2,003 SCWS pairs."""
    return read_scws(fetch("scws", "ratings"))
