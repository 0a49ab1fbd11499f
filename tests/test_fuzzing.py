"""The fuzz harness itself (tests/fuzzing.py) fails where it must: a hang, a foreign exception, an
error that does not name the file or the line, a result the validator rejects."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fuzzing import Hang, check_refused_or_valid, json_has_duplicate_keys

from embeddings.support.errors import FileFormatError


def _raise(exc: BaseException):
    def parse():
        raise exc

    return parse


def test_a_hang_fails() -> None:
    with pytest.raises(Hang):
        check_refused_or_valid(lambda: time.sleep(5), ["x.txt"], seconds=0.2)


def test_a_foreign_exception_propagates() -> None:
    with pytest.raises(UnicodeDecodeError):
        check_refused_or_valid(_raise(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad")), ["x.txt"])


@pytest.mark.parametrize("error, where", [
    (FileFormatError("other.txt", 3, "bad"), "line"),   # names another file
    (FileFormatError("x.txt", None, "bad"), "line"),    # no line number
    (FileFormatError("x.txt", 3, "bad"), "key"),        # no key
])
def test_an_imprecise_error_fails(error: FileFormatError, where: str) -> None:
    with pytest.raises(AssertionError):
        check_refused_or_valid(_raise(error), [Path("/tmp/x.txt")], where=where)


def test_precise_errors_and_valid_results_pass() -> None:
    assert check_refused_or_valid(_raise(FileFormatError("/d/x.txt", 3, "bad")), ["x.txt"]) is None
    assert check_refused_or_valid(_raise(FileFormatError("/d/x.json", "a.b", "bad")), ["x.json"], where="key") is None
    assert check_refused_or_valid(lambda: [1], ["x.txt"], validate=lambda r: None) == [1]


def test_a_rejected_result_fails() -> None:
    def validate(result: list) -> None:
        assert result, "an empty result from a damaged file"

    with pytest.raises(AssertionError, match="empty result"):
        check_refused_or_valid(lambda: [], ["x.txt"], validate=validate)


def test_duplicate_key_oracle() -> None:
    assert json_has_duplicate_keys(b'{"a": {"b": 1, "b": 2}}')
    assert not json_has_duplicate_keys(b'{"a": {"b": 1}, "b": 2}')
