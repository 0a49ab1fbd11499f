"""What a dataset is: the files its parser reads, each pinned by sha256, with licence and citation.

A module that defines datasets keeps them in a :class:`DatasetCollection` named ``DATASETS``
and is listed in :mod:`bench.datasets.registry`, which imports it only when one of its
datasets is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DataFile:
    """One file a parser reads.

    Attributes
    ----------
    path : str
        Relative path, as in the mirror's MANIFEST.tsv ``file`` column.
    sha256 : str
        Pinned checksum of the file itself (after extraction).
    url : str
        Canonical download: the file itself, or the archive holding it.
    member : str, optional
        Path of the file inside the archive at ``url``.
    """

    path: str
    sha256: str
    url: str
    member: str | None = None


@dataclass(frozen=True)
class Dataset:
    """Metadata of one dataset (MTEB-style: next to the data, complete, frozen)."""

    name: str
    title: str
    files: dict[str, DataFile]
    license: str
    citation: str
    homepage: str = ""
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """A short version label: the first 12 hex digits of the main file's sha256."""
        first = next(iter(self.files.values()))
        return first.sha256[:12]

    def sha256(self) -> dict[str, str]:
        return {k: f.sha256 for k, f in self.files.items()}


class DatasetCollection(dict[str, Dataset]):
    """The datasets one module defines, by name (``DATASETS.add(Dataset(...))`` returns the dataset)."""

    def add(self, ds: Dataset) -> Dataset:
        if ds.name in self:
            raise ValueError(f"dataset {ds.name!r} is defined twice")
        self[ds.name] = ds
        return ds

    def dataset(self, name: str) -> Dataset:
        return self[name]
