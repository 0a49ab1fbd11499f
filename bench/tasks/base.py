"""What a task is: metadata next to the code, validated settings, one ``evaluate`` hook.

A task scores one embedder on one dataset, per layer, and says which layer it would pick
WITHOUT looking at the test items (:class:`Selection`), with the per-item outputs of that
layer so two models can be compared on the items both scored.

Task code sees only the :class:`~embeddings.base.Embedder` interface: no family-specific
branches, so a new adapter is picked up by every task.
"""

from __future__ import annotations

import hashlib
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from bench.result import TaskResult, library_versions
from bench.vectors import Requests, VectorSource, as_source
from embeddings.base import Embedder
from embeddings.registries import suggest
from embeddings.support.errors import ConfigError

KINDS = ("similarity", "analogy", "context", "geometry", "classification")
#: resampling unit of a task -> the bootstrap scheme of bench.stats
RESAMPLE_UNITS = {"item": "item", "word": "cluster", "word-stratified": "stratified"}


@dataclass(frozen=True)
class TaskMeta:
    """Everything a reader needs to trust a number: dataset, licence, citation, metric."""

    name: str
    kind: str
    description: str
    metric: str
    datasets: tuple[str, ...]
    license: str
    citation: str
    higher_is_better: bool = True
    version: str = "1"
    #: what the test split is made of and what every CI and paired difference resamples:
    #: "item" (pairs, questions), "word" (all items of a word move together: the probes) or
    #: "word-stratified" (items resampled within each word, macro metric: CoarseWSD-20)
    resample_unit: str = "item"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"task {self.name}: kind {self.kind!r} not in {KINDS}")
        if self.resample_unit not in RESAMPLE_UNITS:
            raise ValueError(f"task {self.name}: resample_unit {self.resample_unit!r} not in {RESAMPLE_UNITS}")
        for f in ("name", "description", "metric", "license", "citation"):
            if not getattr(self, f):
                raise ValueError(f"task {self.name}: metadata field {f!r} is empty")


@dataclass(frozen=True)
class ItemScores:
    """Per-item outputs of one layer: ``metric(pred, gold)`` gives the score.

    For Spearman tasks ``pred`` are model similarities and ``gold`` human scores; for
    accuracy tasks ``pred`` is 1.0/0.0 (correct or not) and ``gold`` is empty.
    """

    ids: tuple[str, ...]
    pred: tuple[float, ...]
    gold: tuple[float, ...] = ()
    metric: str = "spearman"
    #: the resampling unit of each item (a word), when the task resamples by group
    groups: tuple[str, ...] = ()
    #: bootstrap scheme (bench.stats.SCHEMES): "item", "cluster" (by group) or "stratified"
    scheme: str = "item"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"ids": list(self.ids), "pred": [round(float(p), 6) for p in self.pred],
                             "gold": list(self.gold), "metric": self.metric}
        if self.groups:
            d["groups"], d["scheme"] = list(self.groups), self.scheme
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ItemScores:
        return cls(tuple(d["ids"]), tuple(d["pred"]), tuple(d.get("gold", ())), d.get("metric", "spearman"),
                   tuple(d.get("groups", ())), d.get("scheme", "item"))


@dataclass(frozen=True)
class Selection:
    """The layer a task picks without the test items, and its score on the test items.

    ``criterion`` says how it was chosen (e.g. 'best Spearman on the dev half of the pairs',
    'best accuracy on train'); ``oracle`` is True only for a best-on-test choice, which
    reports must label as such.
    """

    layer: str
    criterion: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    split: str
    items: ItemScores | None = None
    oracle: bool = False
    #: the chosen layer's score on the data it was chosen on (dev half, dev split, train):
    #: what comparisons may use to pick a representative model without test data
    dev_value: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["items"] = self.items.to_dict() if self.items else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Selection:
        d = dict(d)
        items = d.pop("items", None)
        return cls(**d, items=ItemScores.from_dict(items) if items else None)


@dataclass
class TaskOutput:
    results: list[TaskResult]
    selection: Selection | None = None


