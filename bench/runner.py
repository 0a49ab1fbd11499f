"""The runner: every (embedder, task) cell of a suite, resumable, failure-tolerant.

For each embedder, the cells not yet finished are run; the model is loaded once, and only
if some cell needs it. Each finished cell is appended to the store at once. An exception in
a model load or a task is recorded as a failed cell (with the error and traceback) and the
run goes on; re-running the same command retries failed cells and skips finished ones.
"""

from __future__ import annotations

import datetime as _dt
import gc
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import embeddings
from bench.store import ResultStore
from bench.suite import EmbedderSpec, Suite, TaskSpec, cell_key
from bench.tasks import get_task
from embeddings.base import Embedder
from embeddings.cached import CachedEmbedder
from embeddings.progress import progress_bar

logger = logging.getLogger(__name__)


@dataclass
class RunSummary:
    ran: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _failure(key: str, emb: EmbedderSpec, task: TaskSpec, stage: str, exc: BaseException) -> dict[str, Any]:
    return {"key": key, "embedder": emb.name, "embedder_options": emb.options, "task": task.name,
            "settings": task.settings, "status": "failed", "stage": stage,
            "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=8),
            "finished": _now()}


def run_suite(suite: Suite, store: ResultStore, *,
              loader: Callable[..., Embedder] | None = None,
              on_cell: Callable[[dict[str, Any]], None] | None = None) -> RunSummary:
    """Run every unfinished cell of ``suite`` into ``store``.

    Parameters
    ----------
    loader : callable, optional
        ``loader(name, **options) -> Embedder``; defaults to :func:`embeddings.load`.
    on_cell : callable, optional
        Called with each new cell record (the CLI prints a line per cell).
    """
    load = loader or embeddings.load
    summary = RunSummary()
    start = time.perf_counter()
    done = store.done_keys()
    cells = [(e, t) for e in suite.embedders for t in suite.tasks]
    bar = progress_bar(total=len(cells), desc=f"suite {suite.name}", unit="cell")
    for emb_spec in suite.embedders:
        todo = [t for t in suite.tasks if cell_key(emb_spec, t) not in done]
        summary.skipped += len(suite.tasks) - len(todo)
        bar.update(len(suite.tasks) - len(todo))
        if not todo:
            continue
        t0 = time.perf_counter()
        try:
            emb = load(emb_spec.name, **emb_spec.options)
        except Exception as exc:  # record and go on with the next model
            logger.exception("loading %s failed", emb_spec.name)
            for task_spec in todo:
                rec = _failure(cell_key(emb_spec, task_spec), emb_spec, task_spec, "load", exc)
                store.add(rec)
                summary.failed += 1
                bar.update(1)
                if on_cell:
                    on_cell(rec)
            continue
        load_seconds = round(time.perf_counter() - t0, 3)
        if not getattr(emb, "stateful", False):
            emb = CachedEmbedder(emb)  # tasks share inputs (word lists, probe sentences)
        info = {**emb.describe(), "options": emb_spec.options, "load_seconds": load_seconds}
        for task_spec in todo:
            key = cell_key(emb_spec, task_spec)
            bar.set_postfix_str(f"{emb_spec.name} / {task_spec.name}")
            t1 = time.perf_counter()
            try:
                task = get_task(task_spec.name, **task_spec.settings)
                out = task.run(emb)
                rec = {"key": key, "embedder": emb_spec.name, "embedder_options": emb_spec.options,
                       "task": task_spec.name, "settings": task_spec.settings, "status": "ok",
                       "task_meta": {k: (list(v) if isinstance(v, tuple) else v)
                                     for k, v in task.meta.__dict__.items()},
                       "embedder_info": info, "results": [r.to_dict() for r in out.results],
                       "selection": out.selection.to_dict() if out.selection else None,
                       "seconds": round(time.perf_counter() - t1, 3), "finished": _now(),
                       "suite": suite.name}
                summary.ran += 1
            except Exception as exc:
                logger.exception("%s on %s failed", task_spec.name, emb_spec.name)
                rec = _failure(key, emb_spec, task_spec, "task", exc)
                rec["embedder_info"] = info
                summary.failed += 1
            store.add(rec)
            bar.update(1)
            if on_cell:
                on_cell(rec)
        del emb
        gc.collect()
    bar.close()
    summary.seconds = round(time.perf_counter() - start, 1)
    return summary
