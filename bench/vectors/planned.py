"""The runner's source: everything a model's tasks need, embedded once, kept on disk.

:meth:`PlannedSource.prepare` takes the merged :class:`~bench.vectors.requests.Requests` of
every task the runner is about to run on a model, looks each item up in the model's
:class:`~bench.vectors.cache.EmbeddingCache`, and embeds the sentences still missing in ONE
canonical order (length, then words), storing only the requested items. Tasks then read
through :meth:`PlannedSource.fetch`; an item nobody declared is computed on the spot and
counted in :attr:`PlannedSource.unplanned` (``strict=True`` raises instead).

Without a disk cache (``cache=None``) the prepared items are held in memory.
"""

from __future__ import annotations

import logging
import time

from bench.vectors.cache import EmbeddingCache, item_key
from bench.vectors.requests import Requests, Sentence
from bench.vectors.source import Table, VectorSource, compute
from embeddings.base import Embedder

logger = logging.getLogger(__name__)


class UndeclaredInput(AssertionError):
    """A task read a vector its ``inputs()`` did not declare (raised by a strict source)."""


class PlannedSource(VectorSource):
    """Vectors prepared for a set of tasks (see the module docstring)."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache | None = None, *, strict: bool = False) -> None:
        super().__init__(embedder)
        self.cache = cache
        self.strict = strict
        self._memory: Table = {}
        self._planned: set[bytes] = set()
        self.computed = 0  # items embedded by prepare() (cache misses)
        self.reused = 0  # items found in the disk cache by prepare()
        self.unplanned = 0  # items tasks read that prepare() was not told about
        self.seconds = 0.0  # wall-clock seconds prepare() spent embedding (what cost estimates scale)
        self.words = 0  # words of the sentences prepare() embedded

    def prepare(self, requests: Requests, *, progress: bool | None = None) -> None:
        """Make every requested item available; embed what the cache does not have."""
        keys: dict[tuple[Sentence, int | str], bytes] = {
            (s, i): item_key(s, i) for s, pos in requests.targets.items() for i in pos}
        keys.update({(s, p): item_key(s, p) for s, pools in requests.pooled.items() for p in pools})
        self._planned.update(keys.values())
        have = self.cache.get_many(list(keys.values())) if self.cache is not None else {}
        self.reused += len(have)
        missing = Requests()
        for (s, item), key in keys.items():
            if key in have:
                continue
            if isinstance(item, int):
                missing.targets.setdefault(s, set()).add(item)
            else:
                missing.pooled.setdefault(s, set()).add(item)
        if not missing:
            return
        logger.info("%s: embedding %d of %d requested items (%d sentences)", self.name, missing.n_vectors,
                    len(keys), len(missing.sentences()))
        start = time.perf_counter()
        self.words += sum(map(len, missing.sentences()))
        for rows in compute(self.embedder, missing, progress=progress):
            self.computed += len(rows)
            if self.cache is not None:
                self.cache.put_many((item_key(s, item), vec, oov) for s, item, vec, oov in rows)
            else:
                self._memory.update(((s, item), (vec, oov)) for s, item, vec, oov in rows)
        self.seconds += time.perf_counter() - start

    def fetch(self, requests: Requests) -> Table:
        wanted: list[tuple[Sentence, int | str]] = [(s, i) for s, pos in requests.targets.items() for i in pos]
        wanted += [(s, p) for s, pools in requests.pooled.items() for p in pools]
        table: Table = {}
        keys = {w: item_key(*w) for w in wanted}
        undeclared = [w for w in wanted if keys[w] not in self._planned]
        if undeclared and self.strict:
            raise UndeclaredInput(f"{len(undeclared)} vectors were not declared by the task's inputs(), e.g. "
                                  f"{undeclared[0]!r}")
        if self.cache is not None:
            got = self.cache.get_many([keys[w] for w in wanted])
            table.update((w, got[keys[w]]) for w in wanted if keys[w] in got)
        else:
            table.update((w, self._memory[w]) for w in wanted if w in self._memory)
        rest = Requests()
        for w in wanted:
            if w not in table:
                if isinstance(w[1], int):
                    rest.targets.setdefault(w[0], set()).add(w[1])
                else:
                    rest.pooled.setdefault(w[0], set()).add(w[1])
        if rest:
            self.unplanned += rest.n_vectors
            for rows in compute(self.embedder, rest, progress=False):
                for s, item, vec, oov in rows:
                    table[(s, item)] = (vec, oov)
                    if self.cache is not None:
                        self.cache.put_many([(item_key(s, item), vec, oov)])
        return table
