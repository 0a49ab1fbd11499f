"""Sentence classification datasets of SentEval's transfer tasks: MR, CR, SUBJ, MPQA, TREC, SST-2.

Which copy, and why
-------------------
- **MR, CR, SUBJ, MPQA**: SentEval's copies (facebookresearch/SentEval
  ``data/downstream/get_transfer_data.bash`` runs the NBSVM release ``datasmall_NB_ACL12.zip``
  through its PTB-style ``tokenizer.sed``): one tokenized, mostly lower-cased sentence per
  line, one file per class. No train/test split: SentEval scores them by 10-fold
  cross-validation, so their only split here is ``"all"``.
- **TREC** (Li & Roth 2002): the original CogComp files ``train_5500.label`` (5,452
  questions) and ``TREC_10.label`` (500), byte-identical to the checksums Hugging Face
  ``datasets`` records for those URLs. Each line is ``COARSE:fine question words``; the label
  is the COARSE class (6 classes). SentEval's copy deletes every backtick and apostrophe
  (``sed`` in its download script), which merges ``'s`` into the previous token; the
  original keeps them, so it is used here. The files are Latin-1 (one byte, 0xF0 in
  ``sister\\xf0city``, is not UTF-8) and are decoded as Latin-1, as SentEval does.
- **SST-2** (Socher et al. 2013; GLUE): train = GLUE ``SST-2/train.tsv`` (67,349 phrases and
  sentences, header ``sentence<TAB>label``), dev = GLUE ``SST-2/dev.tsv`` (872 sentences,
  same header), test = SentEval's labelled binary test set ``sentiment-test`` (1,821
  sentences, no header; GLUE withholds its test labels). The mirror's ``sst2/SST-2/dev.tsv``
  came from a repository that calls it ``test.tsv`` (forest-snow/alps); its content is
  GLUE's dev set: it is SentEval's ``sentiment-dev`` plus the GLUE header, byte for byte.
  The mirror's ``train.tsv`` is SentEval's ``sentiment-train`` plus that header, which is
  byte-identical to GLUE's ``train.tsv`` (MANIFEST notes), so it is the pristine GLUE file.

Tokenisation
------------
Every copy is already tokenized (PTB-style: ``n't``, ``'s`` and punctuation are separate
tokens), so a sentence is ``line.split()``: whitespace-separated tokens, exactly as SentEval
reads them. Case is left as it is in the copy (SentEval's MR/CR/SUBJ/MPQA and GLUE's SST-2
are lower case apart from a few hundred MR/SUBJ lines; TREC is cased): lower-casing is the
embedder's option, not the dataset's.

Strictness
----------
A line that cannot be read raises :class:`~bench.validation.DatasetFormatError` naming
file and line: bytes that do not decode, a wrong column count, a label outside the
dataset's set, a wrong header, an empty sentence. The one exception is a list of blank
lines pinned per file (the files are sha256-pinned, so the list is exact): CR has 4 and
MPQA 3 blank lines that SentEval reads as empty sentences and the literature counts
(CR 3,775, MPQA 10,606). They are dropped and listed in :attr:`ClassificationData.skipped`,
so ``len(data) + len(data.skipped)`` is the published count.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.pos"
>>> _ = p.write_text("a gripping , funny film .\\nflat\\n")
>>> read_sentences(p, 1)
[(1, ('a', 'gripping', ',', 'funny', 'film', '.'), 1), (2, ('flat',), 1)]
>>> _ = p.write_text("ok\\n\\nfine\\n")
>>> read_sentences(p, 1)
Traceback (most recent call last):
...
bench.validation.DatasetFormatError: ...x.pos:2: empty sentence (a blank line)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.datasets.base import DataFile, Dataset, DatasetCollection
from bench.datasets.fetching import fetch
from bench.datasets.registry import get_dataset
from bench.validation import DatasetFormatError

#: the datasets this module defines (listed in bench.datasets.registry.INDEX)
DATASETS = DatasetCollection()

__all__ = [
    "ClassificationData",
    "SPLITS",
    "LABEL_NAMES",
    "load_classification",
    "read_sentences",
    "read_tsv",
    "read_trec",
    "TREC_CLASSES",
]

Row = tuple[int, tuple[str, ...], int]  # (line number, tokens, label index)

TREC_CLASSES = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
_SENTIMENT = ("negative", "positive")

#: label names per dataset; a label is its index in this tuple
LABEL_NAMES: dict[str, tuple[str, ...]] = {
    "mr": _SENTIMENT,
    "cr": _SENTIMENT,
    "subj": ("objective", "subjective"),
    "mpqa": _SENTIMENT,
    "trec": TREC_CLASSES,
    "sst2": _SENTIMENT,
}
#: splits per dataset; ``"all"`` marks a dataset scored by cross-validation
SPLITS: dict[str, tuple[str, ...]] = {
    "mr": ("all",),
    "cr": ("all",),
    "subj": ("all",),
    "mpqa": ("all",),
    "trec": ("train", "test"),
    "sst2": ("train", "dev", "test"),
}
_GLUE_HEADER = "sentence\tlabel"


@dataclass(frozen=True)
class ClassificationData:
    """One split of a sentence classification dataset.

    Attributes
    ----------
    name, split : str
        Dataset name (``mr``...) and split (``all``, ``train``, ``dev``, ``test``).
    sentences : tuple of tuple of str
        Tokenized sentences, never empty.
    labels : tuple of int
        Label of each sentence: an index into ``label_names``.
    label_names : tuple of str
        Class names, in label order.
    ids : tuple of str
        ``<name>:<file key>:<line>``, unique and stable across runs (the files are pinned).
    skipped : tuple of str
        ``<file key>:<line>`` of the pinned blank lines that were dropped.
    """

    name: str
    split: str
    sentences: tuple[tuple[str, ...], ...]
    labels: tuple[int, ...]
    label_names: tuple[str, ...]
    ids: tuple[str, ...]
    skipped: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (len(self.sentences) == len(self.labels) == len(self.ids)):
            raise ValueError(
                f"{self.name}/{self.split}: {len(self.sentences)} sentences, {len(self.labels)} labels, "
                f"{len(self.ids)} ids; they must be aligned"
            )
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"{self.name}/{self.split}: item ids are not unique")

    def __len__(self) -> int:
        return len(self.sentences)

    @property
    def y(self) -> np.ndarray:
        """The labels as an int64 array, shape (n,)."""
        return np.asarray(self.labels, dtype=np.int64)


# -- parsers ---------------------------------------------------------------------------
def _lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    """(line number, text without the line end); bytes are decoded line by line, strictly."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as e:
                raise DatasetFormatError(
                    path, lineno, f"bytes {raw[e.start:e.end]!r} at column {e.start + 1} are not valid {encoding}"
                ) from None
            yield lineno, text.rstrip("\n").rstrip("\r")


