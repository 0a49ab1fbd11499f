"""Parsers of the text and binary word-vector formats (word2vec binary/text, GloVe text), and the binary writer.

Every problem raises :class:`~embeddings.static.formats.StaticFormatError` naming the file and
the line (for binary files: record k is on line k+1, after the header).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

import numpy as np

from embeddings.static.formats import (
    _HEADER,
    FORMATS,
    MAX_DIM,
    StaticFormatError,
    _open,
    is_compressed,
    sniff_format,
    stream_errors,
)

logger = logging.getLogger(__name__)

# -- parsers ------------------------------------------------------------------------------
Keep = Callable[[str], bool]
#: a binary record's word longer than this is misalignment, not a word
_MAX_WORD_BYTES = 1 << 20
#: at most this much is allocated before rows are seen (a damaged count must not allocate terabytes)
_PREALLOC_BYTES = 1 << 30
#: a header asking for a matrix bigger than this is checked against the file's size first
_CHECKED_ALLOCATION = 1 << 26


class _Collector:
    """Collects kept rows into a growing float32 matrix, or block-wise into a preallocated one.

    With ``out`` (e.g. a memory-mapped .npy of the declared size) rows are buffered in RAM
    and written in blocks of 65,536: bulk copies instead of a page fault per row.
    """

    BLOCK = 1 << 16

    def __init__(self, dim: int, capacity: int, out: np.ndarray | None = None) -> None:
        self.dim = dim
        self.words: list[str] = []
        self.seen: set[str] = set()
        self.duplicates = 0
        self.out = out
        self.flushed = 0
        size = min(capacity, self.BLOCK) if out is not None else capacity
        self.matrix = np.empty((max(size, 16), dim), np.float32)

    def add(self, word: str, vec: np.ndarray) -> None:
        if word in self.seen:
            self.duplicates += 1
            return
        k = len(self.words) - self.flushed
        if k == self.matrix.shape[0]:
            if self.out is not None:
                self._flush()
                k = 0
            else:
                bigger = np.empty((2 * k, self.dim), np.float32)
                bigger[:k] = self.matrix
                self.matrix = bigger
        self.matrix[k] = vec
        self.words.append(word)
        self.seen.add(word)

    def _flush(self) -> None:
        assert self.out is not None
        k = len(self.words) - self.flushed
        self.out[self.flushed : self.flushed + k] = self.matrix[:k]
        self.flushed += k

    def result(self) -> tuple[list[str], np.ndarray]:
        n = len(self.words)
        self.seen = set()
        if self.out is not None:
            self._flush()
            return self.words, self.out[:n] if self.out.shape[0] != n else self.out
        return self.words, self.matrix[:n] if self.matrix.shape[0] != n else self.matrix


def _parse_header(line: bytes, path: Path, *, binary: bool, size: int | None) -> tuple[int, int]:
    """``N D`` from the header line; ``size`` (the file's size, None when compressed) bounds N x D."""
    m = _HEADER.fullmatch(line.rstrip(b"\r\n"))
    if not m:
        raise StaticFormatError(
            path, 1, f"expected a word2vec header 'N D' (count and dimension), got {line[:60]!r}"
        )
    n, d = int(m.group(1)), int(m.group(2))
    if d < 1:
        raise StaticFormatError(path, 1, f"header dimension is {d}")
    if d > MAX_DIM:
        raise StaticFormatError(path, 1, f"header dimension {d} is implausibly large (over {MAX_DIM}); "
                                         "a damaged header?")
    if size is not None and 4 * n * d > _CHECKED_ALLOCATION:
        # before allocating N x D floats: the shortest record is a 1-byte word, a space and D floats
        # (binary) or D one-digit values (text); smaller mismatches are reported where the file ends
        shortest = 4 * d + 2 if binary else 2 * d + 1
        if n * shortest > size - len(line) + 1:
            raise StaticFormatError(
                path, 1, f"the header declares {n} vectors of dimension {d}, which need at least "
                f"{n * shortest} bytes, but the file has {size - len(line)} after the header "
                "(truncated file or a damaged header)"
            )
    return n, d


def _trailing_numbers(fields: list[bytes]) -> int:
    """How many fields at the end of a line parse as numbers (the vector, if the line is sound)."""
    k = 0
    for field in reversed(fields[1:]):
        try:
            float(field)
        except ValueError:
            break
        k += 1
    return k


def _values_word(k: int) -> str:
    return f"{k} value" + ("" if k == 1 else "s")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_text_line(
    line: str, dim: int, path: Path, lineno: int, spaces_in_tokens: str, last: bool
) -> tuple[str, np.ndarray]:
    fields = line.rstrip(" ").split(" ")
    truncated = " (the file looks truncated: its last line has no newline)" if last else ""
    if len(fields) < dim + 1:
        raise StaticFormatError(
            path, lineno, f"expected a word and {dim} values, got {_values_word(len(fields) - 1)}{truncated}"
        )
    token_fields = fields[:-dim]
    guarded = spaces_in_tokens == "guarded" and _is_number(token_fields[-1])
    if len(token_fields) > 1 and (spaces_in_tokens == "none" or guarded):
        raise StaticFormatError(
            path,
            lineno,
            f"expected a word and {dim} values, got {_values_word(len(fields) - 1)} after {fields[0]!r}"
            + (
                " (if the word really has a space before a number, load with lenient_tokens=True)"
                if guarded
                else ""
            ),
        )
    try:
        vec = np.array(fields[-dim:], dtype=np.float32)
    except ValueError:
        for k, text in enumerate(fields[-dim:], start=1):
            if not _is_number(text):
                raise StaticFormatError(
                    path, lineno, f"value {k} of {dim} ({text[:30]!r}) is not a number{truncated}"
                ) from None
        raise StaticFormatError(path, lineno, f"the {dim} values do not convert to float32") from None
    if not np.isfinite(vec).all():
        k = int(np.flatnonzero(~np.isfinite(vec))[0]) + 1
        raise StaticFormatError(path, lineno, f"value {k} of {dim} is not finite ({fields[-dim + k - 1]!r})")
    token = " ".join(token_fields)
    if not token:
        raise StaticFormatError(path, lineno, "empty word")
    return token, vec


def _read_text(
    f: IO[bytes],
    path: Path,
    *,
    header: bool,
    dim: int | None,
    keep: Keep,
    max_rows: int | None,
    collector_factory: Callable[[int, int | None], _Collector],
    unicode_errors: str,
    spaces_in_tokens: str,
    size: int | None = None,
) -> tuple[list[str], np.ndarray, int]:
    declared: int | None = None
    lineno = 0
    if header:
        first = f.readline()
        lineno = 1
        if not first:
            raise StaticFormatError(path, 1, "the file is empty")
        declared, dim = _parse_header(first, path, binary=False, size=size)
    pending: list[bytes] = []
    if dim is None:  # GloVe: the most common field count among the first lines
        counts: dict[int, int] = {}
        for head_line in f:
            pending.append(head_line)
            if head_line.strip():
                k = _trailing_numbers(head_line.rstrip(b"\r\n").rstrip(b" ").split(b" "))
                counts[k] = counts.get(k, 0) + 1
            if len(pending) >= 100:
                break
        if not counts:
            raise StaticFormatError(path, 1, "the file is empty")
        dim = max(counts, key=lambda k: (counts[k], k))
        if dim < 1:
            raise StaticFormatError(path, 1, "no vector values on the first lines")
    col = collector_factory(dim, declared)
    rows = 0

    def lines() -> Iterable[bytes]:
        yield from pending
        yield from f

    it = iter(lines())
    raw: bytes | None = next(it, None)
    while raw is not None:
        nxt = next(it, None)
        lineno += 1
        if not raw.strip():
            raw = nxt
            continue
        if declared is not None and rows >= declared:
            raise StaticFormatError(
                path,
                lineno,
                f"the header declares {declared} vectors but the file has more (header count mismatch)",
            )
        try:
            line = raw.decode("utf-8", errors=unicode_errors).rstrip("\r\n")
        except UnicodeDecodeError as e:
            raise StaticFormatError(
                path, lineno, f"invalid UTF-8 ({e.reason}); pass unicode_errors='replace' to load it anyway"
            ) from None
        word, vec = _parse_text_line(
            line, dim, path, lineno, spaces_in_tokens, last=nxt is None and not raw.endswith(b"\n")
        )
        rows += 1
        if keep(word):
            col.add(word, vec)
            if max_rows is not None and len(col.words) >= max_rows:
                break
        raw = nxt
    else:
        if declared is not None and rows < declared:
            raise StaticFormatError(
                path,
                lineno + 1,
                f"the header declares {declared} vectors but the "
                f"file ends after {rows} (truncated file or header count mismatch)",
            )
    words, matrix = col.result()
    _warn_duplicates(path, col)
    return words, matrix, dim


def _read_binary(
    f: IO[bytes],
    path: Path,
    *,
    keep: Keep,
    max_rows: int | None,
    collector_factory: Callable[[int, int | None], _Collector],
    unicode_errors: str,
    size: int | None = None,
) -> tuple[list[str], np.ndarray, int]:
    declared, dim = _parse_header(f.readline(), path, binary=True, size=size)
    col = collector_factory(dim, declared)
    nbytes = 4 * dim
    chunk = max(1 << 20, 4 * nbytes)
    buf, pos = b"", 0

    def ensure(n: int) -> bool:
        """Make ``buf[pos:pos + n]`` available (compacting ``buf``); False at end of file."""
        nonlocal buf, pos
        if len(buf) - pos >= n:
            return True
        parts, have = [buf[pos:]], len(buf) - pos
        while have < n:
            more = f.read(max(chunk, n - have))
            if not more:
                break
            parts.append(more)
            have += len(more)
        buf, pos = b"".join(parts), 0
        return len(buf) >= n

    newline_after: bool | None = None  # is each vector followed by "\n" (known from the second record)?
    for i in range(declared):
        line = i + 2
        while (sp := buf.find(b" ", pos)) < 0:
            if len(buf) - pos > _MAX_WORD_BYTES:
                raise StaticFormatError(
                    path, line, f"record {i + 1}: no space in {_MAX_WORD_BYTES} bytes, so no word ends here "
                    "(misaligned or not a word2vec binary file)"
                )
            if not ensure(len(buf) - pos + 1):
                if buf[pos:].strip(b"\n"):
                    raise StaticFormatError(
                        path,
                        line,
                        f"record {i + 1} of {declared}: the file ends inside "
                        "the word (truncated binary file)",
                    )
                raise StaticFormatError(
                    path,
                    line,
                    f"the header declares {declared} vectors but the file "
                    f"ends after {i} (truncated file or header count mismatch)",
                )
        word_len = sp - pos
        if not ensure(word_len + 1 + nbytes):
            got = len(buf) - pos - word_len - 1
            word_bytes = buf[pos : pos + word_len].lstrip(b"\n")[:40]
            raise StaticFormatError(
                path,
                line,
                f"record {i + 1} of {declared} ({word_bytes!r}): the file ends "
                f"after {got} of the vector's {nbytes} bytes (truncated binary file, "
                "mid-vector)",
            )
        sp = pos + word_len
        start = sp + 1
        raw_word = buf[pos:sp].lstrip(b"\n")
        if i > 0:  # writers put a newline after every vector, or after none: a change means a shifted record
            newline = len(raw_word) < word_len
            if newline_after is None:
                newline_after = newline
            elif newline != newline_after:
                raise StaticFormatError(
                    path, line, f"record {i + 1} ({raw_word[:40]!r}): "
                    + ("no newline after the previous vector, unlike the records before"
                       if newline_after else "a newline after the previous vector, unlike the records before")
                    + f" (misaligned binary file: a byte too many or too few, or not {dim} float32 values?)"
                )
        if b"\n" in raw_word:
            raise StaticFormatError(
                path, line, f"record {i + 1}: the word {raw_word[:40]!r} holds a newline (misaligned binary file?)"
            )
        try:
            word = raw_word.decode("utf-8", errors=unicode_errors)
        except UnicodeDecodeError as e:
            raise StaticFormatError(
                path,
                line,
                f"record {i + 1}: word {raw_word[:40]!r} is not valid UTF-8 "
                f"({e.reason}); pass unicode_errors='replace' to load it anyway",
            ) from None
        if not word:
            raise StaticFormatError(path, line, f"record {i + 1}: empty word (misaligned binary file?)")
        pos = start + nbytes
        if keep(word):
            vec = np.frombuffer(buf, dtype="<f4", count=dim, offset=start)
            if not np.isfinite(vec).all():
                raise StaticFormatError(path, line, f"record {i + 1} ({word[:40]!r}) has non-finite values")
            col.add(word, vec)
            if max_rows is not None and len(col.words) >= max_rows:
                break
    else:
        rest = buf[pos:] + f.read(1 << 16)
        if rest.strip(b"\n\r "):
            raise StaticFormatError(
                path,
                declared + 2,
                f"the header declares {declared} vectors but more "
                "data follows (header count mismatch, or a different dimension)",
            )
    words, matrix = col.result()
    _warn_duplicates(path, col)
    return words, matrix, dim


def _warn_duplicates(path: Path, col: _Collector) -> None:
    if col.duplicates:
        logger.warning("%s: %d duplicate words; kept the first occurrence of each", path, col.duplicates)


def read_vectors(
    path: str | Path,
    format: str | None = None,
    *,
    max_vocab: int | None = None,
    vocab: Iterable[str] | None = None,
    unicode_errors: str = "strict",
    out: Callable[[int, int], np.ndarray] | None = None,
    lenient_tokens: bool = False,
) -> tuple[list[str], np.ndarray, str]:
    """Parse a word2vec or GloVe text/binary file into (words, float32 matrix, format).

    Parameters
    ----------
    path : path of the file (plain, .gz or .bz2).
    format : one of ``word2vec-binary``, ``word2vec-text``, ``glove-text``; sniffed if None.
    max_vocab : keep the first N words only (stops reading there).
    vocab : keep only these words (exact match, or lower-cased match).
    unicode_errors : ``"strict"`` (default) or ``"replace"``/``"ignore"`` for undecodable words.
    out : optional allocator ``(n_rows, dim) -> array`` used when the row count is known in
        advance (e.g. ``numpy.lib.format.open_memmap`` to convert without holding the matrix).
    lenient_tokens : GloVe text only: accept a token with a space whose last part is a number
        (by default such a line is refused as having too many values).
    """
    path = Path(path)
    fmt = format or sniff_format(path)
    if fmt not in FORMATS or fmt == "gensim":
        raise ValueError(f"read_vectors reads {FORMATS[:3]}, got format={fmt!r}")
    wanted = _vocab_filter(vocab)
    keep: Keep = wanted if wanted is not None else (lambda w: True)

    compressed = is_compressed(path)
    size = None if compressed else path.stat().st_size

    def factory(dim: int, declared: int | None) -> _Collector:
        if out is not None and declared is not None and wanted is None and max_vocab is None:
            return _Collector(dim, declared, out(declared, dim))
        budget = max(16, _PREALLOC_BYTES // (4 * dim))  # beyond it the matrix grows as rows arrive
        if declared is not None and wanted is None:  # the row count is known: allocate once
            rows = min(declared, max_vocab or declared)
            return _Collector(dim, min(rows, budget) if compressed else rows)  # plain files: N checked vs size
        return _Collector(dim, min(x for x in (declared, max_vocab, 1 << 16, budget) if x is not None))

    with stream_errors(path), _open(path) as f:
        if fmt == "word2vec-binary":
            words, matrix, _ = _read_binary(
                f,
                path,
                keep=keep,
                max_rows=max_vocab,
                collector_factory=factory,
                unicode_errors=unicode_errors,
                size=size,
            )
        else:
            words, matrix, _ = _read_text(
                f,
                path,
                header=fmt == "word2vec-text",
                dim=None,
                keep=keep,
                max_rows=max_vocab,
                collector_factory=factory,
                unicode_errors=unicode_errors,
                spaces_in_tokens=("any" if lenient_tokens else "guarded") if fmt == "glove-text" else "none",
                size=size,
            )
    if not words:
        raise StaticFormatError(path, 1, "no vectors kept (empty file, or none of the requested words)")
    return words, matrix, fmt


def _vocab_filter(vocab: Iterable[str] | None) -> Keep | None:
    if vocab is None:
        return None
    exact = set(vocab)
    lower = {w.lower() for w in exact}
    return lambda w: w in exact or w.lower() in lower


# -- gensim native files, unpickled safely -------------------------------------------------

def save_word2vec_binary(path: str | Path, words: list[str], vectors: np.ndarray) -> None:
    """Write the word2vec C tool's binary format (header, then ``word<space><float32s>\\n``)."""
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    with open(path, "wb") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        for word, vec in zip(words, vectors, strict=True):
            if " " in word or "\n" in word or not word:
                raise ValueError(f"word {word!r} cannot be written in word2vec binary format")
            f.write(word.encode("utf-8") + b" " + vec.tobytes() + b"\n")
