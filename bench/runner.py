"""The runner: every (embedder, task) cell of a suite, resumable, failure-tolerant.

A run has three steps, shared by every executor (:mod:`bench.executors`):

1. :func:`plan_run` names every cell WITHOUT loading anything: the embedder's identity
   (:func:`embeddings.identity`: a stand-in's recipe, a package's pinned checksums) plus
   each task's resolved settings, version and dataset checksums give the cell's key
   (:class:`~bench.cell.CellIdentity`). Cells whose key is finished in the store are
   skipped. What remains is one :class:`ModelWork` per embedder.
2. For each model with work, the model is loaded once (only then; when its identity could
   not be named beforehand its fingerprint completes the keys), and :func:`prepare_source`
   embeds the union of its tasks' declared inputs once, in one canonical order.
3. :func:`run_cell` scores one task on that source and returns its :class:`~bench.cell.Cell`;
   the caller appends it to the store at once.

Failures stay local: an exception while loading a model or running a task becomes a failed
cell (with the error and traceback) and the run goes on; re-running the same command retries
failed cells and skips finished ones. Errors ctxbench raises on purpose
(:class:`~embeddings.support.errors.CtxbenchError`: a missing dataset, a bad file) are
logged in one line; anything else is a bug, and its traceback is logged too.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import embeddings
from bench.cell import Cell, CellIdentity, slot_of
from bench.machine import machine_info
from bench.models import describe_for_results
from bench.store import ResultStore
from bench.suite import EmbedderSpec, Suite, TaskSpec
from bench.tasks import Task, get_task
from bench.vectors import DirectSource, EmbeddingCache, PlannedSource, Requests, VectorSource
from bench.vectors.cache import default_max_bytes
from embeddings.base import Embedder
from embeddings.support.errors import CtxbenchError
from embeddings.support.paths import cache_dir

logger = logging.getLogger(__name__)

Loader = Callable[..., Embedder]


@dataclass
class RunSummary:
    ran: int = 0
    skipped: int = 0
    failed: int = 0
    seconds: float = 0.0


@dataclass
class ModelWork:
    """One embedder's part of a run: what to run on it, and what already failed."""

    spec: EmbedderSpec
    identity: str | None
    #: (task spec, task, cell identity) of each cell to run; identities are None until the
    #: model is loaded when its identity needs the loaded model's fingerprint
    todo: list[tuple[TaskSpec, Task, CellIdentity | None]] = field(default_factory=list)
    failed: list[Cell] = field(default_factory=list)
    skipped: int = 0


class Recorder:
    """Appends each finished or failed cell to the store at once, counts it, reports it."""

    def __init__(self, suite: Suite, store: ResultStore, on_cell: Callable[[Cell], None] | None,
                 *, rerun: bool = False) -> None:
        from embeddings.progress import progress_bar

        self.store = store
        self.rerun = rerun  # a re-run cell replaces the finished record of the same identity
        self.on_cell = on_cell
        self.summary = RunSummary()
        self.bar = progress_bar(total=sum(len(suite.tasks_for(e)) for e in suite.embedders),
                                desc=f"suite {suite.name}", unit="cell")

    def __call__(self, cell: Cell) -> None:
        if cell.ok:
            self.summary.ran += 1
        else:
            self.summary.failed += 1
        self.store.add(cell, replace=self.rerun)
        self.bar.update(1)
        if self.on_cell:
            self.on_cell(cell)

    def skipped(self, n: int) -> None:
        self.summary.skipped += n
        self.bar.update(n)

    def close(self) -> RunSummary:
        self.bar.close()
        return self.summary


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def log_failure(what: str, exc: BaseException) -> None:
    """An expected error (bad input, missing data) is one line, kept with its traceback in the
    failed cell's record; anything else is a bug and is logged with its traceback."""
    if isinstance(exc, CtxbenchError):
        logger.info("%s failed: %s", what, exc)
    else:
        logger.error("%s failed with an unexpected %s", what, type(exc).__name__, exc_info=exc)