def _tokens(text: str, path: Path, lineno: int) -> tuple[str, ...]:
    tokens = tuple(text.split())
    if not tokens:
        raise DatasetFormatError(path, lineno, "empty sentence" + (" (a blank line)" if not text else ""))
    return tokens


def read_sentences(
    path: str | Path, label: int, *, encoding: str = "utf-8", known_blank: frozenset[int] = frozenset()
) -> list[Row]:
    """Read a one-sentence-per-line file whose sentences all have class ``label``.

    Parameters
    ----------
    path : str or Path
        The file (SentEval's ``rt-polarity.pos`` and the like).
    label : int
        The class of every line.
    encoding : str
        Decoding, strict.
    known_blank : frozenset of int
        Line numbers that are blank in the pinned copy and are skipped; any other blank
        line is an error.

    Returns
    -------
    list of (line number, tokens, label)
    """
    path = Path(path)
    rows: list[Row] = []
    for lineno, text in _lines(path, encoding):
        if lineno in known_blank and not text.strip():
            continue
        if "\t" in text:
            raise DatasetFormatError(path, lineno, "a tab in a one-sentence-per-line file (is this a TSV file?)")
        rows.append((lineno, _tokens(text, path, lineno), label))
    if not rows:
        raise DatasetFormatError(path, 0, "no sentences (empty file?)")
    return rows


