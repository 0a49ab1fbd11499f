"""Word-analogy datasets: questions ``a : b :: c : ?`` with the expected answer ``d``, by section.

- ``google-analogy``: Mikolov et al. (2013) ``questions-words.txt`` from the word2vec
  repository, 19,544 questions in 14 sections (5 semantic, 9 syntactic ``gram*``). Lines
  ``: section`` open a section; other lines are ``a b c d``.
- ``msr-analogy``: Mikolov, Yih & Zweig (2013), 8,000 syntactic questions; the only copy
  here is vecto's CSV (``,type,word1,word2,word3,target``), whose ``type`` (e.g. ``JJ_JJR``)
  is used as the section.

Malformed lines raise :class:`~bench.validation.DatasetFormatError` naming file and line.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "q.txt"
>>> _ = p.write_text(": capital-common-countries\\nAthens Greece Baghdad Iraq\\n")
>>> read_questions_words(p)
[Question(a='Athens', b='Greece', c='Baghdad', d='Iraq', section='capital-common-countries')]
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import NamedTuple

from bench.datasets.base import DataFile, Dataset, DatasetCollection
from bench.datasets.fetching import fetch
from bench.datasets.registry import get_dataset
from bench.validation import DatasetFormatError, read_text

#: the datasets this module defines (listed in bench.datasets.registry.INDEX)
DATASETS = DatasetCollection()


class Question(NamedTuple):
    """``a`` is to ``b`` as ``c`` is to ``d``."""

    a: str
    b: str
    c: str
    d: str
    section: str


#: the semantic sections of the Google set (the other nine are syntactic, ``gram1``-``gram9``)
GOOGLE_SEMANTIC = ("capital-common-countries", "capital-world", "currency", "city-in-state", "family")


def read_questions_words(path: str | Path) -> list[Question]:
    """The word2vec ``questions-words.txt`` format (``: section`` lines, then ``a b c d``)."""
    path = Path(path)
    out: list[Question] = []
    section: str | None = None
    for lineno, raw in enumerate(io.StringIO(read_text(path), newline=None), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(":"):
            section = line[1:].strip()
            if not section:
                raise DatasetFormatError(path, lineno, "empty section name")
            continue
        if section is None:
            raise DatasetFormatError(path, lineno, "a question before the first ': section' line")
        words = line.split()
        if len(words) != 4:
            raise DatasetFormatError(path, lineno, f"expected 4 words, got {len(words)}: {line[:60]!r}")
        out.append(Question(words[0], words[1], words[2], words[3], section=section))
    if not out:
        raise DatasetFormatError(path, 0, "no questions found")
    return out


def read_vecto_csv(path: str | Path) -> list[Question]:
    """vecto's analogy CSV: ``,type,word1,word2,word3,target`` (the type is the section)."""
    path = Path(path)
    out: list[Question] = []
    rows = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = next(rows, None)
        if header is None or [h.strip() for h in header[1:6]] != [
            "type",
            "word1",
            "word2",
            "word3",
            "target",
        ]:
            raise DatasetFormatError(
                path, 1, f"expected header ',type,word1,word2,word3,target', got {str(header)[:120]}"
            )
        for row in rows:
            if not row:
                continue
            if len(row) != 6:
                raise DatasetFormatError(path, rows.line_num, f"expected 6 columns, got {len(row)}")
            _, section, a, b, c, d = (x.strip() for x in row)
            if not all((section, a, b, c, d)):
                raise DatasetFormatError(path, rows.line_num, "empty field")
            out.append(Question(a, b, c, d, section))
    except csv.Error as e:  # a field over the csv module's size limit, a stray quote at the end ...
        raise DatasetFormatError(path, rows.line_num, f"not valid CSV: {e}") from None
    if not out:
        raise DatasetFormatError(path, 0, "no questions found")
    return out


_READERS = {"google-analogy": read_questions_words, "msr-analogy": read_vecto_csv}


def load_questions(name: str) -> list[Question]:
    """The verified questions of analogy dataset ``name``, in file order."""
    get_dataset(name)
    if name not in _READERS:
        raise KeyError(f"{name!r} is not an analogy dataset; analogy datasets: {sorted(_READERS)}")
    return _READERS[name](fetch(name, "questions"))


DATASETS.add(
    Dataset(
        "google-analogy",
        "Google analogy test set (questions-words.txt, 19,544 questions)",
        {
            "questions": DataFile(
                "google_analogy/word2vec/questions-words.txt",
                "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
                "https://raw.githubusercontent.com/tmikolov/word2vec/20c129af10659f7c50e86e3be406df663beff438/"
                "questions-words.txt",
            )
        },
        license="Apache-2.0 (word2vec repository LICENSE)",
        citation="Mikolov, Chen, Corrado & Dean 2013, Efficient Estimation of Word Representations in Vector "
        "Space, arXiv:1301.3781",
        homepage="https://code.google.com/archive/p/word2vec/",
        notes="the file distributed with word2vec (identical to gensim's test copy); 14 sections, of which "
        "the first five are semantic and the nine gram* sections syntactic",
    )
)
DATASETS.add(
    Dataset(
        "msr-analogy",
        "MSR syntactic analogies (8,000 questions)",
        {
            "questions": DataFile(
                "msr_analogy/vecto/msr.csv",
                "1f20d6f2ff22bcc6cb03148ac39c82cf9327befa4c15bb034a44ac91a74f1d44",
                "https://raw.githubusercontent.com/vecto-ai/word-benchmarks/9b61d0e067e2/"
                "word-analogy/monolingual/en/msr.csv",
            )
        },
        license="research use (Microsoft Research)",
        citation="Mikolov, Yih & Zweig 2013, Linguistic Regularities in Continuous Space Word "
        "Representations, "
        "NAACL 2013",
        homepage="https://www.microsoft.com/en-us/download/details.aspx?id=52426",
        notes="the only copy available is vecto-ai/word-benchmarks' CSV re-packaging (the original "
        "release is a word list plus answer file); its 'type' column (e.g. JJ_JJR) is the section",
    )
)
