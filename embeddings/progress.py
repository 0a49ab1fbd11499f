"""Progress bars that a user can switch off globally, as Hugging Face datasets does.

Library code calls :func:`progress_bar`; ``CTXBENCH_PROGRESS=0`` in the environment or
:func:`disable_progress_bars` turns every bar off. On a terminal the bars redraw as tqdm's
do; when stderr is NOT a terminal (a log file, CI), a bar instead writes a plain line at
most every ``CTXBENCH_PROGRESS_INTERVAL`` seconds (default 60) and one when it ends, so a
log holds a few readable lines per minute instead of thousands of carriage-return redraws.

Examples
--------
>>> disable_progress_bars(); progress_enabled()
False
>>> enable_progress_bars(); progress_enabled()
True
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

_enabled: bool | None = None


def progress_enabled() -> bool:
    if _enabled is not None:
        return _enabled
    return os.environ.get("CTXBENCH_PROGRESS", "1").lower() not in ("0", "false", "no", "off")


def enable_progress_bars() -> None:
    global _enabled
    _enabled = True


def disable_progress_bars() -> None:
    global _enabled
    _enabled = False


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("CTXBENCH_PROGRESS_INTERVAL", "60")))
    except ValueError:
        return 60.0


class _LineProgress(tqdm):  # type: ignore[misc]
    """tqdm for a log file: a full line now and then instead of in-place redraws."""

    n: int  # tqdm's own attribute (tqdm has no type hints)
    _last_line = float("-inf")  # monotonic time of the last line written
    _printed_n = 0  # the count the last line showed
    _closing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("mininterval", _interval())
        kwargs["maxinterval"] = max(kwargs["mininterval"], 1.0)
        kwargs["miniters"] = 1
        kwargs["dynamic_ncols"] = False
        kwargs["ncols"] = 100
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if msg == "":  # tqdm clearing a finished bar: nothing to erase in a log
            return True
        if not self.n and self.total is not None and msg is None:
            return True  # the empty bar at start says nothing
        now = time.monotonic()
        # set_postfix() and tqdm.write() redraw on every call: a log gets one line per interval at most
        if msg is None and not self._closing and now - self._last_line < self.mininterval:
            return True
        self._last_line, self._printed_n = now, self.n
        self.fp.write((msg if msg is not None else self.__str__()) + "\n")
        self.fp.flush()
        return True

    def close(self) -> None:
        if not self.disable and self.n and self._printed_n != self.n:
            self._closing = True
            self.display()  # the final state, once
        super().close()


def progress_bar(iterable: Iterable[T] | None = None, *, disable: bool = False, **kwargs: Any) -> Any:
    """``tqdm`` honouring the global switch; same arguments as tqdm."""
    off = disable or not progress_enabled()
    if not off and not sys.stderr.isatty():
        return _LineProgress(iterable, disable=off, leave=False, file=sys.stderr, **kwargs)
    return tqdm(iterable, disable=off, leave=False, **kwargs)