def cell_identity(emb: EmbedderSpec, embedder_identity: str, spec: TaskSpec, task: Task) -> CellIdentity:
    """The identity of one cell (see :class:`~bench.cell.CellIdentity`)."""
    return CellIdentity(
        embedder=emb.name, embedder_options=dict(emb.options), embedder_identity=embedder_identity,
        task=spec.name, settings=dict(task.settings), task_version=str(task.meta.version),
        dataset_sha256=task.dataset_sha256(), given_settings=dict(spec.settings))


def failed_cell(ident: CellIdentity | None, emb: EmbedderSpec, spec: TaskSpec, stage: str, exc: BaseException,
                info: dict[str, Any] | None = None) -> Cell:
    slot = ident.slot if ident else slot_of(emb.name, emb.options, spec.name, spec.settings)
    key = ident.key if ident else f"{slot}#failed"
    return Cell(key=key, slot=slot, embedder=emb.name, task=spec.name, status="failed", identity=ident,
                embedder_options=dict(emb.options), settings=dict(spec.settings), embedder_info=info or {},
                stage=stage, error=f"{type(exc).__name__}: {exc}",
                traceback="".join(traceback.format_exception(exc, limit=12)), finished=_now())


def plan_run(suite: Suite, store: ResultStore, *, rerun: bool = False) -> list[ModelWork]:
    """Every embedder's unfinished cells, named without loading any model (when the registry can)."""
    done = store.done_keys()
    built: dict[str, Task | BaseException] = {}

    def build(spec: TaskSpec) -> Task | BaseException:
        if spec.key not in built:  # each distinct task spec is built once
            try:
                built[spec.key] = get_task(spec.name, **spec.settings)
            except Exception as exc:
                log_failure(f"building task {spec.name}", exc)
                built[spec.key] = exc
        return built[spec.key]

    works = []
    for emb_spec in suite.embedders:
        specs = suite.tasks_for(emb_spec)
        try:
            ident = embeddings.identity(emb_spec.name, **emb_spec.options)
        except Exception as exc:  # an unknown name, a bad option: every cell of this model fails
            log_failure(f"naming {emb_spec.name}", exc)
            works.append(ModelWork(emb_spec, None, failed=[failed_cell(None, emb_spec, s, "load", exc)
                                                          for s in specs]))
            continue
        work = ModelWork(emb_spec, ident)
        for spec in specs:
            task = build(spec)
            if isinstance(task, BaseException):
                work.failed.append(failed_cell(None, emb_spec, spec, "task", task))
                continue
            cid = cell_identity(emb_spec, ident, spec, task) if ident is not None else None
            if cid is not None and cid.key in done and not rerun:
                work.skipped += 1
                continue
            work.todo.append((spec, task, cid))
        works.append(work)
    return works


def complete_identities(work: ModelWork, emb: Embedder | str, done: set[str], rerun: bool) -> None:
    """For a model named only once loaded: its fingerprint completes the cells' keys.

    ``emb`` is the loaded model, or its fingerprint (an executor that loaded it in another process).
    """
    if work.identity is not None:
        return
    work.identity = f"fingerprint:{emb if isinstance(emb, str) else emb.fingerprint()}"
    todo: list[tuple[TaskSpec, Task, CellIdentity | None]] = []
    for spec, task, _ in work.todo:
        cid = cell_identity(work.spec, work.identity, spec, task)
        if cid.key in done and not rerun:
            work.skipped += 1
        else:
            todo.append((spec, task, cid))
    work.todo = todo


def describe(work: ModelWork, emb: Embedder, load_seconds: float) -> dict[str, Any]:
    """What every cell of this model records about it."""
    return describe_for_results(work.spec.name, {**emb.describe(), "options": work.spec.options,
                                                 "load_seconds": round(load_seconds, 3), "identity": work.identity,
                                                 "machine": machine_info()})


