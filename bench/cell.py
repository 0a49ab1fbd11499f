"""One (embedder, task) cell: its identity and its record in the result store.

A :class:`CellIdentity` says everything that determines a cell's numbers: the embedder's
identity (for a model the project trains, its recipe; for packaged weights, the package and
its pinned checksums; otherwise the loaded model's fingerprint), the task's name, resolved
settings and version, and the sha256 of every dataset file it reads. A stored cell is reused
only when its identity matches exactly; anything else re-runs it.

A :class:`Cell` is the typed record the runner writes and the store, reports, headline and
CLI read (one JSON line each in ``cells.jsonl``). Per-layer results are
:class:`~bench.result.TaskResult` objects; what all layers share (protocol, dataset
checksums, library versions, checkpoint) is stored once per cell, and the per-item outputs
of the selected layer are stored compressed.

Examples
--------
>>> ident = CellIdentity("random", {}, "random:{}", "ws353", {"n_boot": 50}, "1", {"ws353/pairs": "ab12"})
>>> ident.key == CellIdentity(**ident.to_dict()).key, ident.slot
(True, 'random::ws353')
>>> ident.key != CellIdentity(**{**ident.to_dict(), "task_version": "2"}).key
True
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bench.result import TaskResult
from bench.tasks.base import ItemScores, Selection

__all__ = ["Cell", "CellIdentity", "canonical_order", "slot_of"]


def _short_hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:8]


def slot_of(embedder: str, options: dict[str, Any], task: str, settings: dict[str, Any]) -> str:
    """The suite-level name of a cell: embedder and task as the suite spells them.

    Different versions of one slot (after a protocol change, say) replace each other in the
    report; the newest finished record of a slot is the one shown.

    >>> slot_of("random", {"seed": 1}, "ws353", {})
    'random@a4bbadc1::ws353'
    """
    emb = embedder if not options else f"{embedder}@{_short_hash(options)}"
    tsk = task if not settings else f"{task}@{_short_hash(settings)}"
    return f"{emb}::{tsk}"


@dataclass(frozen=True)
class CellIdentity:
    """Everything that decides a cell's numbers; :attr:`key` hashes it."""

    embedder: str
    embedder_options: dict[str, Any]
    embedder_identity: str
    task: str
    settings: dict[str, Any]
    task_version: str
    dataset_sha256: dict[str, str]
    #: the settings as the suite gave them (for the slot name); the resolved ones are in ``settings``
    given_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def slot(self) -> str:
        return slot_of(self.embedder, self.embedder_options, self.task, self.given_settings)

    @property
    def key(self) -> str:
        """``<slot>#<16 hex digits of sha256 over the identity>``."""
        payload = {k: v for k, v in asdict(self).items() if k != "given_settings"}
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
        return f"{self.slot}#{digest}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pack_items(items: ItemScores) -> dict[str, Any]:
    """Per-item outputs as a compact, JSON-safe blob (zlib-compressed JSON in base64)."""
    raw = json.dumps(items.to_dict(), separators=(",", ":")).encode()
    return {"z": base64.b64encode(zlib.compress(raw, 9)).decode("ascii"), "n": len(items.ids)}


def unpack_items(blob: dict[str, Any]) -> ItemScores:
    if "z" not in blob:  # an uncompressed record
        return ItemScores.from_dict(blob)
    return ItemScores.from_dict(json.loads(zlib.decompress(base64.b64decode(blob["z"]))))


#: TaskResult fields shared by every layer of a cell (stored once per cell)
SHARED = ("task", "embedder", "protocol", "dataset_sha256", "versions", "seconds", "checkpoint")


@dataclass(frozen=True)
class Cell:
    """The record of one finished (or failed) cell."""

    key: str
    slot: str
    embedder: str
    task: str
    status: str  # "ok" or "failed"
    identity: CellIdentity | None = None
    embedder_options: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    results: tuple[TaskResult, ...] = ()
    selection: Selection | None = None
    embedder_info: dict[str, Any] = field(default_factory=dict)
    task_meta: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    finished: str = ""
    suite: str = ""
    stage: str = ""
    error: str = ""
    traceback: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    # -- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)
                             if f.name not in ("identity", "results", "selection")}
        d["identity"] = self.identity.to_dict() if self.identity else None
        if self.results:
            first = self.results[0].to_dict()
            d["shared"] = {k: first[k] for k in SHARED}
            d["results"] = [{k: v for k, v in r.to_dict().items() if k not in SHARED} for r in self.results]
            for r, row in zip(self.results, d["results"], strict=True):
                if r.protocol != first["protocol"]:
                    row["protocol"] = r.protocol  # a layer with its own protocol keeps it
        else:
            d["results"] = []
        if self.selection is not None:
            sel = self.selection.to_dict()
            sel["items"] = pack_items(self.selection.items) if self.selection.items else None
            d["selection"] = sel
        else:
            d["selection"] = None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cell:
        shared = d.get("shared") or {}
        results = tuple(TaskResult.from_dict({**shared, **r}) for r in d.get("results") or [])
        sel = d.get("selection")
        selection = None
        if sel:
            sel = dict(sel)
            items = sel.pop("items", None)
            for k in ("value", "ci_low", "ci_high", "dev_value"):
                if sel.get(k) is None:
                    sel[k] = float("nan")
            selection = Selection(**sel, items=unpack_items(items) if items else None)
        ident = d.get("identity")
        known = {f.name for f in fields(cls)} - {"identity", "results", "selection"}
        return cls(**{k: v for k, v in d.items() if k in known}, results=results, selection=selection,
                   identity=CellIdentity(**ident) if ident else None)


def canonical_order(cells: list[Cell]) -> tuple[list[str], list[str]]:
    """Embedders (by family, static families first, then name) and tasks (in the task registry's
    order): a canonical order, so tables do not depend on the order the cells ran in."""
    from bench.tasks import registry as task_registry
    from embeddings.base import FAMILIES

    fam_rank = {f: k for k, f in enumerate(FAMILIES)}
    embs: dict[str, tuple[int, str]] = {}
    for c in cells:
        embs.setdefault(c.embedder, (fam_rank.get(c.embedder_info.get("family", "other"), len(FAMILIES)), c.embedder))
    known = task_registry.registration_order()
    tasks = sorted({c.task for c in cells}, key=lambda t: (known.index(t) if t in known else len(known), t))
    return sorted(embs, key=lambda e: embs[e]), tasks
