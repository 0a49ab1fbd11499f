"""What runs on Ray workers: one actor per model, and the cells that read vectors from it.

- :class:`ModelHost` (a Ray actor, one per embedder with work): loads the model ONCE
  (:meth:`~ModelHost.load`), embeds the union of its tasks' declared inputs once, in the
  canonical order, exactly as the local executor does (:meth:`~ModelHost.prepare`, i.e.
  :func:`bench.runner.prepare_source`), then serves vectors (:meth:`~ModelHost.fetch`).
- :func:`score_cell` (a Ray task per cell): :func:`bench.runner.run_cell` on a
  :class:`RemoteSource`, whose :meth:`~RemoteSource.fetch` asks the actor for the requested
  items only. The cell returns its :class:`~bench.cell.Cell`; the driver stores it.

Nothing here writes the result store. The actor writes the model's embedding cache on its
own node (``$CTXBENCH_CACHE/embeddings``), and both read datasets from ``CTXBENCH_MIRROR`` /
``CTXBENCH_CACHE`` (see :mod:`bench.executors.ray_executor` for what must be shared).

Examples
--------
Without Ray, a host is a plain object and a remote source works on any object with the
actor's methods:

>>> from bench.suite import EmbedderSpec
>>> from bench.tasks import get_task
>>> import embeddings
>>> host = ModelHost(EmbedderSpec("random"), embeddings.load)
>>> loaded = host.load()
>>> sorted(loaded)
['fingerprint', 'load_seconds', 'meta', 'stateful']
>>> info, error = host.prepare("random:{}", [get_task("ws353", limit=5)])
>>> src = RemoteSource(_Local(host), loaded["meta"])
>>> src.words_alone(["tiger", "cat"])[0].shape
(2, 1, 50)
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np

from bench.cell import Cell, CellIdentity
from bench.runner import Loader, ModelWork, describe, embedding_stats, prepare_source, run_cell
from bench.suite import EmbedderSpec, TaskSpec
from bench.tasks import Task
from bench.vectors import PlannedSource, Requests, VectorSource
from bench.vectors.source import Table
from embeddings.base import Embedder

logger = logging.getLogger(__name__)

#: a model's items as the actor ships them: (sentence, item) keys, vectors (n, n_layers, dim), OOV (n,)
Packed = tuple[list[tuple[tuple[str, ...], int | str]], np.ndarray, np.ndarray]


def source_meta(emb: Embedder) -> dict[str, Any]:
    """What a :class:`RemoteSource` needs to stand in for the model (no vectors, no weights)."""
    return {"name": emb.name, "family": emb.family, "contextual": emb.contextual, "direction": emb.direction,
            "static_source": emb.static_source, "layers": list(emb.layers), "layer_dims": list(emb.layer_dims),
            "checkpoint": emb.checkpoint or emb.name, "describe": emb.describe()}


def pack(table: Table, n_layers: int, dim: int) -> Packed:
    """A fetched table as three objects (one contiguous array: Ray ships it without per-item pickling)."""
    keys = list(table)
    vecs = np.zeros((len(keys), n_layers, dim), np.float32)
    oov = np.zeros(len(keys), bool)
    for k, key in enumerate(keys):
        vecs[k], oov[k] = table[key]
    return keys, vecs, oov


class ModelHost:
    """One model on a Ray worker (see the module docstring); wrapped by ``ray.remote`` in the executor."""

    def __init__(self, spec: EmbedderSpec, loader: Loader) -> None:
        self.spec = spec
        self.loader = loader
        self.emb: Embedder | None = None
        self.source: VectorSource | None = None
        self.load_seconds = 0.0

    def load(self) -> dict[str, Any]:
        """Load the model (once); its fingerprint, metadata and load time. Errors propagate to the driver."""
        if self.emb is None:
            t0 = time.perf_counter()
            self.emb = self.loader(self.spec.name, **self.spec.options)
            self.load_seconds = time.perf_counter() - t0
            logger.info("%s loaded in %.1fs on pid %d", self.spec.name, self.load_seconds, os.getpid())
        return {"fingerprint": self.emb.fingerprint(), "load_seconds": self.load_seconds,
                "meta": source_meta(self.emb), "stateful": bool(self.emb.stateful)}

    def prepare(self, identity: str, tasks: list[Task]) -> tuple[dict[str, Any], str | None]:
        """Embed the tasks' inputs (:func:`~bench.runner.prepare_source`); the cells' ``embedder_info``
        and the shared step's error, if it failed (each cell then prepares its own inputs)."""
        assert self.emb is not None, "load() first"
        work = ModelWork(self.spec, identity)
        info = describe(work, self.emb, self.load_seconds)
        self.source, error = prepare_source(self.emb, tasks)
        info = {**info, **embedding_stats(self.source)}
        return info, None if error is None else f"{type(error).__name__}: {error}"

    def fetch(self, requests: Requests) -> Packed:
        assert self.source is not None and self.emb is not None, "prepare() first"
        return pack(self.source.fetch(requests), len(self.emb.layers), self.emb.dim)

    def prepare_requests(self, requests: Requests) -> None:
        """One cell's own inputs, when the shared embedding step failed."""
        assert self.source is not None, "prepare() first"
        if isinstance(self.source, PlannedSource):
            self.source.prepare(requests)

    def vocabulary(self) -> list[str] | None:
        assert self.emb is not None, "load() first"
        return self.emb.vocabulary()

    def run_cell(self, task: Task, spec: TaskSpec, cid: CellIdentity, emb_spec: EmbedderSpec, info: dict[str, Any],
                 suite_name: str, prepare_alone: bool) -> Cell:
        """A cell scored inside the actor: for a stateful model (whose vectors depend on what it
        embedded before, so cells must run in the suite's order) or when no room is left for cells."""
        assert self.source is not None, "prepare() first"
        return run_cell(task, self.source, spec, cid, emb_spec, info, suite_name, prepare_alone=prepare_alone)

    def close(self) -> None:
        if isinstance(self.source, PlannedSource) and self.source.cache is not None:
            self.source.cache.close()
        self.source = self.emb = None


