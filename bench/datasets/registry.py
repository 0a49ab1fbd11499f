"""The dataset registry: what each dataset is, where it comes from, and its checksums.

Each :class:`Dataset` names the files its parser reads, with the sha256 of each (from the
verified copies' MANIFEST.tsv), the canonical download URL and, for archives, the member to
extract. :func:`fetch` finds a file in this order:

1. the read-only mirror ``CTXBENCH_MIRROR``/<path> (never written to);
2. the cache ``CTXBENCH_CACHE``/datasets/<path>;
3. a download from the canonical URL into the cache, extracted if it is an archive.

Every file is verified against its sha256 before use; a mismatch is refused. When no copy
can be had, the error says what to fetch and where to put it.

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

import hashlib
import logging
import shutil
import tarfile
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from embeddings.progress import progress_bar
from embeddings.registries import suggest
from embeddings.support.files import atomic_path, sha256_file
from embeddings.support.paths import cache_root, mirror_root

logger = logging.getLogger(__name__)


class DataUnavailable(FileNotFoundError):
    """No verified copy of a dataset file in the mirror or cache, and no download."""


class ChecksumMismatch(ValueError):
    """A file's sha256 differs from the pinned one; the file is refused."""


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


# -- fetching --------------------------------------------------------------------------
_verified: dict[Path, str] = {}


def _verify(path: Path, expected: str, what: str) -> None:
    stat = path.stat()
    key = path.resolve()
    got = _verified.get(key)
    if got is None or got.split("@")[1] != f"{stat.st_size}:{stat.st_mtime_ns}":
        got = sha256_file(path) + f"@{stat.st_size}:{stat.st_mtime_ns}"
        _verified[key] = got
    digest = got.split("@")[0]
    if digest != expected:
        raise ChecksumMismatch(
            f"{what}: {path} has sha256 {digest}, expected {expected}. The file is refused: "
            f"it is corrupt, truncated, or a different version. Delete it and fetch again."
        )


def fetch(dataset: str, key: str | None = None) -> Path:
    """Path of a verified local copy of ``dataset``'s file ``key`` (default: the first)."""
    ds = get_dataset(dataset)
    if key is None:
        key = next(iter(ds.files))
    if key not in ds.files:
        raise KeyError(f"dataset {dataset!r} has no file {key!r}; files: {sorted(ds.files)}")
    return fetch_file(ds.files[key], what=f"dataset {dataset!r} file {key!r}")


def fetch_file(df: DataFile, *, what: str = "file") -> Path:
    mirror = mirror_root()
    if mirror is not None:
        candidate = mirror / df.path
        if candidate.is_file():
            _verify(candidate, df.sha256, what)
            return candidate
    cached = cache_root() / "datasets" / df.path
    if cached.is_file():
        _verify(cached, df.sha256, what)
        return cached
    try:
        _download(df, cached)
    except ChecksumMismatch:
        raise
    except Exception as e:  # network down, 404, bad archive: say what to do instead
        where = f"the mirror {mirror} (CTXBENCH_MIRROR) or " if mirror else ""
        member = f", extract {df.member!r} from it," if df.member else ""
        raise DataUnavailable(
            f"{what}: no copy of {df.path} in {where}the cache {cached.parent}, and the download "
            f"failed ({type(e).__name__}: {e}). Fetch {df.url}{member} and place it at {cached}, "
            f"or set CTXBENCH_MIRROR to a directory that holds {df.path}."
        ) from e
    _verify(cached, df.sha256, what)
    return cached


def download_path(url: str) -> Path:
    """Where a download of ``url`` is kept: ``<cache>/downloads/<sha1(url)[:8]>-<file name>``."""
    downloads = cache_root() / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    return downloads / (hashlib.sha1(url.encode()).hexdigest()[:8] + "-" + url.rstrip("/").rsplit("/", 1)[-1])


def download_url(url: str, archive: Path | None = None) -> Path:
    """Download ``url`` once (atomic write, progress bar); returns the local path."""
    archive = archive or download_path(url)
    if not archive.is_file():
        logger.info("downloading %s", url)
        with atomic_path(archive) as tmp:
            with urllib.request.urlopen(url, timeout=60) as resp, open(tmp, "wb") as out:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with progress_bar(total=total, unit="B", unit_scale=True, desc=archive.name) as bar:
                    for chunk in iter(lambda: resp.read(1 << 16), b""):
                        out.write(chunk)
                        bar.update(len(chunk))
    return archive


def _download(df: DataFile, target: Path) -> None:
    url = df.url.split()[0]  # MANIFEST urls may carry a note after a space
    archive = download_url(url)
    with atomic_path(target) as tmp:
        if df.member is None:
            shutil.copyfile(archive, tmp)
        else:
            _extract_member(archive, df.member, tmp)
    try:
        _verify(target, df.sha256, f"download of {url}")
    except ChecksumMismatch:
        target.unlink()
        raise


def extract_member(archive: Path, member: str, out: Path) -> None:
    """Copy ``member`` of a zip or tar archive to ``out``."""
    _extract_member(archive, member, out)


def _extract_member(archive: Path, member: str, out: Path) -> None:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return
    with tarfile.open(archive) as tf:
        member_file = tf.extractfile(member)
        if member_file is None:
            raise FileNotFoundError(f"{member} is not a file in {archive}")
        with member_file, open(out, "wb") as dst:
            shutil.copyfileobj(member_file, dst)
