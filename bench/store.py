"""The result store: ``DIR/cells.jsonl``, one JSON line per finished (embedder, task) cell.

Only this module knows the on-disk layout; reports read :class:`~bench.cell.Cell` records
through :class:`ResultStore`.

- Appending a cell costs O(1): one ``write`` of the line in append mode plus ``fsync``, under
  a cross-process file lock (``cells.jsonl.lock``), so two ``ctxbench run`` processes on one
  directory never lose each other's cells. Under the lock the store first reads what other
  processes appended since, and a cell whose key is already finished is not written twice:
  two concurrent runs end with every cell exactly once.
- A crash mid-append can leave a torn last line (no newline). It is detected, reported and
  repaired (cut back to the last complete line) the next time the store is opened for
  writing; no complete line is ever lost. A damaged line elsewhere is an error naming its
  line number.
- Re-runs skip a cell only when its key (which hashes its full identity, see
  :class:`~bench.cell.CellIdentity`) has a finished record; failed cells are kept with their
  error and traceback and retried. :meth:`ResultStore.compact` drops superseded records
  (older versions of a slot) so a committed store stays small.

Examples
--------
>>> import tempfile
>>> from bench.cell import Cell
>>> store = ResultStore(tempfile.mkdtemp())
>>> store.add(Cell(key="s#1", slot="s", embedder="e", task="t", status="ok"))
True
>>> store.add(Cell(key="s#1", slot="s", embedder="e", task="t", status="ok"))  # already there
False
>>> store.is_done("s#1"), len(store.cells())
(True, 1)
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from bench.cell import Cell
from bench.result import TaskResult
from embeddings.support.errors import CtxbenchError
from embeddings.support.files import atomic_path, file_lock

logger = logging.getLogger(__name__)

CELLS = "cells.jsonl"


class StoreError(CtxbenchError, ValueError):
    """A result store that cannot be read (a damaged line that is not the torn last one)."""


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


def encode(cell: Cell) -> bytes:
    """One JSON line (with its newline) for ``cell``."""
    plain = json.loads(json.dumps(cell.to_dict(), default=_json_default))
    return (json.dumps(_finite(plain), sort_keys=True, allow_nan=False, separators=(",", ":")) + "\n").encode()


class ResultStore:
    """Cells of one results directory (default ``results/``)."""

    def __init__(self, root: str | os.PathLike[str] = "results") -> None:
        self.root = Path(root)
        self.path = self.root / CELLS
        # what this process has read so far: (inode, bytes read, lines read) and the records
        self._seen: tuple[int, int, int] = (-1, 0, 0)
        self._records: list[Cell] = []

    # -- writing --------------------------------------------------------------------------
    def add(self, cell: Cell, *, replace: bool = False) -> bool:
        """Append ``cell``; returns False (and writes nothing) when its key is already finished,
        unless ``replace`` (``--rerun``): then the new record supersedes the old one."""
        line = encode(cell)
        with file_lock(self.path):
            self._repair_locked()
            self._refresh()
            if cell.ok and not replace and any(r.key == cell.key and r.ok for r in self._records):
                return False
            with open(self.path, "ab") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            self._refresh()
        return True

    def repair(self) -> bool:
        """Cut a torn last line (left by a crash mid-append); True when something was repaired."""
        if not self.path.exists():
            return False
        with file_lock(self.path):
            return self._repair_locked()

    def _repair_locked(self) -> bool:
        if not self.path.exists():
            return False
        size = self.path.stat().st_size
        if size == 0:
            return False
        with open(self.path, "rb+") as f:
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return False
            # read back to the last newline: everything after it is the torn line
            start = max(0, size - (1 << 20))
            while True:
                f.seek(start)
                tail = f.read(size - start)
                cut = tail.rfind(b"\n")
                if cut >= 0 or start == 0:
                    break
                start = max(0, start - (1 << 20))
            keep = start + cut + 1 if cut >= 0 else 0
            torn = tail[cut + 1 :] if cut >= 0 else tail
            try:  # a complete record that only lacks its newline is kept
                json.loads(torn)
                f.seek(size)
                f.write(b"\n")
                logger.warning("%s: the last line had no newline; added it", self.path)
            except ValueError:
                f.truncate(keep)
                logger.warning("%s: removed a torn last line (%d bytes) left by an interrupted run; "
                               "every complete line is kept", self.path, len(torn))
            f.flush()
            os.fsync(f.fileno())
        self._seen, self._records = (-1, 0, 0), []
        return True

    def compact(self) -> int:
        """Rewrite the file keeping only the newest record of each slot; returns records dropped."""
        if not self.path.exists():
            return 0
        with file_lock(self.path):
            self._repair_locked()
            self._seen, self._records = (-1, 0, 0), []
            self._refresh()
            keep = self._latest()
            dropped = len(self._records) - len(keep)
            if dropped:
                with atomic_path(self.path) as tmp:
                    tmp.write_bytes(b"".join(encode(c) for c in keep))
                self._seen, self._records = (-1, 0, 0), []
            return dropped

    # -- reading ----------------------------------------------------------------------------
    def _refresh(self) -> None:
        """Parse lines appended since the last read (all of them after a rewrite)."""
        if not self.path.exists():
            self._seen, self._records = (-1, 0, 0), []
            return
        st = self.path.stat()
        inode, offset, lines = self._seen
        if st.st_ino != inode or st.st_size < offset:
            inode, offset, lines, self._records = st.st_ino, 0, 0, []
        if st.st_size == offset:
            return
        with open(self.path, "rb") as f:
            f.seek(offset)
            data = f.read(st.st_size - offset)
        end = data.rfind(b"\n") + 1  # a torn last line is left for repair()
        chunk = data[:end].split(b"\n")[:-1] if end else []
        for k, raw in enumerate(chunk):
            if not raw.strip():
                continue
            try:
                self._records.append(Cell.from_dict(json.loads(raw)))
            except (ValueError, TypeError, KeyError) as e:
                raise StoreError(f"{self.path}:{lines + k + 1}: not a cell record ({e})") from None
        if end < len(data):
            logger.warning("%s: the last line is incomplete (an interrupted run?); it will be repaired by "
                           "the next run", self.path)
        self._seen = (inode, offset + end, lines + len(chunk))

    def records(self) -> list[Cell]:
        """Every record in file order (older records of a slot included)."""
        self._refresh()
        return list(self._records)

    def _latest(self) -> list[Cell]:
        latest: dict[str, Cell] = {}
        for rec in self._records:
            latest.pop(rec.slot, None)
            latest[rec.slot] = rec
        return list(latest.values())

    def cells(self, *, status: str | None = None) -> list[Cell]:
        """The newest record per slot, in first-seen order; optionally only one status."""
        self._refresh()
        return [c for c in self._latest() if status is None or c.status == status]

    def is_done(self, key: str) -> bool:
        return key in self.done_keys()

    def done_keys(self) -> set[str]:
        """Keys with a finished record (any version still in the file)."""
        self._refresh()
        return {c.key for c in self._records if c.ok}

    def results(self) -> list[TaskResult]:
        return [r for c in self.cells(status="ok") for r in c.results]

    def to_dataframe(self) -> Any:
        """All results as a pandas DataFrame, one row per (embedder, task, layer)."""
        import pandas as pd

        rows = []
        for c in self.cells(status="ok"):
            for r in c.results:
                d = r.to_dict()
                d["family"] = c.embedder_info.get("family", "")
                d["contextual"] = c.embedder_info.get("contextual")
                rows.append(d)
        return pd.DataFrame(rows)
