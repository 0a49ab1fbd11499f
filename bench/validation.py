"""Input validation with errors that name the file, the line and the fix."""

from __future__ import annotations

import math
from pathlib import Path

from embeddings.support.errors import FileFormatError

_BOM = "\ufeff"


class DatasetFormatError(FileFormatError):
    """A data file line that cannot be parsed: the message names file, line and problem.

    Line 0 stands for the file as a whole (empty, no items, not an archive).

    >>> str(DatasetFormatError("pairs.txt", 3, "expected 3 columns, got 2"))
    'pairs.txt:3: expected 3 columns, got 2'
    """

    def __init__(self, path: str | Path, line: int, problem: str) -> None:
        super().__init__(path, int(line), problem)
        self.line = int(line)


def parse_float(text: str, path: str | Path, line: int, what: str = "score") -> float:
    """``float(text)``, refusing what is not a finite number with the file and line.

    >>> parse_float("7.5", "pairs.txt", 3)
    7.5
    >>> parse_float("inf", "pairs.txt", 3)
    Traceback (most recent call last):
    ...
    bench.validation.DatasetFormatError: pairs.txt:3: score 'inf' is not a finite number
    """
    try:
        value = float(text)
    except ValueError:
        raise DatasetFormatError(path, line, f"{what} {text[:40]!r} is not a number") from None
    if value != value:  # NaN
        raise DatasetFormatError(path, line, f"{what} is NaN")
    if math.isinf(value):
        raise DatasetFormatError(path, line, f"{what} {text[:40]!r} is not a finite number")
    return value


def decode_text(data: bytes, path: str | Path, encoding: str = "utf-8") -> str:
    """``data`` decoded, without a leading byte-order mark; bad bytes name their line.

    A text file saved by an editor may start with a UTF-8 BOM (``EF BB BF``); it is dropped,
    so it does not become part of the first word. Invalid bytes (a Latin-1 file read as
    UTF-8, a cut multi-byte character), a BOM further in, or a NUL character raise
    :class:`DatasetFormatError` with the line.

    >>> decode_text(b"\\xef\\xbb\\xbftiger\\tcat\\n", "pairs.txt")
    'tiger\\tcat\\n'
    >>> decode_text(b"ok\\ncaf\\xe9\\n", "pairs.txt")
    Traceback (most recent call last):
    ...
    bench.validation.DatasetFormatError: pairs.txt:2: invalid utf-8 (byte 0xe9 at column 4): ...
    """
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise DatasetFormatError(
            path, line, f"invalid {encoding} (byte 0x{data[e.start]:02x} at column {column}): {e.reason}; "
            f"re-save the file as {encoding}"
        ) from None
    text = text[1:] if text.startswith(_BOM) else text
    for bad, what in ((_BOM, "a byte-order mark inside the file (two files joined?)"),
                      ("\x00", "a NUL character (binary data in a text file)")):
        at = text.find(bad)
        if at >= 0:
            raise DatasetFormatError(path, text.count("\n", 0, at) + 1, what)
    return text


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The whole file, decoded by :func:`decode_text` (a missing file raises FileNotFoundError)."""
    with open(path, "rb") as f:
        return decode_text(f.read(), path, encoding)


def read_aligned(data_path: str | Path, gold_path: str | Path, what: str = "data lines") -> list[tuple[int, str, str]]:
    """(line number, data line, gold line) of a data file and its gold file, which must align line by line.

    WiC and CoarseWSD-20 keep sentences and labels in two files; a count mismatch is an error
    naming the gold file and the first line that has no partner.
    """
    data = read_text(data_path).splitlines()
    gold = read_text(gold_path).splitlines()
    if len(data) != len(gold):
        raise DatasetFormatError(gold_path, min(len(data), len(gold)) + 1,
                                 f"{len(gold)} gold labels for {len(data)} {what} in {data_path}")
    return [(k, d, g) for k, (d, g) in enumerate(zip(data, gold, strict=True), start=1)]
