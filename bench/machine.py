"""The machine a result was produced on: CPU model, cores, torch threads, library versions.

Recorded with every cell (timings and floating-point details depend on it) and written to
``timing.md``, the one results file ``make reproduce`` does not compare.

>>> info = machine_info()
>>> sorted(info) == ["cores", "cpu", "python", "torch_threads"]
True
"""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    try:
        import torch

        threads = int(torch.get_num_threads())
    except ImportError:  # pragma: no cover
        threads = 0
    return {"cpu": cpu_model(), "cores": os.cpu_count() or 0, "torch_threads": threads,
            "python": platform.python_version()}
