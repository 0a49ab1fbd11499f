"""Where ctxbench reads and writes: the writable cache and the read-only mirror.

- ``CTXBENCH_CACHE`` (default ``~/.cache/ctxbench``): downloads, extracted archives,
  models trained by the benchmark, converted checkpoints, the embedding cache.
- ``CTXBENCH_MIRROR`` (optional): a READ-ONLY directory laid out like shared/data (paths as
  in its MANIFEST.tsv ``file`` column), looked up before any download; never written to.

>>> import os
>>> os.environ["CTXBENCH_CACHE"] = "/tmp/ctx-doc"
>>> str(cache_root())
'/tmp/ctx-doc'
>>> del os.environ["CTXBENCH_CACHE"]
"""

from __future__ import annotations

import os
from pathlib import Path

from embeddings.support.errors import CacheNotWritable


def cache_root() -> Path:
    """The writable cache root (not created until something is written)."""
    return Path(os.environ.get("CTXBENCH_CACHE") or Path.home() / ".cache" / "ctxbench").expanduser()


def mirror_root() -> Path | None:
    """The read-only mirror, or None when ``CTXBENCH_MIRROR`` is unset."""
    value = os.environ.get("CTXBENCH_MIRROR")
    return Path(value).expanduser() if value else None


def cache_dir(*parts: str) -> Path:
    """A subdirectory of the cache, created on demand; a clear error when it cannot be."""
    path = cache_root().joinpath(*parts)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CacheNotWritable(path, e) from e
    if not os.access(path, os.W_OK | os.X_OK):
        raise CacheNotWritable(path, PermissionError("no write permission"))
    return path
