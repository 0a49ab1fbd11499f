"""ELMo (Peters et al. 2018): the project's own PyTorch biLM reading the official format.

allennlp is not a dependency (allennlp-models pins torch<1.13, which has no Python 3.11
build); instead :mod:`embeddings.elmo.bilm` re-implements the biLM and is checked against the
activations of the original TensorFlow code (tests/embeddings/test_elmo.py).

- :func:`load_elmo` -- any checkpoint in the official layout (``options=``, ``weights=``);
- :func:`load_published` -- elmo-small / elmo-medium / elmo-original / elmo-original-5.5b,
  downloaded from AllenNLP on first use (sha256 recorded, reported as unverified);
- :mod:`~embeddings.elmo.training` -- training a biLM from scratch (the benchmark's ``elmo-brown``
  stand-in is a recipe in ``bench.standins`` built on it);
- :func:`scalar_mix` -- Peters et al.'s weighted layer mix.

Examples
--------
>>> import embeddings
>>> "elmo-small" in embeddings.available()
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embeddings.elmo.adapter import ElmoEmbedder, build_bilm, find_weights
from embeddings.elmo.mix import scalar_mix
from embeddings.support.files import sha256_file

__all__ = ["ElmoEmbedder", "load_elmo", "load_published", "scalar_mix"]


def load_elmo(options: str | Path, weights: str | Path | None = None, *, name: str = "elmo",
              checkpoint: str | None = None, **opts: Any) -> ElmoEmbedder:
    """Load any ELMo checkpoint in the official (bilm-tf) layout.

    Parameters
    ----------
    options : path
        The options.json.
    weights : path, optional
        The weights hdf5; by default the one hdf5 file next to ``options`` that holds biLM
        weights (names vary between checkpoints, so none is assumed).
    **opts
        Adapter options: ``stateful``, ``batch_size``, ``device``, ``cache_words``, ``threads``.
    """
    options = Path(options)
    if not options.is_file():
        raise FileNotFoundError(f"ELMo options file {options} does not exist")
    weights = Path(weights) if weights is not None else find_weights(options)
    if not weights.is_file():
        raise FileNotFoundError(f"ELMo weights file {weights} does not exist")
    model = build_bilm(options, weights)
    config = {"name": name, "options": str(options), "weights": str(weights)} if name == "elmo" else None
    return ElmoEmbedder(model, name=name, checkpoint=checkpoint or f"ELMo from {weights}",
                        config=config, weights_id="sha256:" + sha256_file(weights), **opts)


def load_published(checkpoint: str, **opts: Any) -> ElmoEmbedder:
    """A published AllenNLP ELMo checkpoint; see :mod:`embeddings.elmo.published`."""
    from embeddings.elmo.published import load_published as _load

    return _load(checkpoint, **opts)
