"""Strict reading of the JSON files checkpoints carry (options.json, config.json, vocab.json).

Python's :func:`json.load` accepts what a damaged or hand-edited file should not pass
silently: a key given twice (the last wins), ``NaN`` and ``Infinity``; and it raises
exceptions that do not name the file (``JSONDecodeError``, ``UnicodeDecodeError``,
``RecursionError``). :func:`read_json` turns all of these into
:class:`~embeddings.support.errors.FileFormatError` naming the file and the line.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "config.json"
>>> _ = p.write_text('{"dim": 4,\\n "dim": 8}')
>>> read_json(p)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
embeddings.support.errors.FileFormatError: ...config.json:2: the key 'dim' appears twice in one object
"""

from __future__ import annotations

import json
import os
from typing import Any

from embeddings.support.errors import FileFormatError


class _Refused(ValueError):
    def __init__(self, problem: str, needle: str) -> None:
        super().__init__(problem)
        self.problem, self.needle = problem, needle


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {key[:40]!r} appears twice in one object", json.dumps(key))
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number", name)


def parse_json(text: str, path: str | os.PathLike[str]) -> Any:
    """Parse ``text`` (the contents of ``path``) strictly; see the module docstring."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _Refused as e:
        at = text.rfind(e.needle)  # the later occurrence is the offending one
        raise FileFormatError(path, text.count("\n", 0, max(at, 0)) + 1, e.problem) from None
    except json.JSONDecodeError as e:
        raise FileFormatError(path, e.lineno, f"not valid JSON ({e.msg}, column {e.colno})") from None
    except RecursionError:
        raise FileFormatError(path, 1, "not valid JSON here: nested too deeply") from None


def read_json(path: str | os.PathLike[str]) -> Any:
    """The parsed JSON file at ``path`` (UTF-8; a BOM is allowed); FileFormatError with file:line otherwise."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise FileFormatError(path, line, f"not UTF-8 ({e.reason} at byte {e.start})") from None
    return parse_json(text[1:] if text.startswith("\ufeff") else text, path)
