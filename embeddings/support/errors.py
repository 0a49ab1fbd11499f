"""The error classes of the adapters' support code (one base class for the CLI to catch).

Every error ctxbench raises on purpose derives from :class:`CtxbenchError`, so the command
line can print a one-line message for these and let anything else (a bug) show its
traceback.

>>> print(CacheNotWritable("/ro/cache", PermissionError("read-only file system")))  # doctest: +ELLIPSIS
cannot write to the cache directory /ro/cache (read-only file system); set CTXBENCH_CACHE to ...
"""

from __future__ import annotations

import os


class CtxbenchError(Exception):
    """Base class of the errors ctxbench raises deliberately (bad input, missing data, ...)."""


class CacheNotWritable(CtxbenchError, OSError):
    """The cache directory cannot be created or written (read-only, full, no permission)."""

    def __init__(self, path: str | os.PathLike[str], cause: BaseException) -> None:
        self.path = str(path)
        reason = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
        super().__init__(
            f"cannot write to the cache directory {self.path} ({reason}); "
            "set CTXBENCH_CACHE to a writable directory with free space"
        )


class UnknownName(CtxbenchError, KeyError):
    """A name (embedder, task, dataset, layer, suite) that is not registered; says what is."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class FileFormatError(CtxbenchError, ValueError):
    """A file that cannot be read as its format; the message names the file, where, and the problem.

    ``where`` is a line number (``file:line: problem``), a key or dataset name
    (``file: key 'lstm.dim': problem``) or None for the file as a whole (``file: problem``).

    >>> str(FileFormatError("options.json", "lstm.dim", "expected a positive integer, got 'x'"))
    "options.json: key 'lstm.dim': expected a positive integer, got 'x'"
    >>> str(FileFormatError("vectors.txt", 7, "expected 300 values, got 299"))
    'vectors.txt:7: expected 300 values, got 299'
    """

    def __init__(self, path: str | os.PathLike[str], where: int | str | None, problem: str) -> None:
        self.path, self.where, self.problem = str(path), where, problem
        if isinstance(where, int):
            message = f"{self.path}:{where}: {problem}"
        elif where:
            message = f"{self.path}: key {where!r}: {problem}"
        else:
            message = f"{self.path}: {problem}"
        super().__init__(message)


class ConfigError(CtxbenchError, ValueError):
    """Settings or options that are not valid (an unknown task setting, a bad suite file)."""


class DownloadError(CtxbenchError, OSError):
    """A file could not be fetched (offline, HTTP error, timeout) after the retries."""


class ChecksumMismatch(CtxbenchError, ValueError):
    """A file's sha256 differs from the pinned one; the file is refused."""
