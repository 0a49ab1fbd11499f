"""Files that are never half-written, checksums, and cross-process locks.

- :func:`atomic_path` yields a temporary path beside the target and renames it into place
  on success (files and directories), so a crash leaves no file a later run would load.
- :func:`file_lock` is a cross-process lock (``filelock``) beside a target, for work that
  two processes must not do twice (training a model, converting a checkpoint).
- :func:`sha256_file` hashes a file in chunks.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from embeddings.support.errors import CacheNotWritable


def _make_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CacheNotWritable(target.parent, e) from e


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    Works for files and directories. On an exception the temporary is removed. A full
    or read-only directory raises :class:`CacheNotWritable` naming it.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "x.txt").read_text()
    'done'
    """
    target = Path(target)
    _make_parent(target)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".incomplete", dir=target.parent)
    except OSError as e:
        raise CacheNotWritable(target.parent, e) from e
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        try:
            yield tmp
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT):
                raise CacheNotWritable(target.parent, e) from e
            raise
        if target.is_dir() and tmp.is_dir():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` through :func:`atomic_path`."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a"; _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def file_lock(target: str | os.PathLike[str], *, timeout: float = -1) -> Iterator[None]:
    """Hold a cross-process lock named after ``target`` (``<target>.lock`` beside it).

    Two processes that need the same cache entry serialise here; the second one then finds
    the entry finished and loads it instead of building it again.
    """
    from filelock import FileLock

    target = Path(target)
    _make_parent(target)
    lock = FileLock(str(target.with_name(target.name + ".lock")), timeout=timeout)
    try:
        lock.acquire()
    except OSError as e:
        raise CacheNotWritable(target.parent, e) from e
    try:
        yield
    finally:
        lock.release()
