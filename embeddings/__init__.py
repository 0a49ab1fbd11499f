"""ctxbench adapters: every embedding family behind one interface.

>>> import embeddings
>>> "glove-6b-50d" in embeddings.available()
True
>>> emb = embeddings.load("random", dim=8)
>>> emb.embed([["a", "word"]])[0].vectors.shape
(2, 1, 8)
"""

from __future__ import annotations

from typing import Any

from embeddings.base import Embedder, WordVectors
from embeddings.catalog import register_builtins
from embeddings.registries import Registry

__all__ = ["Embedder", "WordVectors", "available", "identity", "load", "registry"]

#: The embedder registry: ``@embeddings.registry.register("name")`` adds a factory.
registry = Registry("embedder", entry_point_group="ctxbench.embedders")
register_builtins(registry)


def load(name: str, **options: Any) -> Embedder:
    """Build the embedder registered as ``name`` with keyword ``options``.

    ``name`` is a registry name (``glove-6b-50d``), a generic loader with its options
    (``load("glove", path=...)``), or ``hf:<id or directory>``.
    Unknown names raise ``KeyError`` with did-you-mean suggestions.
    """
    factory = registry.get(name)
    emb = factory(**options)
    if not isinstance(emb, Embedder):
        raise TypeError(f"factory for {name!r} returned {type(emb).__name__}, not an Embedder")
    return emb


def available(*, offline: bool | None = None) -> list[str]:
    """Names that load by name alone (generic loaders like ``glove`` need a path).

    ``offline=True`` lists only those whose weights are on this machine or trained locally.
    """
    names = registry.names()
    if offline is None:
        return names
    return [n for n in names if registry.entry(n).info().offline == offline]


def identity(name: str, **options: Any) -> str | None:
    """A string naming what ``load(name, **options)`` would build, WITHOUT building it.

    Packaged checkpoints name their package and pinned checksums; recipes that train a model
    name the recipe (corpus, settings, seed, code version). ``None`` when only loading the
    model can tell (a directory or file given by path): use ``load(...).fingerprint()``.
    """
    entry = registry.entry(name)
    if entry.name.endswith(":"):  # a prefix entry (bow:, hf:): its identity gets the part after the colon
        return entry.identity({"__rest__": name.partition(":")[2], **options})
    return entry.identity(options)
