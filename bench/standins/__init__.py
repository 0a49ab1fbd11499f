"""Stand-in models the benchmark trains itself, registered like any third-party plugin.

No word2vec, ELMo or ULMFiT weights install from PyPI, so the offline suite trains small
models of those families on the Brown corpus: ``word2vec-brown``, ``elmo-brown``,
``ulmfit-brown``. A recipe here says WHICH corpus and split, WHICH settings (and the tiny
presets tests use) and WHERE the result is cached; the training algorithms themselves are
pure functions beside their adapters in ``embeddings`` (which knows nothing of Brown or of
the benchmark).

The names reach ``embeddings.load`` through the entry-point group ``ctxbench.embedders``
(pyproject.toml), the mechanism a plugin package would use. Each entry point names one of the
:class:`StandIn` objects below: a factory that also carries its family, that it loads
offline, and :meth:`StandIn.identity` — the recipe's identity (corpus sha256, settings,
seed, code version), computed WITHOUT training, so a fresh clone can tell which stored
results are current.

Examples
--------
>>> word2vec_brown.family, word2vec_brown.offline
('word2vec', True)
>>> word2vec_brown.identity(tiny=True) == word2vec_brown.identity(tiny=True, progress=False)
True
>>> word2vec_brown.identity(tiny=True) == word2vec_brown.identity(tiny=True, seed=1)
False
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["StandIn", "elmo_brown", "ulmfit_brown", "word2vec_brown"]


class StandIn:
    """A lazily imported stand-in recipe: call it to load (training on first use)."""

    offline = True

    def __init__(self, name: str, family: str, module: str, description: str, label: str) -> None:
        self.name = name
        self.family = family
        self.module = module
        self.description = description
        #: what result tables show beside the name
        self.label = label

    def _recipe(self) -> Any:
        return importlib.import_module(self.module)

    def __call__(self, **options: Any) -> Any:
        return self._recipe().load(**options)

    def identity(self, **options: Any) -> str:
        """The identity of ``load(**options)``'s result, without training or loading it."""
        return str(self._recipe().identity(**options))

    def __repr__(self) -> str:
        return f"StandIn({self.name!r}, {self.module!r})"


word2vec_brown = StandIn(
    "word2vec-brown", "word2vec", "bench.standins.word2vec",
    "stand-in: skip-gram trained by ctxbench on the Brown corpus",
    "stand-in: word2vec skip-gram trained by ctxbench on Brown (1.1M words)")
elmo_brown = StandIn(
    "elmo-brown", "elmo", "bench.standins.elmo",
    "stand-in: small ELMo biLM trained by ctxbench on the Brown corpus",
    "stand-in: small ELMo biLM trained by ctxbench on Brown (1.1M words)")
ulmfit_brown = StandIn(
    "ulmfit-brown", "ulmfit", "bench.standins.ulmfit",
    "stand-in: small AWD-LSTM LM trained by ctxbench on the Brown corpus",
    "stand-in: small ULMFiT AWD-LSTM LM trained by ctxbench on Brown (1.1M words)")
