"""What every stand-in recipe shares: the corpus, the identity hash, the build-once cache entry.

- :func:`brown_corpus`: Brown's deterministic train / held-out split (every 20th sentence
  held out; the same split for all three stand-ins, so their held-out perplexities are on
  the same sentences).
- :func:`recipe_identity`: a stable hash of everything that determines a trained model —
  the recipe name and version, the corpus file's pinned sha256 and the split, the training
  settings (seed included), the training code's version and the trainer library's version.
  It is computed without training, and it does not depend on the CPU the model is trained on.
- :func:`build_once`: the cache directory named after the identity, built under a
  cross-process lock into a temporary name and renamed (``atomic_path``), so two processes
  that need the same stand-in train it once, and a crash mid-training leaves nothing a
  later run would load.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from embeddings.support.files import atomic_path, file_lock
from embeddings.support.paths import cache_dir

logger = logging.getLogger(__name__)

#: bump when a recipe change (corpus handling, split) changes the trained models
RECIPE_VERSION = 1
HELD_OUT_EVERY = 20

Sentences = list[tuple[str, ...]]


def brown_corpus(*, lowercase: bool = False) -> tuple[Sentences, Sentences]:
    """Brown's train and held-out sentences (every 20th sentence held out)."""
    from bench.datasets.corpora import brown_split

    return brown_split(lowercase=lowercase, held_out_every=HELD_OUT_EVERY)


def brown_sha256() -> str:
    """The pinned sha256 of the Brown corpus file the recipes read (no file access)."""
    from bench.datasets import get_dataset

    return get_dataset("brown").files["zip"].sha256


def recipe_identity(name: str, settings: dict[str, Any], *, lowercase: bool, training_version: Any,
                    library: str) -> str:
    """sha256 (hex) of the recipe: corpus, split, settings, code and library versions.

    >>> a = recipe_identity("x", {"seed": 0}, lowercase=True, training_version=1, library="gensim 4")
    >>> a == recipe_identity("x", {"seed": 0}, lowercase=True, training_version=1, library="gensim 4")
    True
    >>> a == recipe_identity("x", {"seed": 1}, lowercase=True, training_version=1, library="gensim 4")
    False
    """
    payload = {
        "recipe": name,
        "recipe_version": RECIPE_VERSION,
        "corpus": {"dataset": "brown", "sha256": brown_sha256(), "held_out_every": HELD_OUT_EVERY,
                   "lowercase": lowercase},
        "settings": settings,
        "training_version": training_version,
        "library": library,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def model_dir(name: str, identity: str) -> Path:
    """``$CTXBENCH_CACHE/models/<name>-<identity[:12]>``."""
    return cache_dir("models") / f"{name}-{identity[:12]}"


def build_once(folder: Path, complete: Callable[[Path], bool], build: Callable[[Path], None], *,
               what: str) -> Path:
    """``folder``, built by ``build(tmp_dir)`` unless ``complete(folder)`` already holds.

    The build runs under a lock beside ``folder``; a second process waiting on the lock finds
    the finished folder and returns it without building again.
    """
    if complete(folder):
        return folder
    with file_lock(folder):
        if complete(folder):  # built by another process while we waited
            return folder
        logger.info("%s: building (first use) into %s", what, folder)
        with atomic_path(folder) as tmp:
            tmp.mkdir(parents=True)
            build(tmp)
    if not complete(folder):
        raise RuntimeError(f"{what}: the build finished but {folder} is incomplete")
    return folder


def split_options(options: dict[str, Any], fields: set[str], allowed_other: set[str], what: str
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(training overrides, other options); unknown names raise TypeError listing both kinds."""
    unknown = set(options) - fields - allowed_other
    if unknown:
        raise TypeError(f"unknown {what} options {sorted(unknown)}; training options are {sorted(fields)}, "
                        f"other options {sorted(allowed_other)}")
    return ({k: v for k, v in options.items() if k in fields},
            {k: v for k, v in options.items() if k not in fields})
