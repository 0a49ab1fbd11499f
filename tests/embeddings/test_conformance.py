"""The conformance kit runs on every adapter that loads offline.

Models the project trains itself are built at a tiny size here (full-size training belongs
to `make bench` and `-m slow`); models that ship in PyPI packages load as they are.
"""

from __future__ import annotations

import pytest

import embeddings
from embeddings.random_vectors import RandomEmbedder
from embeddings.testing import CHECKS, check_embedder

#: options that make each offline model small enough for the default test run
TINY: dict[str, dict] = {
    "word2vec-brown": {"tiny": True},
    "elmo-brown": {"tiny": True},
    "ulmfit-brown": {"tiny": True},
}
#: offline models too slow for the default run (GGUF dequantisation takes ~30 s)
SLOW = {"smollm2-135m"}

_cache: dict[str, embeddings.Embedder] = {}


def _load(name: str) -> embeddings.Embedder:
    if name not in _cache:
        _cache[name] = embeddings.load(name, **TINY.get(name, {}))
    return _cache[name]


def _params():
    for name in embeddings.available(offline=True):
        marks = [pytest.mark.slow] if name in SLOW else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_params()))
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_offline_adapter_conforms(name, check):
    check(_load(name))


def test_every_offline_name_is_covered():
    offline = set(embeddings.available(offline=True))
    assert {"glove-6b-50d", "minilm-l6", "smollm2-135m", "word2vec-brown", "elmo-brown",
            "ulmfit-brown"} <= offline


class _Inconsistent(RandomEmbedder):
    """Claims to be contextual but is static: the kit must catch it."""

    contextual = True
    direction = "bi"


def test_kit_catches_a_lying_adapter():
    with pytest.raises(AssertionError, match="identical vectors in two different contexts"):
        check_embedder(_Inconsistent(dim=4))
