"""Raw-text corpora: for training the project's stand-in models and for context samples.

The Brown corpus (Francis & Kucera 1964/1979) as NLTK distributes it: 500 files of
tagged text, one sentence per line, ``word/tag`` tokens. :func:`brown_sentences` gives the
words with tags stripped, in file order (deterministic).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path

from bench.datasets.base import DataFile, Dataset, DatasetCollection
from bench.datasets.fetching import fetch
from bench.validation import DatasetFormatError

#: the datasets this module defines (listed in bench.datasets.registry.INDEX)
DATASETS = DatasetCollection()

BROWN = DATASETS.add(
    Dataset(
        name="brown",
        title="Brown Corpus (NLTK distribution)",
        files={
            "zip": DataFile(
                "corpus_brown/nltk_data/brown.zip",
                "9b275f9b3b95d7bd66ccfb7cd259f445a13bbe5d1f4107aba09fd3e8364bafa6",
                "https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/corpora/brown.zip",
            )
        },
        license="May be used for non-commercial purposes (NLTK metadata)",
        citation="Francis & Kucera 1979, Brown Corpus Manual, Brown University",
        homepage="https://www.nltk.org/nltk_data/",
    )
)


@lru_cache(maxsize=2)
def brown_sentences(lowercase: bool = False) -> tuple[tuple[str, ...], ...]:
    """All 57,840 Brown sentences as word tuples, tags removed, in file order.

    Returns a tuple (immutable, cached): copy before changing.
    """
    return tuple(read_brown_zip(fetch("brown", "zip"), lowercase))


def read_brown_zip(path: str | Path, lowercase: bool = False) -> list[tuple[str, ...]]:
    """The sentences of NLTK's ``brown.zip`` (members ``brown/c*``, Latin-1 ``word/tag`` lines).

    A damaged archive (truncated, not a zip, a member failing its CRC) raises
    :class:`~bench.validation.DatasetFormatError` naming the file and the member.
    """
    out: list[tuple[str, ...]] = []
    name = ""
    try:
        with zipfile.ZipFile(path) as zf:
            names = sorted(n for n in zf.namelist() if n.startswith("brown/c") and not n.endswith("/"))
            if not names:
                raise DatasetFormatError(path, 0, "no brown/c* text files in the archive; is this NLTK's brown.zip?")
            for name in names:
                for line in zf.read(name).decode("latin-1").splitlines():
                    line = line.strip()
                    if not line:
                        continue
                    words = tuple(tok.rsplit("/", 1)[0] for tok in line.split())
                    if lowercase:
                        words = tuple(w.lower() for w in words)
                    out.append(words)
    except (DatasetFormatError, FileNotFoundError):
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError, NotImplementedError,
            OSError, ValueError) as e:
        where = f"member {name}: " if name else ""
        raise DatasetFormatError(
            path, 0, f"{where}not a readable zip archive ({type(e).__name__}: {e}); fetch the file again"
        ) from None
    return out


def brown_split(
    lowercase: bool = False, held_out_every: int = 20
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """A deterministic train / held-out split: every ``held_out_every``-th sentence is held out.

    The stand-in models (word2vec-brown, elmo-brown, ulmfit-brown) all use this split, so their
    held-out perplexities are on the same sentences.
    """
    sents = brown_sentences(lowercase)
    train = [s for i, s in enumerate(sents) if i % held_out_every != held_out_every - 1]
    held = [s for i, s in enumerate(sents) if i % held_out_every == held_out_every - 1]
    return train, held
