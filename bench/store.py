"""The result store: ``DIR/cells.jsonl``, one JSON line per finished (embedder, task) cell.

Only this module knows the on-disk layout; reports read through :class:`ResultStore`.

- A cell is written when it finishes, atomically (the new file is written beside the old
  one and swapped in with ``os.replace``), so an interrupted run never leaves half a line.
- Re-runs skip cells that finished with status ``ok``; failed cells are retried, and the
  newest record of a key replaces older ones when read.
- A failed cell is kept with its error, so one failing model or task loses nothing else.

Examples
--------
>>> import tempfile
>>> store = ResultStore(tempfile.mkdtemp())
>>> store.add({"key": "k1", "embedder": "e", "task": "t", "status": "ok", "results": []})
>>> store.is_done("k1"), len(store.cells())
(True, 1)
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from bench.result import TaskResult
from embeddings.support.files import atomic_path

logger = logging.getLogger(__name__)

CELLS = "cells.jsonl"


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


def _finite(o: Any) -> Any:
    """NaN and inf are not JSON: store them as null."""
    if isinstance(o, float) and (o != o or o in (float("inf"), float("-inf"))):
        return None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_finite(v) for v in o]
    return o


class ResultStore:
    """Cells of one results directory (default ``results/``)."""

    def __init__(self, root: str | os.PathLike[str] = "results") -> None:
        self.root = Path(root)
        self.path = self.root / CELLS
        self._lock = threading.Lock()

    # -- writing --------------------------------------------------------------------------
    def add(self, cell: dict[str, Any]) -> None:
        """Append one cell record (must have ``key``, ``embedder``, ``task``, ``status``)."""
        for field in ("key", "embedder", "task", "status"):
            if field not in cell:
                raise ValueError(f"a cell record needs {field!r}; got keys {sorted(cell)}")
        line = json.dumps(_finite(json.loads(json.dumps(cell, default=_json_default))),
                          sort_keys=True, allow_nan=False)
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            old = self.path.read_bytes() if self.path.exists() else b""
            if old and not old.endswith(b"\n"):
                old += b"\n"
            with atomic_path(self.path) as tmp:
                tmp.write_bytes(old + line.encode() + b"\n")

    # -- reading ----------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        """Every record in file order (older records of a key included)."""
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValueError(f"{self.path}:{lineno}: not a JSON cell record ({e.msg})") from None
        return out

    def cells(self, *, status: str | None = None) -> list[dict[str, Any]]:
        """The newest record per key, in first-seen order; optionally only one status."""
        latest: dict[str, dict[str, Any]] = {}
        for rec in self.records():
            latest.pop(rec["key"], None)
            latest[rec["key"]] = rec
        cells = list(latest.values())
        return [c for c in cells if status is None or c["status"] == status]

    def is_done(self, key: str) -> bool:
        return any(c["key"] == key and c["status"] == "ok" for c in self.cells())

    def done_keys(self) -> set[str]:
        return {c["key"] for c in self.cells(status="ok")}

    def results(self) -> list[TaskResult]:
        out = []
        for cell in self.cells(status="ok"):
            for r in cell.get("results", []):
                r = {k: (float("nan") if v is None and k in ("value", "ci_low", "ci_high") else v)
                     for k, v in r.items()}
                out.append(TaskResult.from_dict(r))
        return out

    def to_dataframe(self) -> Any:
        """All results as a pandas DataFrame, one row per (embedder, task, layer)."""
        import pandas as pd

        rows = []
        info = {(c["embedder"], c["task"]): c.get("embedder_info", {}) for c in self.cells(status="ok")}
        for r in self.results():
            d = r.to_dict()
            meta = info.get((r.embedder, r.task), {})
            d["family"] = meta.get("family", "")
            d["contextual"] = meta.get("contextual", None)
            rows.append(d)
        return pd.DataFrame(rows)
