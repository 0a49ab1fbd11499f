"""``word2vec-brown``: skip-gram Word2Vec trained on the Brown corpus, the offline stand-in for GoogleNews.

Recipe: the TRAIN part of Brown's split (:func:`bench.standins.recipe.brown_corpus`),
LOWER-CASED (Brown is small, and case-splitting its counts hurts more than it helps; the
embedder looks words up lower-cased, like GloVe 6B), trained by
:func:`embeddings.static.training.train_word2vec` with :data:`DEFAULTS` (300 dimensions,
GoogleNews' width; window 5, min_count 5, negative 5, sample 1e-3, 5 epochs, seed 0; about
1.5 CPU-minutes), saved as word2vec BINARY and read back by the loader that serves
GoogleNews-vectors-negative300.bin. Byte-identical on any machine (one worker, md5 hashing).

Options: any :class:`~embeddings.static.training.Word2VecSettings` field and
``max_sentences`` (the first N training sentences) override the defaults; ``tiny=True``
starts from :data:`TINY` (trains in about a second, for tests); loader options
``max_vocab``, ``vocab`` and ``mmap`` as in :func:`embeddings.static.load_static_file`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.standins.recipe import brown_corpus, build_once, model_dir, recipe_identity, split_options
from embeddings.static import StaticEmbedder
from embeddings.static.training import TRAINING_VERSION, Word2VecSettings, train_word2vec
from embeddings.support.files import sha256_file

NAME = "word2vec-brown"
DEFAULTS: dict[str, Any] = {**Word2VecSettings().to_dict(), "max_sentences": None}
#: ``tiny=True``: a model that trains in about a second, for tests
TINY: dict[str, Any] = {"vector_size": 16, "max_sentences": 2000, "epochs": 1, "min_count": 2}
LOADER_OPTIONS = {"max_vocab", "vocab", "mmap", "tiny", "progress"}


def _settings(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(full training settings, overrides of the base preset, loader options)."""
    training, other = split_options(options, set(DEFAULTS), LOADER_OPTIONS, NAME)
    base = {**DEFAULTS, **(TINY if other.get("tiny") else {})}
    full = {**base, **training}
    changed = {k: v for k, v in full.items() if v != base[k]}
    return full, changed, other


def _library() -> str:
    import gensim

    return f"gensim {gensim.__version__}"


def _recipe_id(full: dict[str, Any]) -> str:
    return recipe_identity(NAME, full, lowercase=True, training_version=TRAINING_VERSION, library=_library())


def identity(**options: Any) -> str:
    """Recipe identity plus the loader options that change the vectors (max_vocab, vocab)."""
    full, _, other = _settings(options)
    loader = {k: (sorted(v) if k == "vocab" and v is not None else v) for k, v in other.items()
              if k in ("max_vocab", "vocab") and v is not None}
    return f"recipe:{_recipe_id(full)}" + (f";loader:{json.dumps(loader, sort_keys=True)}" if loader else "")


def ensure_trained(**options: Any) -> Path:
    """The cached directory with ``vectors.bin`` and ``training.json`` (trained on first use)."""
    full, _, other = _settings(options)
    folder = model_dir(NAME, _recipe_id(full))

    def build(tmp: Path) -> None:
        sentences = brown_corpus(lowercase=True)[0]
        if full["max_sentences"]:
            sentences = sentences[: int(full["max_sentences"])]
        settings = Word2VecSettings(**{k: v for k, v in full.items() if k != "max_sentences"})
        info = train_word2vec(sentences, settings, tmp / "vectors.bin", progress=other.get("progress"))
        info["recipe"] = {"name": NAME, "corpus": "Brown train split, lower-cased", "settings": full}
        (tmp / "training.json").write_text(json.dumps(info, indent=1), encoding="utf-8")

    return build_once(folder, lambda d: (d / "vectors.bin").is_file() and (d / "training.json").is_file(),
                      build, what=NAME)


def load(**options: Any) -> StaticEmbedder:
    """The Brown skip-gram stand-in (trained and cached on first use)."""
    from embeddings.static import load_static_file

    full, changed, other = _settings(options)
    directory = ensure_trained(**options)
    info = json.loads((directory / "training.json").read_text(encoding="utf-8"))
    path = directory / "vectors.bin"
    label = (
        f"word2vec-brown (ctxbench stand-in: skip-gram {full['vector_size']}d, window {full['window']}, "
        f"{full['epochs']} epochs, seed {full['seed']}, trained on the lower-cased Brown train split, "
        f"{info['vocab_size']} words{'; options ' + json.dumps(changed) if changed else ''})"
    )
    emb = load_static_file(path, family="word2vec", format="word2vec-binary", lowercase=True, name=NAME,
                           checkpoint=label, weights_id=f"sha256:{sha256_file(path)}",
                           max_vocab=other.get("max_vocab"), vocab=other.get("vocab"), mmap=other.get("mmap"))
    # config(): exactly the options that rebuild it through embeddings.load (not the cache path)
    emb.options = {**({"tiny": True} if other.get("tiny") else {}), **changed,
                   **{k: other[k] for k in ("max_vocab",) if other.get(k) is not None}}
    if other.get("vocab") is not None:
        emb.options["vocab"] = sorted(other["vocab"])
    emb.training_info = info
    return emb


__all__ = ["DEFAULTS", "TINY", "ensure_trained", "identity", "load"]
