"""Progress bars that a user can switch off globally, as Hugging Face datasets does.

Library code calls :func:`progress_bar`; ``CTXBENCH_PROGRESS=0`` in the environment or
:func:`disable_progress_bars` turns every bar off (CI logs stay readable).

Examples
--------
>>> disable_progress_bars(); progress_enabled()
False
>>> enable_progress_bars(); progress_enabled()
True
"""

from __future__ import annotations

import os
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


def progress_bar(iterable: Iterable[T] | None = None, *, disable: bool = False, **kwargs: Any) -> Any:
    """``tqdm`` honouring the global switch; same arguments as tqdm."""
    return tqdm(iterable, disable=disable or not progress_enabled(), leave=False, **kwargs)