def read_tsv(path: str | Path, *, header: str | None = None, encoding: str = "utf-8") -> list[Row]:
    """Read ``sentence <TAB> label`` lines with labels ``0`` / ``1`` (GLUE SST-2, SentEval SST).

    ``header``, when given, must be the exact first line (GLUE's ``sentence<TAB>label``).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "dev.tsv"
    >>> _ = p.write_text("sentence\\tlabel\\nit 's charming . \\t1\\n")
    >>> read_tsv(p, header="sentence\\tlabel")
    [(2, ('it', "'s", 'charming', '.'), 1)]
    """
    path = Path(path)
    rows: list[Row] = []
    for lineno, text in _lines(path, encoding):
        if lineno == 1 and header is not None:
            if text != header:
                raise DatasetFormatError(path, 1, f"expected the header {header!r}, got {text[:60]!r}")
            continue
        cols = text.split("\t")
        if len(cols) != 2:
            raise DatasetFormatError(
                path, lineno, f"expected 2 tab-separated columns (sentence, label), got {len(cols)}: {text[:60]!r}"
            )
        sentence, label = cols
        if label.strip() not in ("0", "1"):
            raise DatasetFormatError(path, lineno, f"label {label!r} is not 0 or 1")
        rows.append((lineno, _tokens(sentence, path, lineno), int(label)))
    if not rows:
        raise DatasetFormatError(path, 0, "no sentences (empty file?)")
    return rows


def read_trec(path: str | Path, *, encoding: str = "latin-1") -> list[Row]:
    """Read TREC question classification lines ``COARSE:fine question words``; label = COARSE.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "TREC.test"
    >>> _ = p.write_text("NUM:dist How far is it from Denver to Aspen ?\\n")
    >>> (lineno, tokens, label), = read_trec(p)
    >>> TREC_CLASSES[label], tokens[:3]
    ('NUM', ('How', 'far', 'is'))
    """
    path = Path(path)
    rows: list[Row] = []
    for lineno, text in _lines(path, encoding):
        tag, _, question = text.partition(" ")
        coarse, colon, fine = tag.partition(":")
        if not colon or not fine:
            raise DatasetFormatError(path, lineno, f"expected 'COARSE:fine question', got {text[:60]!r}")
        if coarse not in TREC_CLASSES:
            raise DatasetFormatError(path, lineno, f"unknown class {coarse!r}; classes: {', '.join(TREC_CLASSES)}")
        rows.append((lineno, _tokens(question, path, lineno), TREC_CLASSES.index(coarse)))
    if not rows:
        raise DatasetFormatError(path, 0, "no questions (empty file?)")
    return rows


# -- the registry entries --------------------------------------------------------------
_QNN = "https://raw.githubusercontent.com/FreedomIntelligence/qnn/77f549372d4371e7f2d52e77bc18df5096dd4779/data/"
_SIF = "https://raw.githubusercontent.com/PrincetonML/SIF/84b5b4c1c1ca20b6af19fc78cae005a1818ec571/data/"
_GLUE_SST2 = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"
_TREC = "https://cogcomp.seas.upenn.edu/Data/QA/QC/"
_SENTEVAL_NOTE = (
    "SentEval's tokenized copy (facebookresearch/SentEval data/downstream/get_transfer_data.bash: "
    "datasmall_NB_ACL12.zip through tokenizer.sed); pinned download: FreedomIntelligence/qnn@77f549372d43, "
    "byte-identical to the mirror copy. "
)
_SST_CITE = (
    "Socher, Perelygin, Wu, Chuang, Manning, Ng & Potts 2013, Recursive Deep Models for Semantic "
    "Compositionality Over a Sentiment Treebank, EMNLP 2013; Wang, Singh, Michael, Hill, Levy & Bowman 2019, "
    "GLUE: A Multi-Task Benchmark and Analysis Platform for Natural Language Understanding, ICLR 2019"
)

#: dataset -> file key -> (reader kind, label or None, pinned blank lines)
_LAYOUT: dict[str, dict[str, tuple[str, int | None, frozenset[int]]]] = {
    "mr": {"neg": ("lines", 0, frozenset()), "pos": ("lines", 1, frozenset())},
    "cr": {"neg": ("lines", 0, frozenset({769, 1368})), "pos": ("lines", 1, frozenset({2323, 2407}))},
    "subj": {"objective": ("lines", 0, frozenset()), "subjective": ("lines", 1, frozenset())},
    "mpqa": {"neg": ("lines", 0, frozenset({6415, 7294})), "pos": ("lines", 1, frozenset({3312}))},
    "trec": {"train": ("trec", None, frozenset()), "test": ("trec", None, frozenset())},
    "sst2": {"train": ("glue", None, frozenset()), "dev": ("glue", None, frozenset()),
             "test": ("tsv", None, frozenset())},
}

