"""What machine a perf run ran on, and how busy it was.

Ratios travel between machines far better than seconds, but not perfectly: they depend on
the CPU, the number of cores torch may use, library versions and, above all, on whether
something else was running. :func:`describe` records all of it for perf.md.

The load average cannot say whether a perf run was alone: the run itself keeps one core
busy, so it reads about 1 on an otherwise idle 2-core machine. What matters is the CPU time
*other* processes used while we measured: :class:`CpuShare` takes it from /proc/stat's
machine-wide busy time minus this process's own (and its waited-for children's) CPU time.

>>> quiet(0.02), quiet(0.3)
(True, False)
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

#: the share of the machine's CPU time other processes may use while a run still counts as quiet
QUIET_SHARE = 0.1


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


def quiet(others: float | None) -> bool:
    """Quiet: other processes used less than :data:`QUIET_SHARE` of the machine's CPU time."""
    return others is not None and others < QUIET_SHARE


def _busy_seconds() -> float | None:
    """CPU seconds all cores spent busy since boot (/proc/stat), or None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if fields[0] != "cpu":
        return None
    ticks = [int(x) for x in fields[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class CpuShare:
    """Measures the share of the machine's CPU time used by *other* processes since it started.

    ``CpuShare().others()`` after some work: 0.0 means nothing else ran, 0.5 that other
    processes took half of all cores' time. A child process counts as ours once waited for.
    """

    busy: float | None = None
    own: float = 0.0
    wall: float = 0.0

    def __post_init__(self) -> None:
        self.busy, self.own, self.wall = _busy_seconds(), _own_seconds(), time.monotonic()

    def others(self) -> float | None:
        busy, own, wall = _busy_seconds(), _own_seconds(), time.monotonic()
        cores = os.cpu_count() or 1
        if busy is None or self.busy is None or wall - self.wall < 0.5:
            return None
        other = (busy - self.busy) - (own - self.own)
        return max(0.0, other) / ((wall - self.wall) * cores)


def sample_others(seconds: float = 5.0) -> float | None:
    """Other processes' share of the CPU over the next ``seconds`` (this process idle meanwhile)."""
    share = CpuShare()
    time.sleep(seconds)
    return share.others()


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


def markdown(info: dict[str, Any], end_load: tuple[float, float, float] | None, others: float | None) -> list[str]:
    """perf.md's machine paragraph; ``others``: other processes' CPU share over the whole run."""
    def fmt(load: tuple[float, float, float] | None) -> str:
        return "unknown" if load is None else " / ".join(f"{x:.2f}" for x in load)

    start = info.get("load_average")
    is_quiet = quiet(others)
    share = "unknown (no /proc/stat)" if others is None else f"{others:.1%}"
    mem = f"{info['memory_gb']:.0f} GiB" if info.get("memory_gb") else "unknown"
    lines = [
        f"- CPU: {info['cpu']}, {info['cores']} cores ({info['cores_usable']} usable by this process), "
        f"{mem} RAM",
        f"- torch {info['torch']} ({info['torch_threads']} intra-op thread(s) unless a row says otherwise), "
        f"transformers {info['transformers']}, gensim {info['gensim']}, numpy {info['numpy']}, "
        f"Python {info['python']}",
        f"- CPU time used by other processes during the run: {share} of the machine (quiet: under "
        f"{QUIET_SHARE:.0%}); load average (1 / 5 / 15 min, this run included): {fmt(start)} at the start, "
        f"{fmt(end_load)} at the end",
    ]
    if not is_quiet:
        lines.append(
            "- **The machine was not quiet**: other processes shared the cores, so these ratios are indicative "
            "only. Repeats were interleaved so a load hits every side alike, but a load that comes and goes "
            "still adds noise."
        )
    return lines