def stable_fraction(key: str, salt: str = "") -> float:
    """A number in [0, 1) from a hash of ``key``: model-independent item splits.

    >>> stable_fraction("tiger|cat") == stable_fraction("tiger|cat")
    True
    """
    digest = hashlib.sha256(f"{salt}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2**64


class Task(ABC):
    """Base class: subclasses set :attr:`meta` and :attr:`defaults` and implement :meth:`evaluate`.

    Settings are keyword arguments validated against :attr:`defaults` (plus the common
    ``limit``, ``seed`` and ``n_boot``); an unknown setting raises with a did-you-mean.
    """

    # class attributes (parametrised tasks set ``meta`` per instance); never mutated
    meta: TaskMeta
    defaults: dict[str, Any] = {}  # noqa: RUF012
    common: ClassVar[dict[str, Any]] = {"limit": None, "seed": 0, "n_boot": 1000}
    #: allowed values of enumerated settings, checked at construction
    choices: dict[str, tuple[Any, ...]] = {}  # noqa: RUF012

    def __init__(self, **settings: Any) -> None:
        allowed = {**self.common, **self.defaults}
        for key in settings:
            if key not in allowed:
                raise ConfigError(f"task {self.meta.name}: unknown setting {key!r}; "
                                 f"{suggest(key, allowed)}allowed: {sorted(allowed)}")
        self.settings: dict[str, Any] = {**allowed, **settings}
        for key, values in self.choices.items():
            if self.settings[key] not in values:
                raise ConfigError(f"task {self.meta.name}: {key}={self.settings[key]!r}; allowed: {values}")
        if self.settings["limit"] is not None and int(self.settings["limit"]) < 1:
            raise ConfigError(f"task {self.meta.name}: limit must be a positive integer")

    @property
    def name(self) -> str:
        return self.meta.name

    def run(self, model: Embedder | VectorSource) -> TaskOutput:
        """Evaluate an embedder (or a prepared source) and stamp every result with timing,
        versions and the checkpoint."""
        source = as_source(model)
        start = time.perf_counter()
        out = self.evaluate(source)
        seconds = round(time.perf_counter() - start, 3)
        versions = library_versions()
        checkpoint = source.checkpoint
        out.results = [
            TaskResult(**{**r.to_dict(), "seconds": seconds, "versions": versions,
                          "checkpoint": r.checkpoint or checkpoint})
            for r in out.results
        ]
        return out

    def inputs(self) -> Requests | None:
        """Every vector :meth:`evaluate` will read, declared beforehand (None: not declared).

        The runner merges the inputs of all tasks a model runs and embeds each distinct
        sentence once, in one canonical order, before any task scores. A task that declares
        nothing still works: its vectors are computed when it asks for them.
        """
        return None

    @abstractmethod
    def evaluate(self, source: VectorSource) -> TaskOutput:
        """Score the model behind ``source``: one TaskResult per layer, and the selection."""

    # -- helpers for subclasses ------------------------------------------------------------
    def dataset_sha256(self) -> dict[str, str]:
        from bench.datasets import get_dataset

        out: dict[str, str] = {}
        for name in self.meta.datasets:
            for key, df in get_dataset(name).files.items():
                out[f"{name}/{key}"] = df.sha256
        return out

    def result(self, embedder: Embedder | VectorSource, layer: str, value: float, ci: tuple[float, float], n: int,
               total: int, *, protocol: dict[str, Any] | None = None,
               extra: dict[str, Any] | None = None, metric: str | None = None, sampled: int = 0) -> TaskResult:
        return TaskResult(
            task=self.meta.name, embedder=embedder.name, layer=layer, metric=metric or self.meta.metric,
            value=float(value), ci_low=float(ci[0]), ci_high=float(ci[1]), n=int(n), total=int(total),
            protocol={**self.settings, **(protocol or {}), "task_version": self.meta.version},
            dataset_sha256=self.dataset_sha256(), extra=dict(extra or {}), sampled=int(sampled),
        )