DATASETS.add(Dataset(
    "mr", "MR: movie review snippet polarity (Pang & Lee 2005), SentEval copy",
    {"neg": DataFile("mr/senteval/MR/rt-polarity.neg",
                     "c4ac36eaa8adc8ee31c31f69594bfbe68d83ef5b6db53f1f19b28c0be52f3999", _QNN + "MR/rt-polarity.neg"),
     "pos": DataFile("mr/senteval/MR/rt-polarity.pos",
                     "34e5b0da2d491e46b700b00afe735aaae0962bcfe4f7f22b2d8077e714fa370f", _QNN + "MR/rt-polarity.pos")},
    license="CC BY 4.0 (per NLTK nltk_data package metadata for the original release)",
    citation="Pang & Lee 2005, Seeing stars: Exploiting class relationships for sentiment categorization with "
             "respect to rating scales, ACL 2005",
    homepage="https://www.cs.cornell.edu/people/pabo/movie-review-data/",
    notes=_SENTEVAL_NOTE + "5,331 positive + 5,331 negative = 10,662 sentences; scored by 10-fold CV.",
))
DATASETS.add(Dataset(
    "cr", "CR: customer review sentence polarity (Hu & Liu 2004), SentEval copy",
    {"neg": DataFile("cr/senteval/CR/custrev.neg",
                     "ec94532766f6f962094841ab3bee2ad6f232f996c3756825a91e78bcc294750f", _QNN + "CR/custrev.neg"),
     "pos": DataFile("cr/senteval/CR/custrev.pos",
                     "91a20a4ffeb5d38a39a4087bb247e16538aff21e7d621ae59738379f39f21732", _QNN + "CR/custrev.pos")},
    license="CC BY 4.0 (per NLTK nltk_data package metadata for the original release)",
    citation="Hu & Liu 2004, Mining and Summarizing Customer Reviews, KDD 2004",
    homepage="https://www.cs.uic.edu/~liub/FBS/sentiment-analysis.html",
    notes=_SENTEVAL_NOTE + "3,775 lines (the published count) of which 4 are blank (neg 769, 1368; pos 2323, "
          "2407) and dropped: 3,771 sentences.",
))
DATASETS.add(Dataset(
    "subj", "SUBJ: subjectivity of movie sentences (Pang & Lee 2004), SentEval copy",
    {"objective": DataFile("subj/senteval/SUBJ/subj.objective",
                           "d8ccd43f1674f1c17e4ab717564e3561cfb719b0db4cfb19e5677427c68ff8a1",
                           _QNN + "SUBJ/subj.objective"),
     "subjective": DataFile("subj/senteval/SUBJ/subj.subjective",
                            "274c2ffe59c204dc4df779848561786f59a98cc20dda3cfdd7d9f76a4f730710",
                            _QNN + "SUBJ/subj.subjective")},
    license="CC BY 4.0 (per NLTK nltk_data package metadata for the original release)",
    citation="Pang & Lee 2004, A Sentimental Education: Sentiment Analysis Using Subjectivity Summarization "
             "Based on Minimum Cuts, ACL 2004",
    homepage="https://www.cs.cornell.edu/people/pabo/movie-review-data/",
    notes=_SENTEVAL_NOTE + "objective = plot summaries, subjective = review quotes; 5,000 each.",
))
DATASETS.add(Dataset(
    "mpqa", "MPQA: opinion polarity of phrases (Wiebe et al. 2005), SentEval copy",
    {"neg": DataFile("mpqa/senteval/MPQA/mpqa.neg",
                     "8da6e035fa4cea02f0555091096b29a6b3995ff0adf41fad25008dcee066b79e", _QNN + "MPQA/mpqa.neg"),
     "pos": DataFile("mpqa/senteval/MPQA/mpqa.pos",
                     "7487dbb74c77383e60b292845495163a9e21fb70a4fdacdda933413e43163f0d", _QNN + "MPQA/mpqa.pos")},
    license="MPQA corpus terms (GNU GPL per mpqa.cs.pitt.edu) - verify",
    citation="Wiebe, Wilson & Cardie 2005, Annotating expressions of opinions and emotions in language, "
             "Language Resources and Evaluation 39(2-3)",
    homepage="https://mpqa.cs.pitt.edu/",
    notes=_SENTEVAL_NOTE + "10,606 lines (the published count) of which 3 are blank (neg 6415, 7294; pos 3312) "
          "and dropped: 10,603 phrases.",
))
DATASETS.add(Dataset(
    "trec", "TREC question classification (Li & Roth 2002), 6 coarse classes",
    {"train": DataFile("trec/harvardnlp_raw/TREC.train",
                       "9e4c8bdcaffb96ed61041bd64b564183d52793a8e91d84fc3a8646885f466ec3", _TREC + "train_5500.label"),
     "test": DataFile("trec/harvardnlp_raw/TREC.test",
                      "033f22c028c2bbba9ca682f68ffe204dc1aa6e1cf35dd6207f2d4ca67f0d0e8e", _TREC + "TREC_10.label")},
    license="no explicit license (research use)",
    citation="Li & Roth 2002, Learning Question Classifiers, COLING 2002",
    homepage="https://cogcomp.seas.upenn.edu/Data/QA/QC/",
    notes="the original train_5500.label (5,452) and TREC_10.label (500), Latin-1; the mirror's copies "
          "(harvardnlp/sent-conv-torch@d61ded09c99c data/raw) have the sha256 Hugging Face datasets records for "
          "the CogComp URLs. SentEval's copy deletes backticks and apostrophes; this one does not.",
))
DATASETS.add(Dataset(
    "sst2", "SST-2: binary sentiment (GLUE train/dev; SentEval's labelled 1,821-sentence test)",
    {"train": DataFile("sst2/SST-2/train.tsv",
                       "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1", _GLUE_SST2,
                       member="SST-2/train.tsv"),
     "dev": DataFile("sst2/SST-2/dev.tsv",
                     "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0", _GLUE_SST2,
                     member="SST-2/dev.tsv"),
     "test": DataFile("sst2/senteval/SST/binary/sentiment-test",
                      "4fefd1cd67526cf87ebc7fafc3afc21cc7cfa6ae53b45e74f77f9456e3c62752", _SIF + "sentiment-test")},
    license="no explicit license (research use; GLUE redistribution)",
    citation=_SST_CITE,
    homepage="https://nlp.stanford.edu/sentiment/",
    notes="train: GLUE train.tsv (67,349 phrases; the mirror copy is SentEval's sentiment-train plus GLUE's "
          "header, byte-identical to GLUE's file). dev: GLUE dev.tsv (872; the mirror's source repository "
          "forest-snow/alps calls it test.tsv; it equals SentEval's sentiment-dev plus the header). test: "
          "SentEval's sentiment-test (1,821 sentences with labels; GLUE withholds its test labels), downloaded "
          "from PrincetonML/SIF at a pinned commit, the URL SentEval's download script uses.",
))


