"""What machine a perf run ran on, and how busy it was.

Ratios travel between machines far better than seconds, but not perfectly: they depend on
the CPU, the number of cores torch may use, library versions and, above all, on whether
something else was running. :func:`describe` records all of it for perf.md.

>>> quiet(0.2), quiet(1.3)
(True, False)
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

#: the 1-minute load average under which a machine counts as quiet
QUIET_LOAD = 0.5


def cpu_model() -> str:
    """The ``model name`` line of /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def quiet(load1: float | None) -> bool:
    """A machine is quiet when its 1-minute load average is under :data:`QUIET_LOAD`."""
    return load1 is not None and load1 < QUIET_LOAD


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, Any]:
    """CPU, cores, memory, torch threads and library versions of this process."""
    import torch

    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = os.cpu_count() or 0
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 2**20
    except OSError:
        pass
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "memory_gb": mem_gb,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": _version("transformers"),
        "gensim": _version("gensim"),
        "numpy": _version("numpy"),
        "load_average": load_average(),
    }


def markdown(info: dict[str, Any], end_load: tuple[float, float, float] | None) -> list[str]:
    """perf.md's machine paragraph."""
    def fmt(load: tuple[float, float, float] | None) -> str:
        return "unknown" if load is None else " / ".join(f"{x:.2f}" for x in load)

    start = info.get("load_average")
    is_quiet = quiet(start[0] if start else None) and quiet(end_load[0] if end_load else None)
    mem = f"{info['memory_gb']:.0f} GiB" if info.get("memory_gb") else "unknown"
    lines = [
        f"- CPU: {info['cpu']}, {info['cores']} cores ({info['cores_usable']} usable by this process), "
        f"{mem} RAM",
        f"- torch {info['torch']} ({info['torch_threads']} intra-op thread(s) unless a row says otherwise), "
        f"transformers {info['transformers']}, gensim {info['gensim']}, numpy {info['numpy']}, "
        f"Python {info['python']}",
        f"- load average (1 / 5 / 15 min): {fmt(start)} at the start, {fmt(end_load)} at the end",
    ]
    if not is_quiet:
        lines.append(
            f"- **The machine was not quiet** (1-minute load average >= {QUIET_LOAD} at the start or the end): "
            "other processes shared the cores, so these ratios are indicative only. Repeats were interleaved "
            "so a load hits every side alike, but a load that comes and goes still adds noise."
        )
    return lines
