"""Static word-vector file formats: the format names, sniffing a file, the format error.

See :mod:`embeddings.static` for what each format is; every parse error is a
:class:`StaticFormatError` naming the file and the line.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from embeddings.support.errors import FileFormatError

logger = logging.getLogger(__name__)

FORMATS = ("word2vec-binary", "word2vec-text", "glove-text", "gensim")
#: files at least this big are memory-mapped by default (``mmap=None``)
MMAP_THRESHOLD = 1 << 30
#: files up to this size get a full sha256 as weights identity; bigger ones a sampled one
FULL_HASH_LIMIT = 256 << 20
_HEADER = re.compile(rb"\s*(\d+)\s+(\d+)\s*")
#: a header dimension above this is damage, not a model (and would allocate terabytes)
MAX_DIM = 1 << 20


class StaticFormatError(FileFormatError):
    """A vector file that cannot be read; the message is ``file:line: problem``.

    Line 0 stands for the file as a whole (e.g. a damaged .gz stream).

    >>> str(StaticFormatError("vectors.txt", 7, "expected a word and 300 values, got 299 values"))
    'vectors.txt:7: expected a word and 300 values, got 299 values'
    """

    def __init__(self, path: str | Path, line: int, problem: str) -> None:
        super().__init__(path, int(line), problem)
        self.line = int(line)


# -- opening and sniffing ---------------------------------------------------------------
def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as f:
        magic = f.read(3)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if magic == b"BZh":
        return bz2.open(path, "rb")
    return open(path, "rb", buffering=1 << 20)


def is_compressed(path: Path) -> bool:
    """True for a gzip or bzip2 file (from its magic bytes)."""
    with open(path, "rb") as f:
        magic = f.read(3)
    return magic[:2] == b"\x1f\x8b" or magic == b"BZh"


@contextmanager
def stream_errors(path: Path) -> Iterator[None]:
    """Turn what a damaged or cut-short .gz/.bz2 stream raises while it is read into StaticFormatError."""
    try:
        yield
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except (EOFError, zlib.error, OSError) as e:
        what = "the compressed data is damaged or cut short" if is_compressed(path) else "the file cannot be read"
        raise StaticFormatError(
            path, 0, f"{what} ({type(e).__name__}: {e}); download or copy the file again"
        ) from None


def sniff_format(path: str | Path) -> str:
    """Which of :data:`FORMATS` a file is, from its first bytes.

    A pickle (gensim native) starts with the pickle protocol marker; a first line ``"N D"``
    means word2vec (binary when the first record is not text, text otherwise); any other
    text is GloVe.
    """
    path = Path(path)
    with stream_errors(path), _open(path) as f:
        head = f.read(1 << 16)
    if not head:
        raise StaticFormatError(path, 1, "the file is empty")
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "gensim"
    first, _, rest = head.partition(b"\n")
    m = _HEADER.fullmatch(first)
    if m:
        dim = int(m.group(2))
        record = rest.split(b"\n", 1)[0] if b"\n" in rest else rest
        try:
            fields = record.decode("utf-8").rstrip("\r ").split(" ")
            if len(fields) >= dim + 1 and dim > 0:
                [float(x) for x in fields[-dim:]]
                return "word2vec-text"
        except (UnicodeDecodeError, ValueError):
            pass
        if len(rest) < 4 * dim and b"\n" in rest[:-1] and _looks_like_text(rest):
            return "word2vec-text"  # a text file whose first record is short: let the parser say why
        return "word2vec-binary"
    if not _looks_like_text(head):
        raise StaticFormatError(
            path,
            1,
            "not a word-vector file: binary data without a word2vec 'N D' header and not a gensim pickle",
        )
    return "glove-text"


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(data) - 4  # a multi-byte character cut at the end of the sample
    return True


