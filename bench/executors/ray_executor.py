"""The ray executor: a suite's cells on a Ray cluster; results stored by the driver alone.

``ctxbench run SUITE --executor ray`` (or ``executor: ray`` in the suite) runs the same three
steps as the local executor (:mod:`bench.runner`), spread over a cluster:

1. The driver (the process running ``ctxbench``) plans the run: :func:`~bench.runner.plan_run`
   names every cell without loading a model and skips the finished ones, so a resumed run
   does only what is left.
2. Each embedder with work gets a Ray actor (:class:`~bench.executors.ray_worker.ModelHost`)
   with the resources the suite's ``ray:`` key asks for (:mod:`bench.executors.resources`).
   It loads the model once and embeds the union of its tasks' declared inputs once, in the
   canonical order, into its node's embedding cache — the same vectors the local executor
   computes.
3. Each cell is a Ray task (:func:`~bench.executors.ray_worker.score_cell`): it scores one task,
   reading the vectors it asks for from the actor, and returns its Cell. Cells of a stateful
   model (its vectors depend on what it embedded before) run inside its actor, in the
   suite's order, as they do locally.

The driver appends each returned cell to the store as it arrives, so the store's guarantees
hold unchanged: one writer, atomic appends, each key once, resumable after a crash. A cell
that raises on a worker is a failed cell with the worker's traceback; a worker or actor that
dies fails only its cells; the other cells go on.

What is shipped: to an actor, the embedder spec, the loader (by reference; ``embeddings.load``
by default) and the model's task objects (settings only; datasets are read on the worker);
to a cell, its task object, the cell identity and the model's metadata; from the actor to a
cell, only the vectors of the items the cell asks for (one float32 array per request); back to
the driver, the cell record. What every node needs: ctxbench installed (same version and
locked dependencies as the driver), and the datasets: ``CTXBENCH_MIRROR`` (read-only) and
``CTXBENCH_CACHE`` at paths valid on every node, ideally shared storage. The driver's
``CTXBENCH_*``, ``HF_*`` and ``TRANSFORMERS_*`` variables are forwarded to every actor and
cell (they merge into the job's runtime environment). The embedding cache need not be
shared: a model's actor is the only reader and writer of it.

Connecting: an already initialised Ray (``ray.init`` called by the caller) is used as it is;
otherwise ``RAY_ADDRESS`` if set (``ray://head:10001`` for Ray Client, or a GCS address),
else a cluster started on this machine with ``ray start`` (``address="auto"``), else a new
local one.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.cell import Cell, CellIdentity
from bench.executors.ray_worker import ModelHost, score_cell
from bench.executors.resources import RaySettings, demand, fits
from bench.runner import (
    Loader,
    ModelWork,
    Recorder,
    RunSummary,
    complete_identities,
    failed_cell,
    log_failure,
    plan_run,
)
from bench.store import ResultStore
from bench.suite import Suite, TaskSpec
from embeddings.support.errors import CtxbenchError

logger = logging.getLogger(__name__)

#: environment variables forwarded from the driver to every actor and cell
FORWARD_PREFIXES = ("CTXBENCH_", "HF_", "TRANSFORMERS_")
FORWARD_NAMES = ("TOKENIZERS_PARALLELISM", "PYTHONHASHSEED")


class RayUnavailable(CtxbenchError, ImportError):
    """Ray is not installed: ``pip install ctxbench[ray]``."""


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise RayUnavailable("the ray executor needs Ray: pip install 'ctxbench[ray]' (or use --executor local)"
                             ) from e
    return ray


def connect(ray: Any) -> None:
    """Use the running Ray session, else ``RAY_ADDRESS``, else a ``ray start`` cluster here, else a new one."""
    if ray.is_initialized():
        return
    address = os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=True)
        return
    try:
        ray.init(address="auto", log_to_driver=True)
        logger.info("connected to the Ray cluster running on this machine")
    except ConnectionError:
        ray.init(include_dashboard=False)
        logger.info("started a local Ray cluster: %s", ray.cluster_resources())


def forwarded_env() -> dict[str, str]:
    """The driver's variables that decide what a worker reads and computes (see the module docstring)."""
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARD_PREFIXES) or k in FORWARD_NAMES}


def remote_failure(cid: CellIdentity | None, work: ModelWork, spec: TaskSpec, stage: str, exc: BaseException,
                   info: dict[str, Any] | None = None) -> Cell:
    """A failed cell from an error Ray raised on the driver: the original error, the worker's traceback."""
    cause = getattr(exc, "cause", None)
    shown = cause if isinstance(cause, BaseException) else exc
    log_failure(f"{spec.name} on {work.spec.name} ({stage}, on a Ray worker)", shown)
    cell = failed_cell(cid, work.spec, spec, stage, shown, info)
    return dataclasses.replace(cell, traceback=str(exc))


@dataclass
class _Model:
    """A model in flight: its work, actor and what the driver waits for."""

    work: ModelWork
    need: dict[str, float]
    actor: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    in_actor: bool = False
    left: int = 0


