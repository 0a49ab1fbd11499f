"""A content-addressed on-disk cache of word vectors, per model, that survives between runs.

One SQLite file per model fingerprint under ``$CTXBENCH_CACHE/embeddings/``. A row is the
(n_layers, dim) float32 vector of one requested item — a word position of a sentence, or a
sentence's pooled vector — keyed by a hash of the sentence and the item, with its OOV flag.
Only what tasks asked for is stored, never every token of every layer. Any change to the
model or its options changes its fingerprint, hence the file: a changed model never reads
another's vectors. Vectors are stored bit-exactly, so a warm run gives the same tables.

Size: at most ``max_bytes`` of vectors per model (``CTXBENCH_EMBED_CACHE_GB``, default 8);
past it, the rows least recently used are dropped (their pages are reused by later rows).

Examples
--------
>>> import tempfile, numpy as np
>>> c = EmbeddingCache(tempfile.mkdtemp(), "abc123", n_layers=2, dim=3)
>>> k = item_key(("the", "bank"), 1)
>>> c.put_many([(k, np.ones((2, 3), np.float32), False)])
>>> vec, oov = c.get_many([k])[k]
>>> vec.shape, bool(oov), len(c)
((2, 3), False, 1)
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from embeddings.support.errors import CacheNotWritable

logger = logging.getLogger(__name__)

#: bump when the stored layout changes (the file name carries it, so old files are ignored)
FORMAT = 1
Item = int | str  # a word position, or a pooling name


def default_max_bytes() -> int:
    try:
        gb = float(os.environ.get("CTXBENCH_EMBED_CACHE_GB", "8"))
    except ValueError:
        gb = 8.0
    return int(gb * 1024**3)


def item_key(sentence: Sequence[str], item: Item) -> bytes:
    """16 bytes naming (sentence, item): the sentence's words and a position or pooling name.

    >>> item_key(("a", "b"), 0) != item_key(("a", "b"), 1) != item_key(("a b",), 0)
    True
    """
    h = hashlib.sha256()
    for w in sentence:
        h.update(w.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    h.update(b"\x1e" + str(item).encode())
    return h.digest()[:16]


class EmbeddingCache:
    """The cached vectors of one model (one SQLite file)."""

    def __init__(self, root: str | os.PathLike[str], fingerprint: str, *, n_layers: int, dim: int,
                 max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.fingerprint = fingerprint
        self.shape = (int(n_layers), int(dim))
        self.row_bytes = 4 * self.shape[0] * self.shape[1]
        self.max_bytes = default_max_bytes() if max_bytes is None else int(max_bytes)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CacheNotWritable(self.root, e) from e
        self.path = self.root / f"{fingerprint}-v{FORMAT}.sqlite"
        self._db = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, data BLOB NOT NULL, "
                         "oov INTEGER NOT NULL, used REAL NOT NULL)")
        stored = dict(self._db.execute("SELECT k, v FROM meta").fetchall())
        if stored and stored.get("shape") != f"{self.shape[0]}x{self.shape[1]}":
            raise ValueError(f"{self.path}: cached vectors are {stored.get('shape')}, the model gives "
                             f"{self.shape[0]}x{self.shape[1]}; delete the file")
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('shape', ?)", (f"{self.shape[0]}x{self.shape[1]}",))
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vec").fetchone()[0])

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, tuple[np.ndarray, bool]]:
        """The cached (vector (n_layers, dim), oov) of each key present."""
        out: dict[bytes, tuple[np.ndarray, bool]] = {}
        now = time.time()
        for start in range(0, len(keys), 500):
            part = list(keys[start : start + 500])
            marks = ",".join("?" * len(part))
            for key, data, oov in self._db.execute(f"SELECT key, data, oov FROM vec WHERE key IN ({marks})", part):
                out[bytes(key)] = (np.frombuffer(data, dtype=np.float32).reshape(self.shape), bool(oov))
            if out:
                self._db.execute(f"UPDATE vec SET used = ? WHERE key IN ({marks})", [now, *part])
        self.hits += len(out)
        self.misses += len(keys) - len(out)
        return out

    def put_many(self, rows: Iterable[tuple[bytes, np.ndarray, bool]]) -> None:
        """Store rows (key, vector (n_layers, dim), oov); then keep the file within ``max_bytes``."""
        now = time.time()
        batch = []
        for key, vec, oov in rows:
            arr = np.ascontiguousarray(vec, dtype=np.float32)
            if arr.shape != self.shape:
                raise ValueError(f"vector of shape {arr.shape} for a cache of {self.shape}")
            batch.append((key, arr.tobytes(), int(bool(oov)), now))
        if not batch:
            return
        try:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?)", batch)
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as e:
            self._db.execute("ROLLBACK") if self._db.in_transaction else None
            raise CacheNotWritable(self.root, e) from e
        self._bound()

    def _bound(self) -> None:
        limit = max(1, self.max_bytes // self.row_bytes)
        n = len(self)
        if n <= limit:
            return
        drop = n - int(limit * 0.9)
        self._db.execute("DELETE FROM vec WHERE key IN (SELECT key FROM vec ORDER BY used LIMIT ?)", (drop,))
        logger.info("embedding cache %s: dropped the %d least recently used vectors (bound %.1f GB)",
                    self.path.name, drop, self.max_bytes / 1024**3)

    def close(self) -> None:
        self._db.close()
