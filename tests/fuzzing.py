"""Damaged inputs for the parser fuzz tests, built from a VALID example of each format.

A generator takes a sound file (several lines of real-looking content) and applies one to
three damages: a cut at any byte, a dropped, repeated or swapped line, a field replaced by
junk (empty, NaN, inf, a word, a NUL, 5,000 characters ...), a field too many or too few, a
BOM, invalid UTF-8, a Latin-1 line, CR line ends, an empty file, a very long line. Starting
from a valid file means most damages sit past the first line, where a parser has already
accepted the header and is deep in its loop.

:func:`check_refused_or_valid` runs a parser on one damaged file: it must either return a
result the caller's ``validate`` accepts, or raise the project's error naming the file (and
the line, where the format has lines). Any other exception fails the test, and so does a
parse that takes longer than a few seconds (a hang).

Settings: :data:`FUZZ` keeps the default run to a few seconds per parser and deterministic
(``derandomize``); ``CTXBENCH_FUZZ_EXAMPLES=2000`` runs more examples, with a random seed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from embeddings.support.errors import FileFormatError

_DEEP = int(os.environ.get("CTXBENCH_FUZZ_EXAMPLES", "0"))


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings for one parser: ``examples`` by default, deterministic, no deadline."""
    return settings(
        max_examples=_DEEP or examples,
        deadline=None,
        derandomize=not _DEEP,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large],
    )


FUZZ = fuzz_settings(150)

#: what a damaged field becomes
JUNK = ("", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999", "-1e999", "1e-400", "abc", "1,5",
        "1.2.3", "0x1F", "\x00", "\ufeff", "ü", "-1", "-0", "+3", "10", "99999999999999999999", "9" * 5000,
        "x" * 5000, "\t", "  ", "T", "F", "<b>", "</b>", "{", "}", "[", "]", '"', "'", ":", "null", "true",
        "\\", "é\u2028é", "\x85", "\r")


#: YAML scalars that load as something other than text or a plain number
YAML_JUNK = (".nan", ".inf", "-.inf", "2024-02-30", "2024-01-01", "2024-01-01 10:00:00", "!!set {a}", "!!binary aGk=",
             "&a [*a]", "*undefined", "!!python/object/apply:os.system [echo]", "~", "yes", "0o17", "1_000", "{a: 1",
             "[1, [2, [3]]]", "{? [1, 2] : x}", "!!float x", "<<: 5", "!!omap [a: 1, a: 2]", "{a: 1, a: 2}")


def junk(extra: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(JUNK + extra), st.text(max_size=12))


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