class RayExecutor:
    """Runs a suite's cells on a Ray cluster (see the module docstring)."""

    def run(self, suite: Suite, store: ResultStore, *, loader: Loader, on_cell: Callable[[Cell], None] | None,
            rerun: bool) -> RunSummary:
        ray = _import_ray()
        connect(ray)
        settings: RaySettings = suite.ray
        env = {"env_vars": forwarded_env()}
        host_cls = ray.remote(ModelHost)
        cell_fn = ray.remote(score_cell)
        cell_need = demand(settings.cell)

        works = plan_run(suite, store, rerun=rerun)
        done = store.done_keys()
        record = Recorder(suite, store, on_cell, rerun=rerun)  # the driver alone writes the store

        waiting: list[_Model] = []
        for work in works:
            for cell in work.failed:
                record(cell)
            record.skipped(work.skipped)
            if work.todo:
                waiting.append(_Model(work, demand(settings.for_model(work.spec.name))))

        live: list[_Model] = []
        # object ref -> (what it is, its model, the cell's task spec and identity)
        inflight: dict[Any, tuple[str, _Model, TaskSpec | None, CellIdentity | None]] = {}

        def retire(m: _Model) -> None:
            if m.actor is not None:
                m.actor.close.remote()  # queued after its pending calls; the actor exits once the handle goes
                m.actor = None
            if m in live:
                live.remove(m)

        def fail_model(m: _Model, exc: BaseException, stage: str = "load") -> None:
            for spec, _, cid in m.work.todo:
                record(remote_failure(cid, m.work, spec, stage, exc, m.info or None))
            retire(m)

        def admit() -> None:
            """Start actors while the cluster keeps room for at least one cell beside them."""
            totals = ray.cluster_resources()
            for m in list(waiting):
                if not fits(totals, m.need):
                    waiting.remove(m)
                    fail_model(m, CtxbenchError(
                        f"ray: the actor of {m.work.spec.name} asks for {m.need} but the cluster has "
                        f"{ {k: totals.get(k, 0.0) for k in m.need} }; lower ray.resources.{m.work.spec.name} "
                        f"in the suite or add nodes"))
                    continue
                held = [x.need for x in live]
                alone = not live
                if not alone and not fits(totals, *held, m.need, cell_need):
                    continue
                waiting.remove(m)
                # a lone actor that leaves no room for a cell scores its cells itself
                m.in_actor = not fits(totals, m.need, cell_need)
                opts: dict[str, Any] = {"max_restarts": 0, "runtime_env": env, **_actor_options(m.need)}
                m.actor = host_cls.options(**opts).remote(m.work.spec, loader)
                logger.debug("actor for %s requested: %s", m.work.spec.key, opts)
                live.append(m)
                inflight[m.actor.load.remote()] = ("load", m, None, None)

        def on_loaded(m: _Model, loaded: dict[str, Any]) -> None:
            before = m.work.skipped
            complete_identities(m.work, loaded["fingerprint"], done, rerun)
            record.skipped(m.work.skipped - before)
            if not m.work.todo:
                retire(m)
                return
            m.meta = loaded["meta"]
            m.in_actor = m.in_actor or loaded["stateful"]
            assert m.work.identity is not None
            ref = m.actor.prepare.remote(m.work.identity, [task for _, task, _ in m.work.todo])
            inflight[ref] = ("prepare", m, None, None)

        def on_prepared(m: _Model, prepared: tuple[dict[str, Any], str | None]) -> None:
            m.info, prepare_error = prepared
            alone = prepare_error is not None
            m.left = len(m.work.todo)
            for spec, task, cid in m.work.todo:  # submitted in the suite's order (an actor runs them in it)
                assert cid is not None
                if m.in_actor:
                    ref = m.actor.run_cell.remote(task, spec, cid, m.work.spec, m.info, suite.name, alone)
                else:
                    ref = cell_fn.options(runtime_env=env, max_retries=1, **_task_options(cell_need)).remote(
                        m.actor, m.meta, task, spec, cid, m.work.spec, m.info, suite.name, alone)
                inflight[ref] = ("cell", m, spec, cid)

        admit()
        while inflight:
            ready, rest = ray.wait(list(inflight), num_returns=1)
            if rest:  # and whatever else is ready now: one pass over the refs per batch, not per result
                ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
            for ref in ready:
                kind, m, spec, cid = inflight.pop(ref)
                try:
                    value = ray.get(ref)
                except Exception as exc:  # a Ray error: the original exception and the worker's traceback
                    if kind == "cell":
                        assert spec is not None
                        record(remote_failure(cid, m.work, spec, "task", exc, m.info))
                        m.left -= 1
                        if m.left == 0:
                            retire(m)
                    else:
                        fail_model(m, exc, kind)
                    continue
                logger.debug("%s of %s returned", kind, m.work.spec.key)
                if kind == "load":
                    on_loaded(m, value)
                elif kind == "prepare":
                    on_prepared(m, value)
                else:
                    record(value)
                    m.left -= 1
                    if m.left == 0:
                        retire(m)
            if waiting:
                admit()
            if waiting and not inflight and not live:  # cannot happen: a lone actor is always admitted
                raise RuntimeError("ray executor: models left that could not be scheduled")
        record.close()
        return record.summary


def _actor_options(need: dict[str, float]) -> dict[str, Any]:
    return {"num_cpus": need.get("CPU", 0.0), "num_gpus": need.get("GPU", 0.0),
            **({"memory": need["memory"]} if need.get("memory") else {})}


_task_options = _actor_options

