"""The dataset registry: what each dataset is, where it comes from, and its checksums.

Each :class:`Dataset` names the files its parser reads, with the sha256 of each (from the
verified copies' MANIFEST.tsv), the canonical download URL and, for archives, the member to
extract. Getting a verified local copy is :mod:`bench.datasets.fetching`'s job.

Examples
--------
>>> info = get_dataset("simlex999")
>>> info.files["pairs"].path
'simlex999/SimLex-999/SimLex-999.txt'
>>> get_dataset("simlex")
Traceback (most recent call last):
...
KeyError: "unknown dataset 'simlex'; did you mean 'simlex999' or 'simverb3500'? Known: ..."
"""

from __future__ import annotations

from dataclasses import dataclass, field

from embeddings.registries import suggest


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


_DATASETS: dict[str, Dataset] = {}


def register_dataset(ds: Dataset) -> Dataset:
    if ds.name in _DATASETS and _DATASETS[ds.name] != ds:
        raise ValueError(f"dataset {ds.name!r} is already registered differently")
    _DATASETS[ds.name] = ds
    return ds


def _load_catalogs() -> None:
    # importing the catalog modules registers their datasets
    import bench.datasets.catalog  # noqa: F401


def get_dataset(name: str) -> Dataset:
    _load_catalogs()
    if name not in _DATASETS:
        raise KeyError(f"unknown dataset {name!r}; {suggest(name, _DATASETS)}Known: {', '.join(sorted(_DATASETS))}")
    return _DATASETS[name]


def dataset_names() -> list[str]:
    _load_catalogs()
    return sorted(_DATASETS)
