"""The runner: every (embedder, task) cell of a suite, resumable, failure-tolerant.

For each embedder, the runner first names every cell WITHOUT loading anything: the
embedder's identity (:func:`embeddings.identity`: a stand-in's recipe, a package's pinned
checksums) plus each task's resolved settings, version and dataset checksums give the cell's
key (:class:`~bench.cell.CellIdentity`). Cells whose key is finished in the store are
skipped; only if some cell remains is the model loaded (and, when its identity could not be
named beforehand, its fingerprint completes the keys). Each finished cell is appended to the
store at once.

Failures stay local: an exception while loading a model or running a task is recorded as a
failed cell (with the error and traceback) and the run goes on; re-running the same command
retries failed cells and skips finished ones. Errors ctxbench raises on purpose
(:class:`~embeddings.support.errors.CtxbenchError`: a missing dataset, a bad file) are
logged in one line; anything else is a bug, and its traceback is logged too.
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
from bench.cell import Cell, CellIdentity
from bench.machine import machine_info
from bench.models import describe_for_results
from bench.store import ResultStore
from bench.suite import EmbedderSpec, Suite, TaskSpec
from bench.tasks import Task, get_task
from bench.vectors import DirectSource, EmbeddingCache, PlannedSource, Requests, VectorSource
from bench.vectors.cache import default_max_bytes
from embeddings.base import Embedder
from embeddings.progress import progress_bar
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


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _log_failure(what: str, exc: BaseException) -> None:
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


def _failed(ident: CellIdentity | None, emb: EmbedderSpec, spec: TaskSpec, stage: str, exc: BaseException,
            slot: str, info: dict[str, Any] | None = None) -> Cell:
    key = ident.key if ident else f"{slot}#failed"
    return Cell(key=key, slot=slot, embedder=emb.name, task=spec.name, status="failed", identity=ident,
                embedder_options=dict(emb.options), settings=dict(spec.settings), embedder_info=info or {},
                stage=stage, error=f"{type(exc).__name__}: {exc}",
                traceback="".join(traceback.format_exception(exc, limit=12)), finished=_now())


def _prepare(emb: Embedder, tasks: list[Task]) -> tuple[VectorSource, BaseException | None]:
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
        _log_failure(f"embedding the inputs of {emb.name}", exc)
        return source, exc
    return source, None


def run_suite(suite: Suite, store: ResultStore, *, loader: Loader | None = None,
              on_cell: Callable[[Cell], None] | None = None, rerun: bool = False) -> RunSummary:
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
    """
    from bench.cell import slot_of

    load = loader or embeddings.load
    summary = RunSummary()
    start = time.perf_counter()
    store.repair()
    done = store.done_keys()
    bar = progress_bar(total=len(suite.embedders) * len(suite.tasks), desc=f"suite {suite.name}", unit="cell")

    def record(cell: Cell) -> None:
        if cell.ok:
            summary.ran += 1
        else:
            summary.failed += 1
        store.add(cell)
        bar.update(1)
        if on_cell:
            on_cell(cell)

    # each distinct task spec is built once; one that cannot even be built fails its cells for every model
    built: dict[str, Task | BaseException] = {}

    def build(spec: TaskSpec) -> Task | BaseException:
        if spec.key not in built:
            try:
                built[spec.key] = get_task(spec.name, **spec.settings)
            except Exception as exc:
                _log_failure(f"building task {spec.name}", exc)
                built[spec.key] = exc
        return built[spec.key]

    for emb_spec in suite.embedders:
        specs = suite.tasks_for(emb_spec)
        slots = [slot_of(emb_spec.name, emb_spec.options, t.name, t.settings) for t in specs]
        try:
            ident = embeddings.identity(emb_spec.name, **emb_spec.options)
        except Exception as exc:  # an unknown name, a bad option: every cell of this model fails
            _log_failure(f"naming {emb_spec.name}", exc)
            for spec, slot in zip(specs, slots, strict=True):
                record(_failed(None, emb_spec, spec, "load", exc, slot))
            continue
        emb: Embedder | None = None
        if ident is None:  # only the loaded model can name itself
            try:
                emb = load(emb_spec.name, **emb_spec.options)
                ident = f"fingerprint:{emb.fingerprint()}"
            except Exception as exc:
                _log_failure(f"loading {emb_spec.name}", exc)
                for spec, slot in zip(specs, slots, strict=True):
                    record(_failed(None, emb_spec, spec, "load", exc, slot))
                continue
        todo: list[tuple[TaskSpec, Task, CellIdentity]] = []
        for spec, slot in zip(specs, slots, strict=True):
            task = build(spec)
            if isinstance(task, BaseException):
                record(_failed(None, emb_spec, spec, "task", task, slot))
                continue
            cid = cell_identity(emb_spec, ident, spec, task)
            if cid.key in done and not rerun:
                summary.skipped += 1
                bar.update(1)
                continue
            todo.append((spec, task, cid))
        if not todo:
            continue
        t0 = time.perf_counter()
        if emb is None:
            try:
                emb = load(emb_spec.name, **emb_spec.options)
            except Exception as exc:  # record and go on with the next model
                _log_failure(f"loading {emb_spec.name}", exc)
                for spec, _, cid in todo:
                    record(_failed(cid, emb_spec, spec, "load", exc, cid.slot))
                continue
        load_seconds = round(time.perf_counter() - t0, 3)
        info = describe_for_results(emb_spec.name, {**emb.describe(), "options": emb_spec.options,
                                                    "load_seconds": load_seconds, "identity": ident,
                                                    "machine": machine_info()})
        source, prepare_error = _prepare(emb, [task for _, task, _ in todo])
        for spec, task, cid in todo:
            bar.set_postfix_str(f"{emb_spec.name} / {spec.name}")
            t1 = time.perf_counter()
            try:
                if prepare_error is not None and isinstance(source, PlannedSource):
                    # the shared embedding step failed: this task's own inputs, alone, decide its fate
                    req = task.inputs()
                    if req:
                        source.prepare(req)
                out = task.run(source)
                cell = Cell(
                    key=cid.key, slot=cid.slot, embedder=emb_spec.name, task=spec.name, status="ok", identity=cid,
                    embedder_options=dict(emb_spec.options), settings=dict(spec.settings),
                    results=tuple(out.results), selection=out.selection, embedder_info=info,
                    task_meta={k: (list(v) if isinstance(v, tuple) else v) for k, v in task.meta.__dict__.items()},
                    seconds=round(time.perf_counter() - t1, 3), finished=_now(), suite=suite.name)
            except Exception as exc:
                _log_failure(f"{spec.name} on {emb_spec.name}", exc)
                cell = _failed(cid, emb_spec, spec, "task", exc, cid.slot, info)
            record(cell)
        if isinstance(source, PlannedSource) and source.cache is not None:
            logger.info("%s: %d vectors embedded, %d reused from the cache, %d unplanned", emb_spec.name,
                        source.computed, source.reused, source.unplanned)
            source.cache.close()
        del emb, source
        gc.collect()
    bar.close()
    store.compact()
    summary.seconds = round(time.perf_counter() - start, 1)
    return summary
