"""``ulmfit-brown``: a small AWD-LSTM language model trained on the Brown corpus, the stand-in for ULMFiT.

Recipe: Brown's train split (cased; fastai's case markers are inserted), the held-out split
for perplexity, :func:`embeddings.ulmfit.training.train_language_model` with
:class:`~embeddings.ulmfit.training.LMSettings` defaults (embedding 64, hidden 256, 3 layers,
one epoch of 16-row batches, seed 0; about 4 CPU-minutes); held-out perplexity 129.4 per
fastai token. Saved in ctxbench's AWD-LSTM layout (safetensors + JSON) and loaded by the
generic ``ulmfit`` loader's machinery.

Options: any :class:`~embeddings.ulmfit.training.LMSettings` field (but ``backward``) plus
``max_sentences`` / ``max_held_out`` (the first N sentences of each split) override the
defaults; ``tiny=True`` starts from :data:`TINY` (16/32 model on 1,500 sentences: seconds);
``backward=True`` adds a backward model (direction "bi"); adapter options ``markers``,
``device``, ``batch_size``; ``threads`` (torch threads while training, default 1: on a
shared 2-core machine two threads spin against other processes and training ran more than
10x slower; one thread is also the reduction order every machine can repeat; part of the
recipe's identity), ``retrain``, ``progress``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from bench.standins.recipe import brown_corpus, build_once, model_dir, recipe_identity, split_options
from embeddings.support.threads import torch_threads
from embeddings.ulmfit.checkpoint import LoadedLM, load_own, write_checkpoint_files
from embeddings.ulmfit.embedder import UlmfitEmbedder
from embeddings.ulmfit.training import TRAINING_VERSION, LMSettings, train_language_model

NAME = "ulmfit-brown"
_FIELDS = {f.name for f in dataclasses.fields(LMSettings)} - {"backward"}
CORPUS_OPTIONS = {"max_sentences", "max_held_out"}
OTHER_OPTIONS = {"backward", "markers", "device", "batch_size", "tiny", "retrain", "progress", "threads"}
#: ``tiny=True``: a model that trains in seconds (tests, the conformance kit)
TINY: dict[str, Any] = dict(emb_sz=16, n_hid=32, max_vocab=600, min_freq=2, max_sentences=1500,
                            max_held_out=150, bs=8, bptt=35, lr=1e-2)


def _settings(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(full settings incl. the corpus caps, other options)."""
    training, other = split_options(options, _FIELDS | CORPUS_OPTIONS, OTHER_OPTIONS, NAME)
    base: dict[str, Any] = {**LMSettings().to_dict(), "max_sentences": None, "max_held_out": None}
    base.pop("backward")
    full = {**base, **(TINY if other.get("tiny") else {}), **training}
    return full, other


def _recipe_id(full: dict[str, Any], backward: bool, threads: int = 1) -> str:
    settings = {**full, "backward": backward, **({"threads": threads} if threads != 1 else {})}
    return recipe_identity(NAME, settings, lowercase=False, training_version=TRAINING_VERSION,
                           library=f"torch {torch.__version__} (one thread)" if threads == 1 else
                           f"torch {torch.__version__}")


def identity(**options: Any) -> str:
    """Recipe identity of the forward (and backward) model plus the adapter's ``markers``."""
    full, other = _settings(options)
    threads = int(other.get("threads", 1))
    ids = [_recipe_id(full, False, threads)] + ([_recipe_id(full, True, threads)] if other.get("backward") else [])
    return "recipe:" + "+".join(ids) + ("" if other.get("markers", True) else ";no-markers")


def checkpoint_dir(*, reverse: bool = False, **options: Any) -> Path:
    """The cached checkpoint directory of the forward (or, ``reverse=True``, backward) LM, trained on first use."""
    full, other = _settings(options)
    backward = reverse
    folder = model_dir(NAME, _recipe_id(full, backward, int(other.get("threads", 1))))
    threads = int(other.get("threads", 1))

    def build(tmp: Path) -> None:
        train, held = brown_corpus()
        if full["max_sentences"] is not None:
            train = train[: full["max_sentences"]]
        if full["max_held_out"] is not None:
            held = held[: full["max_held_out"]]
        settings = LMSettings(**{k: v for k, v in full.items() if k not in CORPUS_OPTIONS}, backward=backward)
        with torch_threads(threads):
            model, itos, meta = train_language_model(train, held, settings, progress=other.get("progress"),
                                                     desc="train ulmfit-brown")
        meta = {**meta, "name": NAME, "corpus": "Brown (NLTK), every 20th sentence held out"}
        write_checkpoint_files(model, itos, tmp, meta)

    if other.get("retrain") and folder.exists():
        import shutil

        shutil.rmtree(folder)
    return build_once(folder, lambda d: (d / "config.json").is_file(), build, what=NAME)


def load(**options: Any) -> UlmfitEmbedder:
    """The ``ulmfit-brown`` stand-in (trained on first use, then loaded from the cache)."""
    full, other = _settings(options)
    backward = bool(other.get("backward", False))
    directions = [False, True] if backward else [False]
    lms: list[LoadedLM] = [load_own(checkpoint_dir(reverse=d, **options)) for d in directions]
    ppl = lms[0].meta.get("held_out_perplexity")
    label = (f"ulmfit-brown (ctxbench stand-in: AWD-LSTM {full['emb_sz']}/{full['n_hid']}x{full['n_layers']}, "
             f"vocab {lms[0].model.config.vocab_size}, trained on Brown, seed {full['seed']}, "
             f"held-out perplexity {ppl:.1f})")
    given = {k: v for k, v in options.items() if k in _FIELDS | CORPUS_OPTIONS}
    config_options = {**({"tiny": True} if other.get("tiny") else {}), **given}
    return UlmfitEmbedder(lms[0], lms[1] if backward else None, name=NAME, checkpoint=label,
                          options=config_options, markers=other.get("markers", True),
                          device=other.get("device", "cpu"), batch_size=other.get("batch_size", 32))