@st.composite
def damaged(draw: st.DrawFn, valid: str, sep: str | None = "\t", encoding: str = "utf-8",
            extra_junk: tuple[str, ...] = ()) -> bytes:
    """``valid`` (a sound file) with one to three damages; ``sep`` splits a line into fields and
    ``extra_junk`` adds format-specific junk fields (e.g. :data:`YAML_JUNK`)."""
    lines = _lines(valid)
    byte_damage: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from((
            "field", "field", "field", "drop-field", "add-field", "drop-line", "repeat-line", "repeat-line",
            "swap-lines",
            "insert-line", "long-line", "crlf", "lone-cr", "no-final-newline", "empty", "cut", "bom",
            "bad-utf8", "latin1", "cut-multibyte", "nul")))
        if not lines and kind not in ("insert-line", "bom"):
            continue
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind in ("field", "drop-field", "add-field"):
            body = lines[i].rstrip("\r\n")
            end = lines[i][len(body):]
            fields = body.split(sep) if sep else body.split(" ")
            j = draw(st.integers(0, len(fields) - 1))
            if kind == "field":
                fields[j] = draw(junk(extra_junk))
            elif kind == "drop-field":
                del fields[j]
            else:
                fields.insert(j, draw(junk(extra_junk)))
            lines[i] = (sep or " ").join(fields) + end
        elif kind == "drop-line":
            del lines[i]
        elif kind == "repeat-line":
            lines.insert(i, lines[i] if lines[i].endswith("\n") else lines[i] + "\n")
        elif kind == "swap-lines":
            k = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[k] = lines[k], lines[i]
        elif kind == "insert-line":
            lines.insert(i, draw(junk(extra_junk)) + "\n")
        elif kind == "long-line":
            lines.insert(i, draw(st.sampled_from(("a", "1 ", "\t", "x\t"))) * 20000 + "\n")
        elif kind == "crlf":
            lines = [ln[:-1] + "\r\n" if ln.endswith("\n") and not ln.endswith("\r\n") else ln for ln in lines]
        elif kind == "lone-cr":
            lines[i] = lines[i].rstrip("\r\n") + "\r"
        elif kind == "no-final-newline":
            lines[-1] = lines[-1].rstrip("\r\n")
        elif kind == "empty":
            lines = []
        else:
            byte_damage.append(kind)
    data = "".join(lines).encode(encoding, errors="surrogatepass" if encoding == "utf-8" else "replace")
    for kind in byte_damage:
        at = draw(st.integers(0, len(data)))
        if kind == "cut":
            data = data[:at]
        elif kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "bad-utf8":
            data = data[:at] + draw(st.sampled_from((b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\xed\xa0\x80"))) + data[at:]
        elif kind == "latin1":
            data = data[:at] + "café".encode("latin-1") + data[at:]
        elif kind == "cut-multibyte":
            data = data[:at] + "é".encode()[:1] + data[at:]
        elif kind == "nul":
            data = data[:at] + b"\x00" + data[at:]
    return data


class Hang(AssertionError):
    """A parser ran past its time limit on one damaged input."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail (raise :class:`Hang`) when the block runs longer than ``seconds`` (main thread, POSIX)."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"the parser ran longer than {seconds} s on one damaged input (a hang?)")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def check_refused_or_valid(
    parse: Callable[[], Any],
    names: Sequence[Path | str],
    *,
    errors: type[BaseException] | tuple[type[BaseException], ...] = FileFormatError,
    validate: Callable[[Any], None] | None = None,
    where: str = "line",
    seconds: float = 10.0,
) -> Any:
    """Run ``parse()``: a result must pass ``validate``; an error must be one of ``errors`` and name one
    of the files in ``names``, with a line number (``where="line"``: ``name:<n>:``), a key (``"key"``:
    the message has ``key '...'``, ``"line-or-key"``: either) or nothing more (``None``).

    Returns the result, or None when the input was refused.
    """
    with time_limit(seconds):
        try:
            result = parse()
        except errors as e:
            message = str(e)
            file_names = [Path(n).name for n in names]
            assert any(n in message for n in file_names), f"the error does not name {file_names}: {message}"
            line = any(re.search(re.escape(n) + r":\d+:", message) for n in file_names)
            key = "key '" in message or 'key "' in message
            if where == "line":
                assert line, f"the error has no line number: {message}"
            elif where == "key":
                assert key, f"the error names no key: {message}"
            elif where == "line-or-key":
                assert line or key, f"the error has neither a line number nor a key: {message}"
            return None
    if validate is not None:
        validate(result)
    return result


def is_finite_number(x: object) -> bool:
    return isinstance(x, float | int) and not isinstance(x, bool) and x == x and abs(x) != float("inf")


# -- JSON -------------------------------------------------------------------------------------
JSON_JUNK: tuple[Any, ...] = (None, True, False, 0, -1, 1.5, 10**30, "", "x", "3", [], {}, [1, 2], {"a": 1},
                              float("nan"), float("inf"))


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.sampled_from(JSON_JUNK), st.integers(-5, 10**6), st.text(max_size=8),
                        st.floats(allow_nan=True, allow_infinity=True))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                        max_leaves=6)


def _confused(value: Any) -> list[Any]:
    """``value`` with a wrong type or a near miss."""
    out: list[Any] = [str(value), [value], {"value": value}, None]
    if isinstance(value, bool):
        out += [int(value), "true" if value else "false"]
    elif isinstance(value, int | float):
        out += [value + 0.5, float(value), bool(value), -value, 0, value * 10**9, float("nan")]
    elif isinstance(value, str):
        out += [value.upper(), " " + value, value + "\x00", 1, ""]
    elif isinstance(value, list):
        out += [value[:1], value * 2, tuple(value), []]
    return out


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys / indices) into a JSON value, the root included."""
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def damaged_json(draw: st.DrawFn, valid: Any) -> bytes:
    """A JSON document from ``valid`` (a dict or list) with a value replaced, a key dropped or
    repeated, a wrong type at some key, or then the text damages of :func:`damaged`."""
    import copy
    import json

    obj = copy.deepcopy(valid)
    duplicate: tuple[Any, ...] | None = None
    for _ in range(draw(st.integers(1, 2))):
        paths = _paths(obj)
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(("replace", "replace", "confuse", "confuse", "drop", "duplicate", "wrap")))
        if not path:
            if kind == "replace":
                obj = draw(json_values())
            continue
        parent = obj
        for k in path[:-1]:
            parent = parent[k]
        last = path[-1]
        if kind == "replace":
            parent[last] = draw(json_values())
        elif kind == "confuse":  # the same value with another type: "64" for 64, 64.5, true, [64], null
            parent[last] = draw(st.sampled_from(_confused(parent[last])))
        elif kind == "wrap":
            parent[last] = [parent[last]]
        elif kind == "drop":
            del parent[last]
        elif kind == "duplicate" and isinstance(parent, dict):
            duplicate = path
    text = json.dumps(obj, indent=1)
    if duplicate is not None:  # the same key twice in one object: json.dumps cannot write it
        key = json.dumps(duplicate[-1])
        at = text.find(key + ":")
        if at >= 0:
            text = text[:at] + key + ": " + json.dumps(draw(json_values())) + ",\n" + text[at:]
    if draw(st.booleans()):
        return draw(damaged(text, sep=" "))
    return text.encode("utf-8", errors="surrogatepass")


def json_has_duplicate_keys(data: bytes) -> bool:
    """True when some object in the JSON document ``data`` gives a key twice (an independent oracle:
    a parser that accepted such a file kept one value and dropped the other silently)."""
    import json

    found = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        keys = [k for k, _ in items]
        found = found or len(set(keys)) != len(keys)
        return dict(items)

    json.loads(data.decode("utf-8-sig"), object_pairs_hook=pairs)
    return found
