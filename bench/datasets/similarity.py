"""Word-pair similarity datasets: (word1, word2, human score) triples.

One generic reader, :func:`read_pairs`, serves every set: each dataset declares its
separator, header and column positions. Malformed lines raise
:class:`~bench.validation.DatasetFormatError` naming file and line.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "pairs.txt"
>>> _ = p.write_text("tiger\\tcat\\t7.35\\nbook\\tpaper\\t7.46\\n")
>>> read_pairs(p, PairFormat())
[('tiger', 'cat', 7.35), ('book', 'paper', 7.46)]
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from bench.datasets.base import DataFile, Dataset, DatasetCollection
from bench.datasets.fetching import fetch
from bench.datasets.registry import get_dataset
from bench.validation import DatasetFormatError, parse_float, read_text

#: the datasets this module defines (listed in bench.datasets.registry.INDEX)
DATASETS = DatasetCollection()

Pair = tuple[str, str, float]


@dataclass(frozen=True)
class PairFormat:
    """How to read one pair file: separator (None = any whitespace), header lines, columns."""

    sep: str | None = "\t"
    header: int = 0
    w1: int = 0
    w2: int = 1
    score: int = 2
    encoding: str = "utf-8"


def read_pairs(path: str | Path, fmt: PairFormat) -> list[Pair]:
    """Read (word1, word2, score) triples; blank lines are skipped.

    Every data line must have as many columns as the first one (a line with a column more or
    less is damaged), and every score must be a finite number.
    """
    path = Path(path)
    pairs: list[Pair] = []
    need = max(fmt.w1, fmt.w2, fmt.score) + 1
    columns: tuple[int, int] | None = None  # (count, line) of the first data line
    text = read_text(path, fmt.encoding)
    for lineno, raw in enumerate(io.StringIO(text, newline=""), start=1):
        if lineno <= fmt.header:
            continue
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        cols = line.split(fmt.sep) if fmt.sep else line.split()
        if len(cols) < need:
            raise DatasetFormatError(
                path, lineno, f"expected at least {need} columns separated by {fmt.sep or 'whitespace'!r}, "
                f"got {len(cols)}: {line[:60]!r}"
            )
        if columns is None:
            columns = (len(cols), lineno)
        elif len(cols) != columns[0]:
            raise DatasetFormatError(
                path, lineno, f"{len(cols)} columns separated by {fmt.sep or 'whitespace'!r}, but line "
                f"{columns[1]} has {columns[0]}: {line[:60]!r}"
            )
        w1, w2 = cols[fmt.w1].strip(), cols[fmt.w2].strip()
        if not w1 or not w2:
            raise DatasetFormatError(path, lineno, "empty word")
        pairs.append((w1, w2, parse_float(cols[fmt.score].strip(), path, lineno)))
    if not pairs:
        raise DatasetFormatError(path, 0, "no pairs found (empty file?)")
    return pairs


#: name -> how its pair file is read
PAIR_FORMATS: dict[str, PairFormat] = {}


def register_pairs(ds: Dataset, fmt: PairFormat) -> None:
    DATASETS.add(ds)
    PAIR_FORMATS[ds.name] = fmt


def load_pairs(name: str) -> list[Pair]:
    """The verified pairs of similarity dataset ``name``."""
    get_dataset(name)
    if name not in PAIR_FORMATS:
        raise KeyError(f"{name!r} is not a word-pair dataset; pair datasets: {sorted(PAIR_FORMATS)}")
    return read_pairs(fetch(name, "pairs"), PAIR_FORMATS[name])


_WS353_CITE = ("Finkelstein, Gabrilovich, Matias, Rivlin, Solan, Wolfman & Ruppin 2002, Placing Search "
               "in Context: The Concept Revisited, ACM TOIS 20(1):116-131")
_WS353_URL = "http://www.cs.technion.ac.il/~gabr/resources/data/wordsim353/wordsim353.zip"
_SIMREL_URL = "http://alfonseca.org/pubs/ws353simrel.tar.gz"
_SIMREL_CITE = ("Agirre, Alfonseca, Hall, Kravalova, Pasca & Soroa 2009, A Study on Similarity and "
                "Relatedness Using Distributional and WordNet-based Approaches, NAACL-HLT 2009")

register_pairs(
    Dataset(
        "ws353", "WordSim-353 (all 353 pairs, combined.tab)",
        {"pairs": DataFile("wordsim353/wordsim353/combined.tab",
                           "1edf400ed472e796b3be562cf7970b10d749a07874a96ddc77e75fd1006b446c", _WS353_URL,
                           member="combined.tab")},
        license="no explicit license; distributed freely for research (Gabrilovich)",
        citation=_WS353_CITE, homepage="http://www.cs.technion.ac.il/~gabr/resources/data/wordsim353/",
    ),
    PairFormat(sep="\t", header=1),
)
register_pairs(
    Dataset(
        "ws353-sim", "WordSim-353 similarity subset (Agirre et al. 2009)",
        {"pairs": DataFile("wordsim353_simrel/wordsim353_sim_rel/wordsim_similarity_goldstandard.txt",
                           "f1da938998863c94e53f72f984a5c6e215f0b46c323aae8f0f4930703a339107", _SIMREL_URL,
                           member="wordsim353_sim_rel/wordsim_similarity_goldstandard.txt")},
        license="no explicit license; free for research", citation=_SIMREL_CITE,
        homepage="http://alfonseca.org/eng/research/wordsim353.html",
    ),
    PairFormat(sep="\t"),
)
register_pairs(
    Dataset(
        "ws353-rel", "WordSim-353 relatedness subset (Agirre et al. 2009)",
        {"pairs": DataFile("wordsim353_simrel/wordsim353_sim_rel/wordsim_relatedness_goldstandard.txt",
                           "66a7c88100624d0a391605ff61ce84e11d11ee620d51ec0298da49592838f8fa", _SIMREL_URL,
                           member="wordsim353_sim_rel/wordsim_relatedness_goldstandard.txt")},
        license="no explicit license; free for research", citation=_SIMREL_CITE,
        homepage="http://alfonseca.org/eng/research/wordsim353.html",
    ),
    PairFormat(sep="\t"),
)
register_pairs(
    Dataset(
        "simlex999", "SimLex-999",
        {"pairs": DataFile("simlex999/SimLex-999/SimLex-999.txt",
                           "ca00ff8515a36cde32d13c2b83def23f5a167b67db93ebfcfb7dae039ba22c0b",
                           "https://fh295.github.io/SimLex-999.zip", member="SimLex-999/SimLex-999.txt")},
        license="no explicit license; free for research, cite the paper (README)",
        citation="Hill, Reichart & Korhonen 2015, SimLex-999: Evaluating Semantic Models with (Genuine) "
                 "Similarity Estimation, Computational Linguistics 41(4)",
        homepage="https://fh295.github.io/simlex.html",
    ),
    PairFormat(sep="\t", header=1, score=3),
)


# -- more similarity sets (issue 4). Copies: the original release where the mirror has one
# (MEN, SimVerb-3500); otherwise the wordvectors.org three-column copies (Faruqui & Dyer 2014,
# github mfaruqui/eval-word-vectors), downloaded from that repository at the pinned commit so
# a download is byte-identical to the pinned sha256.
_WVO_COMMIT = "94b3dd9fdbac7ed08dbee7179cd5ee464acf0594"
_WVO_RAW = f"https://raw.githubusercontent.com/mfaruqui/eval-word-vectors/{_WVO_COMMIT}/data/word-sim/"
_WVO_NOTE = ("three-column copy (word1, word2, score) from wordvectors.org / mfaruqui/eval-word-vectors@"
             f"{_WVO_COMMIT[:12]} (Faruqui & Dyer 2014); the original release is not in the mirror")


def _wordvectors_org(name: str, title: str, mirror_dir: str, filename: str, sha256: str, *, license: str,
                     citation: str, homepage: str, notes: str = "") -> None:
    register_pairs(
        Dataset(name, title, {"pairs": DataFile(f"{mirror_dir}/wordvectors_org/{filename}", sha256,
                                                _WVO_RAW + filename)},
                license=license, citation=citation, homepage=homepage,
                notes=(notes + " " if notes else "") + _WVO_NOTE),
        PairFormat(sep="\t"),
    )


register_pairs(
    Dataset(
        "men", "MEN (3,000 pairs, natural form)",
        {"pairs": DataFile("men/MEN/MEN_dataset_natural_form_full",
                           "4596e169dd237228ca7701dde33585ca93263506ce7fca9de0f951aaab1aae36",
                           "https://staff.fnwi.uva.nl/e.bruni/resources/MEN.tar.gz",
                           member="MEN/MEN_dataset_natural_form_full")},
        license="CC BY 2.0 (MEN/licence.txt)",
        citation="Bruni, Tran & Baroni 2014, Multimodal Distributional Semantics, JAIR 49:1-47",
        homepage="https://staff.fnwi.uva.nl/e.bruni/MEN",
        notes="the original release; natural form (plain words; the lemma form appends -n/-v/-j); "
              "scores 0-50; all 3,000 pairs (the dev/test halves are not used)",
    ),
    PairFormat(sep=" "),
)
register_pairs(
    Dataset(
        "simverb3500", "SimVerb-3500",
        {"pairs": DataFile("simverb3500/SimVerb-3500/SimVerb-3500.txt",
                           "614b001640f2b0e65e243854d98e5ac3805bab527c0da723f2260b53f8b9d973",
                           "https://raw.githubusercontent.com/mrmechko/simcross/"
                           "ffc5c7598185be00260d81fd71274db32e6bceda/SimLex-3500/SimVerb-3500.txt")},
        license="no explicit license in README; free for research, cite the paper",
        citation="Gerz, Vulic, Hill, Reichart & Korhonen 2016, SimVerb-3500: A Large-Scale Evaluation Set of "
                 "Verb Similarity, EMNLP 2016",
        homepage="http://people.ds.cam.ac.uk/dsg40/simverb.html",
        notes="the pinned copy (mrmechko/simcross) is the original data/SimVerb-3500.txt with ONE added "
              "header line 'w1  w2  pos score wn'; the reader skips it (header=1), so the 3,500 pairs are "
              "the original's. Checked: the copy minus its first line has sha256 "
              "b58f68454cf9354b94ecd8bfd778ff2cc784a25fc7dca02bc695319ad2b4157e (sha1 0e79af04fd42..., the "
              "checksum gluon-nlp publishes for data/SimVerb-3500.txt in "
              "http://people.ds.cam.ac.uk/dsg40/paper/simverb/simverb-3500-data.zip).",
        extra={"pristine_sha256": "b58f68454cf9354b94ecd8bfd778ff2cc784a25fc7dca02bc695319ad2b4157e",
               "pristine_url": "http://people.ds.cam.ac.uk/dsg40/paper/simverb/simverb-3500-data.zip",
               "pristine_member": "data/SimVerb-3500.txt"},
    ),
    PairFormat(sep="\t", header=1, score=3),
)
_wordvectors_org(
    "rw", "Stanford Rare Words (RW, 2,034 pairs)", "rw", "EN-RW-STANFORD.txt",
    "5108d54dfc746f44f9c3d7e31d2857c37cf71430bc1594175a61a3b89bb0ae1f",
    license="no explicit license; free for research",
    citation="Luong, Socher & Manning 2013, Better Word Representations with Recursive Neural Networks for "
             "Morphology, CoNLL 2013",
    homepage="https://nlp.stanford.edu/~lmthang/morphoNLM/",
    notes="original: rw.zip!rw/rw.txt (13 columns incl. the 10 raters); same pairs and mean scores.",
)
_wordvectors_org(
    "rg65", "Rubenstein & Goodenough (RG-65)", "rg65", "EN-RG-65.txt",
    "c243f3a91c3f5d8cf67f21a67f6fb80bde8b6bb060851a6a48e6f2d68ec98c9f",
    license="published in the paper; no license",
    citation="Rubenstein & Goodenough 1965, Contextual correlates of synonymy, CACM 8(10):627-633",
    homepage="http://www.cs.cmu.edu/~mfaruqui/word-sim/EN-RG-65.txt",
)
_wordvectors_org(
    "mc30", "Miller & Charles (MC-30)", "mc30", "EN-MC-30.txt",
    "33ee05911496ff83d95cac351d0746c6f63b9181b605cb7d307f4daa8864511b",
    license="published in the paper; no license",
    citation="Miller & Charles 1991, Contextual correlates of semantic similarity, Language and Cognitive "
             "Processes 6(1):1-28",
    homepage="http://www.cs.cmu.edu/~mfaruqui/word-sim/EN-MC-30.txt",
)
_wordvectors_org(
    "mturk287", "MTurk-287 (Radinsky et al. 2011)", "mturk287", "EN-MTurk-287.txt",
    "a9ae3a9decb75a9700fe0cf18b048c1344774d9f40e0196baf8e34d4cd9d1ce5",
    license="no explicit license; free for research",
    citation="Radinsky, Agichtein, Gabrilovich & Markovitch 2011, A Word at a Time: Computing Word "
             "Relatedness "
             "using Temporal Semantic Analysis, WWW 2011",
    homepage="http://tx.technion.ac.il/~kirar/Datasets.html",
)
_wordvectors_org(
    "mturk771", "MTurk-771 (Halawi et al. 2012)", "mturk771", "EN-MTurk-771.txt",
    "04dc297c9e86b6fa7cf8ef0e4ba2e2c8d3399ec68d92fb7a53c0b4aae27198b5",
    license="no explicit license; free for research",
    citation="Halawi, Dror, Gabrilovich & Koren 2012, Large-scale learning of word relatedness with "
             "constraints, "
             "KDD 2012",
    homepage="http://www2.mta.ac.il/~gideon/mturk771.html",
    notes="original: MTURK-771.csv (comma-separated); this copy is tab-separated with CRLF line ends.",
)
_wordvectors_org(
    "verb143", "Verb-143 (Baker, Reichart & Korhonen 2014)", "verb143", "EN-VERB-143.txt",
    "7259e19961c81912aa4c72de0102e480b2ad2bb9f4ce97d036fbde8e1a403001",
    license="no explicit license",
    citation="Baker, Reichart & Korhonen 2014, An Unsupervised Model for Instance Level Subcategorization "
             "Acquisition, EMNLP 2014",
    homepage="http://www.wordvectors.org",
    notes="144 pairs despite the name (as distributed); inflected verb forms, scores 0-1.",
)
_wordvectors_org(
    "yp130", "YP-130 (Yang & Powers 2006)", "yp130", "EN-YP-130.txt",
    "7643fdbc6158c3424061e2cba450c71285767266ff9f3db947bfc1f1f5ce67ab",
    license="no explicit license",
    citation="Yang & Powers 2006, Verb similarity on the taxonomy of WordNet, GWC 2006",
    homepage="http://www.wordvectors.org",
)