def embedding_stats(source: VectorSource) -> dict[str, Any]:
    """What the shared embedding step cost (recorded with each cell; :mod:`bench.costs` scales it)."""
    if not isinstance(source, PlannedSource):
        return {}
    return {"embed_seconds": round(source.seconds, 3), "embedded_words": source.words,
            "embedded_items": source.computed}


def prepare_source(emb: Embedder, tasks: list[Task]) -> tuple[VectorSource, BaseException | None]:
    """The source the tasks of one model read from, with their declared inputs embedded.

    A model that reads context (the expensive kind) gets a :class:`PlannedSource`: the union
    of the tasks' inputs is embedded once, each distinct sentence once, in one canonical
    order, into the on-disk embedding cache (``CTXBENCH_EMBED_CACHE_GB=0`` keeps it in
    memory instead). Static lookups are cheap and go straight to the model. If the shared
    step fails, the error is returned and each task then prepares its own inputs, so one
    bad input fails only the tasks that use it.
    """
    if emb.stateful or not emb.contextual or emb.static_source:
        return DirectSource(emb), None
    cache = None
    if default_max_bytes() > 0:
        cache = EmbeddingCache(cache_dir("embeddings"), emb.fingerprint(), n_layers=len(emb.layers), dim=emb.dim)
    source = PlannedSource(emb, cache)
    requests = Requests()
    for task in tasks:
        try:
            req = task.inputs()
        except Exception as exc:  # the task will fail on its own when it runs
            logger.debug("inputs() of %s failed: %s", task.name, exc)
            continue
        if req:
            requests.merge(req)
    try:
        source.prepare(requests)
    except Exception as exc:
        log_failure(f"embedding the inputs of {emb.name}", exc)
        return source, exc
    return source, None


def run_cell(task: Task, source: VectorSource, spec: TaskSpec, cid: CellIdentity, emb_spec: EmbedderSpec,
             info: dict[str, Any], suite_name: str, *, prepare_alone: bool = False) -> Cell:
    """Score one task on a model's source; a failure becomes a failed cell."""
    t1 = time.perf_counter()
    try:
        prepare = getattr(source, "prepare", None)  # a PlannedSource, or one like it (the ray executor's)
        if prepare_alone and callable(prepare):
            # the shared embedding step failed: this task's own inputs, alone, decide its fate
            req = task.inputs()
            if req:
                prepare(req)
        out = task.run(source)
        return Cell(
            key=cid.key, slot=cid.slot, embedder=emb_spec.name, task=spec.name, status="ok", identity=cid,
            embedder_options=dict(emb_spec.options), settings=dict(spec.settings),
            results=tuple(out.results), selection=out.selection, embedder_info=info,
            task_meta={k: (list(v) if isinstance(v, tuple) else v) for k, v in task.meta.__dict__.items()},
            seconds=round(time.perf_counter() - t1, 3), finished=_now(), suite=suite_name)
    except Exception as exc:
        log_failure(f"{spec.name} on {emb_spec.name}", exc)
        return failed_cell(cid, emb_spec, spec, "task", exc, info)


def run_suite(suite: Suite, store: ResultStore, *, loader: Loader | None = None,
              on_cell: Callable[[Cell], None] | None = None, rerun: bool = False,
              executor: str | None = None) -> RunSummary:
    """Run every unfinished cell of ``suite`` into ``store``.

    Parameters
    ----------
    loader : callable, optional
        ``loader(name, **options) -> Embedder``; defaults to :func:`embeddings.load`.
    on_cell : callable, optional
        Called with each new cell record (the CLI prints a line per cell).
    rerun : bool
        Run every cell of the suite again even when a finished record with the same
        identity exists (the new record supersedes it).
    executor : {"local", "ray"}, optional
        Where cells run; default: the suite's ``executor`` (``local`` unless it says otherwise).
    """
    from bench.executors import get_executor

    start = time.perf_counter()
    store.repair()
    summary: RunSummary = get_executor(executor or suite.executor).run(
        suite, store, loader=loader or embeddings.load, on_cell=on_cell, rerun=rerun)
    store.compact()
    summary.seconds = round(time.perf_counter() - start, 1)
    return summary