class RemoteSource(VectorSource):
    """A model's source on a worker that does not hold the model: vectors come from its actor.

    Each :meth:`fetch` ships the requested items only (one array per call). ``actor`` is a Ray
    actor handle of a :class:`ModelHost` (or anything whose methods have a ``remote``).
    """

    def __init__(self, actor: Any, meta: dict[str, Any]) -> None:  # no embedder here: no super().__init__
        self.actor = actor
        self.name = meta["name"]
        self.family = meta["family"]
        self.contextual = meta["contextual"]
        self.direction = meta["direction"]
        self.static_source = meta["static_source"]
        self.layers = list(meta["layers"])
        self.layer_dims = list(meta["layer_dims"])
        self.checkpoint = meta["checkpoint"]
        self._describe = dict(meta["describe"])
        self._vocabulary: list[str] | None = None
        self._asked = False

    def _call(self, method: str, *args: Any) -> Any:
        ref = getattr(self.actor, method).remote(*args)
        return _get(ref)

    def vocabulary(self) -> list[str] | None:
        if not self._asked:
            self._vocabulary, self._asked = self._call("vocabulary"), True
        return self._vocabulary

    def describe(self) -> dict[str, Any]:
        return dict(self._describe)

    def prepare(self, requests: Requests) -> None:
        self._call("prepare_requests", requests)

    def fetch(self, requests: Requests) -> Table:
        keys, vecs, oov = self._call("fetch", requests)
        return {key: (vecs[k], bool(oov[k])) for k, key in enumerate(keys)}


def score_cell(actor: Any, meta: dict[str, Any], task: Task, spec: TaskSpec, cid: CellIdentity,
               emb_spec: EmbedderSpec, info: dict[str, Any], suite_name: str, prepare_alone: bool) -> Cell:
    """One cell as a Ray task: :func:`~bench.runner.run_cell` on the model's :class:`RemoteSource`."""
    return run_cell(task, RemoteSource(actor, meta), spec, cid, emb_spec, info, suite_name,
                    prepare_alone=prepare_alone)


def _get(ref: Any) -> Any:
    if isinstance(ref, _Done):
        return ref.value
    import ray

    return ray.get(ref)


class _Done:
    def __init__(self, value: Any) -> None:
        self.value = value


class _Local:
    """An in-process stand-in for an actor handle (``handle.method.remote(...)``): doctests, debugging."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._obj, name)

        class _Method:
            @staticmethod
            def remote(*args: Any) -> _Done:
                return _Done(fn(*args))

        return _Method