def load_classification(name: str, split: str | None = None) -> ClassificationData:
    """The verified sentences and labels of one split of ``name``.

    Parameters
    ----------
    name : str
        ``mr``, ``cr``, ``subj``, ``mpqa``, ``trec`` or ``sst2``.
    split : str, optional
        One of :data:`SPLITS` ``[name]``; may be left out for the cross-validation datasets
        (their one split is ``"all"``).

    Returns
    -------
    ClassificationData
        Items in file order (for ``all``: the files in label order).
    """
    if name not in _LAYOUT:
        get_dataset(name)  # an unknown name gets the registry's did-you-mean
        raise KeyError(f"{name!r} is not a classification dataset; classification datasets: {sorted(_LAYOUT)}")
    splits = SPLITS[name]
    if split is None:
        if len(splits) != 1:
            raise ValueError(f"{name} has the splits {splits}; say which one (split=...)")
        split = splits[0]
    if split not in splits:
        raise ValueError(f"{name} has no split {split!r}; splits: {splits}")
    keys = list(_LAYOUT[name]) if split == "all" else [split]
    sentences: list[tuple[str, ...]] = []
    labels: list[int] = []
    ids: list[str] = []
    skipped: list[str] = []
    for key in keys:
        kind, label, blank = _LAYOUT[name][key]
        path = fetch(name, key)
        if kind == "lines":
            assert label is not None
            rows = read_sentences(path, label, known_blank=blank)
            skipped += [f"{key}:{n}" for n in sorted(blank - {row[0] for row in rows})]
        elif kind == "trec":
            rows = read_trec(path)
        else:
            rows = read_tsv(path, header=_GLUE_HEADER if kind == "glue" else None)
        for lineno, tokens, y in rows:
            sentences.append(tokens)
            labels.append(y)
            ids.append(f"{name}:{key}:{lineno}")
    return ClassificationData(name, split, tuple(sentences), tuple(labels), LABEL_NAMES[name], tuple(ids),
                              tuple(skipped))
