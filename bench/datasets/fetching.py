"""Verified local copies of dataset files: the mirror, the cache, or a download.

:func:`fetch` finds the file a parser reads in this order (all through
:func:`embeddings.support.fetch.fetch_verified`):

1. the read-only mirror ``CTXBENCH_MIRROR``/<path> (never written to);
2. the cache ``CTXBENCH_CACHE``/datasets/<path>;
3. a download from the canonical URL into the cache, extracted if it is an archive.

Every file is verified against its pinned sha256 before use; a mismatch raises
:class:`ChecksumMismatch`. When no copy can be had, :class:`DataUnavailable` says what to
fetch and where to put it.

Examples
--------
>>> path = fetch("simlex999", "pairs")   # from the mirror, verified
>>> path.name
'SimLex-999.txt'
"""

from __future__ import annotations

from pathlib import Path

from bench.datasets.registry import DataFile, get_dataset
from embeddings.support.errors import ChecksumMismatch, DownloadError
from embeddings.support.fetch import fetch_verified
from embeddings.support.paths import cache_root

__all__ = ["ChecksumMismatch", "DataUnavailable", "fetch", "fetch_file"]


class DataUnavailable(DownloadError, FileNotFoundError):
    """No verified copy of a dataset file in the mirror or cache, and the download failed."""


def fetch(dataset: str, key: str | None = None) -> Path:
    """Path of a verified local copy of ``dataset``'s file ``key`` (default: the first)."""
    ds = get_dataset(dataset)
    if key is None:
        key = next(iter(ds.files))
    if key not in ds.files:
        raise KeyError(f"dataset {dataset!r} has no file {key!r}; files: {sorted(ds.files)}")
    return fetch_file(ds.files[key], what=f"dataset {dataset!r} file {key!r}")


def fetch_file(df: DataFile, *, what: str = "file") -> Path:
    """Path of a verified local copy of one :class:`~bench.datasets.registry.DataFile`."""
    url = df.url.split()[0] if df.url.strip() else None  # MANIFEST urls may carry a note after a space
    try:
        got = fetch_verified(url, df.sha256, cache_root() / "datasets" / df.path, member=df.member,
                             mirror=df.path, what=what)
    except DataUnavailable:
        raise
    except DownloadError as e:  # the same message, as the dataset layer's FileNotFoundError
        raise DataUnavailable(str(e)) from e
    return got.path
