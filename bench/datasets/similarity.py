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

from dataclasses import dataclass
from pathlib import Path

from bench.datasets.registry import DataFile, Dataset, fetch, get_dataset, register_dataset
from bench.validation import DatasetFormatError, parse_float

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
    """Read (word1, word2, score) triples; blank lines are skipped."""
    path = Path(path)
    pairs: list[Pair] = []
    need = max(fmt.w1, fmt.w2, fmt.score) + 1
    with open(path, encoding=fmt.encoding, newline="") as f:
        for lineno, raw in enumerate(f, start=1):
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
    register_dataset(ds)
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
