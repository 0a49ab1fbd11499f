"""Registry: names, did-you-mean, decorator registration, entry points, lazy imports."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

import embeddings
from embeddings.random_vectors import RandomEmbedder
from embeddings.registries import LazyFactory, Registry

CONTRACT_NAMES = ["glove-6b-50d", "glove-6b-300d", "glove-840b-300d", "word2vec-google-news-300",
                  "word2vec-brown", "minilm-l6", "smollm2-135m", "bert-base-uncased", "bert-large-uncased",
                  "openai-gpt", "gpt2", "gpt2-medium", "elmo-small", "elmo-original", "elmo-brown",
                  "ulmfit-wt103", "ulmfit-brown"]


def test_contract_names_are_registered():
    names = embeddings.available()
    missing = [n for n in CONTRACT_NAMES if n not in names]
    assert not missing, f"registry lacks {missing}"
    for generic in ("word2vec", "glove", "elmo", "ulmfit"):
        assert generic in embeddings.registry and generic not in names  # needs options


def test_unknown_name_suggests_the_closest():
    with pytest.raises(KeyError) as e:
        embeddings.load("glovee")
    assert "unknown embedder 'glovee'; did you mean 'glove-6b-50d'" in str(e.value)


def test_decorator_registration_and_collisions():
    reg = Registry("embedder")

    @reg.register("tiny-random")
    def make(**options):
        return RandomEmbedder(dim=2, **options)

    assert reg.get("tiny-random")(seed=3).seed == 3
    with pytest.raises(ValueError, match="already registered"):
        reg.register("tiny-random", make)
    with pytest.raises(ValueError, match="kebab-case"):
        reg.register("Tiny Random", make)
    reg.freeze()
    with pytest.raises(RuntimeError, match="frozen"):
        reg.register("other", make)


def test_prefix_names_bind_the_id():
    reg = Registry("embedder")
    reg.register_prefix("hf", lambda model, **o: (model, o))
    assert reg.get("hf:some/model")(pooling="mean") == ("some/model", {"pooling": "mean"})


def test_entry_points_are_loaded_lazily(monkeypatch):
    reg = Registry("embedder", entry_point_group="ctxbench.embedders")
    ep = EntryPoint(name="plugin-random", value="embeddings.random_vectors:RandomEmbedder",
                    group="ctxbench.embedders")
    # the module that defines Registry (embeddings.registry is the instance)
    module = sys.modules["embeddings.registries"]
    monkeypatch.setattr(module, "entry_points", lambda group: [ep] if group == ep.group else [])
    assert "plugin-random" in reg.names()
    emb = reg.get("plugin-random")(dim=3)
    assert isinstance(emb, RandomEmbedder) and emb.dim == 3


def test_load_rejects_factories_that_return_something_else(monkeypatch):
    monkeypatch.setitem(embeddings.registry._entries, "not-an-embedder",
                        embeddings.registry._entries["random"].__class__("not-an-embedder", lambda: 42))
    with pytest.raises(TypeError, match="not an Embedder"):
        embeddings.load("not-an-embedder")


def test_listing_names_imports_no_heavy_backend():
    code = ("import sys, embeddings; embeddings.available(); "
            "print(sorted(m for m in ('torch', 'transformers', 'gensim', 'h5py') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_factory_binds_options():
    f = LazyFactory("embeddings.random_vectors:RandomEmbedder", dim=7)
    assert f(seed=1).dim == 7
