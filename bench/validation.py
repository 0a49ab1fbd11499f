"""Input validation with errors that name the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path

from embeddings.support.errors import CtxbenchError


class DatasetFormatError(CtxbenchError, ValueError):
    """A data file line that cannot be parsed: the message names file, line and problem.

    >>> str(DatasetFormatError("pairs.txt", 3, "expected 3 columns, got 2"))
    'pairs.txt:3: expected 3 columns, got 2'
    """

    def __init__(self, path: str | Path, line: int, problem: str) -> None:
        self.path, self.line, self.problem = str(path), line, problem
        super().__init__(f"{path}:{line}: {problem}")


def parse_float(text: str, path: str | Path, line: int, what: str = "score") -> float:
    try:
        value = float(text)
    except ValueError:
        raise DatasetFormatError(path, line, f"{what} {text!r} is not a number") from None
    if value != value:  # NaN
        raise DatasetFormatError(path, line, f"{what} is NaN")
    return value
