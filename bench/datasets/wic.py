"""WiC, the Word-in-Context dataset (Pilehvar & Camacho-Collados 2019).

Each line of ``<split>.data.txt`` is ``target <tab> PoS <tab> i-j <tab> sentence1 <tab>
sentence2``: the sentences are already tokenized (split on single spaces) and ``i``/``j`` are
the 0-based positions of the target word (possibly inflected) in them. ``<split>.gold.txt``
holds ``T`` (same meaning) or ``F`` on the same line number.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "x.data.txt").write_text("bank\\tN\\t3-1\\tWe sat on bank .\\tThe bank closed .\\n")
>>> _ = (d / "x.gold.txt").write_text("F\\n")
>>> item = read_wic(d / "x.data.txt", d / "x.gold.txt")[0]
>>> item.sentence1[item.index1], item.sentence2[item.index2], item.label
('bank', 'bank', False)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.datasets.base import DataFile, Dataset, DatasetCollection
from bench.datasets.fetching import fetch
from bench.validation import DatasetFormatError, read_aligned

#: the datasets this module defines (listed in bench.datasets.registry.INDEX)
DATASETS = DatasetCollection()

__all__ = ["WiCItem", "read_wic", "load_wic", "SPLITS"]

SPLITS = ("train", "dev", "test")
#: the part-of-speech tags WiC uses (nouns and verbs only)
POS_TAGS = ("N", "V")
_URL = "https://pilehvar.github.io/wic/package/WiC_dataset.zip"
_SHA = {
    "train.data": "3a56ff8285ca9703d6c91dfb7cc79760171899c560bb6a8698fa4559a71b160d",
    "train.gold": "3f614ca12c03a90fecc34471d8ae666f924a3c657b5620fcfb46d9b2b50bb7b2",
    "dev.data": "1c360246ffa3904fc1d8f6f16bb7ae0d7980a1a27e9200e9b43c32fd35af11e7",
    "dev.gold": "665ee959c2cf7db2a4255b7a049bdfa165b970482145cfd2ac456007d4dcf1d6",
    "test.data": "28befe601f5bdbc8e452e9538f6d3582a164647ad5949a9808a74908e70031f7",
    "test.gold": "a69386c579762d9ddf988a61896a2e912f402410185f5e8316007093799b341f",
}


def _file(key: str) -> DataFile:
    split, kind = key.split(".")
    member = f"{split}/{split}.{kind}.txt"
    return DataFile(f"wic/WiC_dataset/{member}", _SHA[key], _URL, member=member)


WIC = DATASETS.add(
    Dataset(
        "wic",
        "WiC: the Word-in-Context dataset (train/dev/test with gold labels)",
        {key: _file(key) for key in _SHA},
        license="CC BY-NC 4.0",
        citation="Pilehvar & Camacho-Collados 2019, WiC: the Word-in-Context Dataset for Evaluating "
        "Context-Sensitive Meaning Representations, NAACL 2019",
        homepage="https://pilehvar.github.io/wic/",
    )
)


@dataclass(frozen=True)
class WiCItem:
    """One WiC pair: the target in two tokenized sentences, and whether the sense is the same."""

    id: str
    target: str
    pos: str
    sentence1: tuple[str, ...]
    index1: int
    sentence2: tuple[str, ...]
    index2: int
    label: bool


def read_wic(data_path: str | Path, gold_path: str | Path, split: str = "x") -> list[WiCItem]:
    """Read one split; a malformed line raises :class:`DatasetFormatError` with file:line."""
    items = []
    for lineno, line, label in read_aligned(data_path, gold_path, "data lines"):
        cols = line.split("\t")
        if len(cols) != 5:
            raise DatasetFormatError(data_path, lineno, f"expected 5 tab-separated columns, got {len(cols)}")
        target, pos, idx, s1, s2 = cols
        if not target.strip():
            raise DatasetFormatError(data_path, lineno, "empty target word")
        if pos not in POS_TAGS:
            raise DatasetFormatError(data_path, lineno, f"part of speech {pos[:20]!r} is not one of {POS_TAGS}")
        try:
            i, j = (int(x) for x in idx.split("-"))
        except ValueError:
            raise DatasetFormatError(data_path, lineno, f"indices {idx!r} are not 'i-j'") from None
        t1, t2 = tuple(s1.split()), tuple(s2.split())
        if not (0 <= i < len(t1)) or not (0 <= j < len(t2)):
            raise DatasetFormatError(
                data_path, lineno, f"index {idx} outside the sentences ({len(t1)} and {len(t2)} tokens)"
            )
        if label.strip() not in ("T", "F"):
            raise DatasetFormatError(gold_path, lineno, f"gold label {label!r} is not T or F")
        items.append(WiCItem(f"{split}:{lineno}", target, pos, t1, i, t2, j, label.strip() == "T"))
    if not items:
        raise DatasetFormatError(data_path, 0, "no items (empty file?)")
    return items


def load_wic(split: str) -> list[WiCItem]:
    """The verified items of one split: ``train`` (5,428), ``dev`` (638) or ``test`` (1,400)."""
    if split not in SPLITS:
        raise ValueError(f"WiC split {split!r}; allowed: {SPLITS}")
    return read_wic(fetch("wic", f"{split}.data"), fetch("wic", f"{split}.gold"), split)
