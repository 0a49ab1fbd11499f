"""Fresh sentences for timing: SST-2 dev + the SentEval SST-2 test file, whitespace-tokenised.

The benchmark suite never embeds these (its tasks read Brown, WiC, SCWS, ...), so no cache
of a suite run can hold them. Each timed repeat gets its own disjoint set of sentences, and
every side of a comparison gets the same set in that repeat: an in-process memo of earlier
calls (present or future) cannot make a later repeat look faster than a first one.

Both files are pinned by sha256 (the mirror's MANIFEST.tsv) and read through the dataset
registry's lookup (mirror, then cache, then download).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.datasets.base import DataFile
from bench.datasets.fetching import fetch_file

#: GLUE SST-2 dev (872 sentences, header ``sentence<TAB>label``)
SST2_DEV = DataFile(
    path="sst2/SST-2/dev.tsv",
    sha256="54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0",
    url="https://dl.fbaipublicfiles.com/glue/data/SST-2.zip",
    member="SST-2/dev.tsv",
)
#: SentEval's binary SST test file (1,821 sentences, ``sentence<TAB>label``, no header)
SST2_TEST = DataFile(
    path="sst2/senteval/SST/binary/sentiment-test",
    sha256="4fefd1cd67526cf87ebc7fafc3afc21cc7cfa6ae53b45e74f77f9456e3c62752",
    url="https://raw.githubusercontent.com/PrincetonML/SIF/master/data/sentiment-test",
)


def read_sentences(text: str, *, header: bool) -> list[list[str]]:
    """Whitespace-tokenised first column of a ``sentence<TAB>label`` file.

    >>> read_sentences("sentence\\tlabel\\nit 's good . \\t1\\n", header=True)
    [['it', "'s", 'good', '.']]
    """
    lines = text.splitlines()[1 if header else 0 :]
    return [words for line in lines if (words := line.rsplit("\t", 1)[0].split())]


def sst2_pool() -> list[list[str]]:
    """Every distinct sentence of SST-2 dev, then of the SentEval test file (2,693 in all)."""
    dev = read_sentences(fetch_file(SST2_DEV, what="SST-2 dev").read_text(encoding="utf-8"), header=True)
    test = read_sentences(fetch_file(SST2_TEST, what="SST-2 test").read_text(encoding="utf-8"), header=False)
    seen: set[tuple[str, ...]] = set()
    out = []
    for s in dev + test:
        if tuple(s) not in seen:
            seen.add(tuple(s))
            out.append(s)
    return out


@dataclass(frozen=True)
class SentenceSets:
    """A warm-up set and one set per timed repeat, disjoint where the pool allows."""

    warmup: list[list[str]]
    repeats: list[list[list[str]]]
    reused: bool  # True when the pool was too small and sets had to share sentences

    @property
    def words_per_set(self) -> list[int]:
        return [sum(map(len, s)) for s in self.repeats]


def split_sets(pool: list[list[str]], size: int, repeats: int, warmup: int = 16) -> SentenceSets:
    """``repeats`` sets of ``size`` sentences plus a warm-up set, taken in pool order.

    >>> pool = [[str(i)] for i in range(10)]
    >>> s = split_sets(pool, 3, 2, warmup=2)
    >>> s.warmup, s.repeats, s.reused
    ([['8'], ['9']], [[['0'], ['1'], ['2']], [['3'], ['4'], ['5']]], False)
    """
    if size < 1 or repeats < 1:
        raise ValueError(f"size and repeats must be positive, got {size}, {repeats}")
    if not pool:
        raise ValueError("no sentences to split")
    need = size * repeats + warmup
    reused = need > len(pool)
    body = pool[: len(pool) - warmup] if len(pool) > warmup else pool
    warm = pool[len(pool) - warmup :] if len(pool) > warmup else pool[:warmup]
    sets = []
    for r in range(repeats):
        sets.append([body[(r * size + k) % len(body)] for k in range(size)])
    return SentenceSets(warm, sets, reused)
