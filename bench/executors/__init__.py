"""Where the cells of a run execute: ``local`` (this process) or ``ray`` (a Ray cluster).

Every executor follows the same three steps (:mod:`bench.runner`): name the cells without
loading models, load each model with work once and embed its tasks' inputs once, score the
cells; the store is written only by the process that called :func:`bench.runner.run_suite`.
"""

from __future__ import annotations

from typing import Any, Protocol

from embeddings.support.errors import ConfigError

__all__ = ["EXECUTORS", "Executor", "get_executor"]

EXECUTORS = ("local", "ray")


class Executor(Protocol):
    def run(self, suite: Any, store: Any, *, loader: Any, on_cell: Any, rerun: bool) -> Any:
        """Run every unfinished cell of ``suite`` into ``store``; return a RunSummary."""
        ...


def get_executor(name: str) -> Executor:
    if name == "local":
        from bench.executors.local import LocalExecutor

        return LocalExecutor()
    if name == "ray":
        from bench.executors.ray_executor import RayExecutor

        return RayExecutor()
    raise ConfigError(f"unknown executor {name!r}; executors: {', '.join(EXECUTORS)}")
