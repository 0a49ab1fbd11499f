"""``elmo-brown``: a small ELMo biLM trained on the Brown corpus, the offline stand-in for ELMo.

Recipe: Brown's train split (CASED, as ELMo reads characters), the held-out split for
perplexity, :func:`embeddings.elmo.training.train` with
:class:`~embeddings.elmo.training.ElmoTrainingSettings` defaults (char CNN with 256 filters,
1 highway, LSTM 256 cells projected to 64, 2 layers; 2,000 steps of 32 sentences; seed 0;
about 4 CPU-minutes on one thread). Saved in the official options.json + hdf5 layout and
loaded by :func:`embeddings.elmo.load_elmo`'s machinery, like a published checkpoint.
Held-out perplexity 163.6 (forward 165.3, backward 161.9; a unigram model: 463).

Options: any settings field overrides the default (``seed``, ``steps``, sizes, ...);
``tiny=True`` starts from :data:`TINY` (trains in seconds, for tests); adapter options
``stateful``, ``batch_size``, ``device``, ``cache_words``, ``threads``; ``progress``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch

from bench.standins.recipe import brown_corpus, build_once, model_dir, recipe_identity, split_options
from embeddings.elmo.adapter import ElmoEmbedder, build_bilm
from embeddings.elmo.training import TRAINING_VERSION, ElmoTrainingSettings, train, write_files

NAME = "elmo-brown"
ADAPTER_OPTIONS = {"stateful", "batch_size", "device", "cache_words", "threads"}
#: ``tiny=True``: a model that trains in a few seconds, for tests (same architecture)
TINY: dict[str, Any] = {
    "steps": 30, "train_batch_size": 16, "max_sentences": 400, "vocab_size": 500, "n_samples": 64,
    "char_dim": 4, "filters": ((1, 8), (2, 8), (3, 16)), "lstm_dim": 32, "projection_dim": 8,
    "eval_sentences": 50,
}
_FIELDS = {f.name for f in dataclasses.fields(ElmoTrainingSettings)}


def _settings(options: dict[str, Any]) -> tuple[ElmoTrainingSettings, dict[str, Any], dict[str, Any]]:
    """(settings, overrides of the base preset, other options)."""
    training, other = split_options(options, _FIELDS, ADAPTER_OPTIONS | {"tiny", "progress"}, NAME)
    base = ElmoTrainingSettings(**TINY) if other.get("tiny") else ElmoTrainingSettings()
    cfg = dataclasses.replace(base, **training)
    defaults = base.to_dict()
    overrides = {k: v for k, v in cfg.to_dict().items() if v != defaults[k]}
    return cfg, overrides, other


def _recipe_id(cfg: ElmoTrainingSettings) -> str:
    return recipe_identity(NAME, cfg.to_dict(), lowercase=False, training_version=TRAINING_VERSION,
                           library=f"torch {torch.__version__}")


def identity(**options: Any) -> str:
    """Recipe identity plus the adapter options that change the vectors (``stateful``)."""
    cfg, _, other = _settings(options)
    stateful = bool(other.get("stateful", False))
    return f"recipe:{_recipe_id(cfg)}" + (";stateful" if stateful else "")


def ensure_trained(**options: Any) -> Path:
    """The cached model directory (options.json, weights.hdf5, vocab.txt, meta.json), trained on first use."""
    cfg, _, other = _settings(options)
    folder = model_dir(NAME, _recipe_id(cfg))

    def build(tmp: Path) -> None:
        train_sents, held_sents = brown_corpus()
        model, softmax, vocab, meta = train(cfg, train_sents, held_sents, progress=bool(other.get("progress", True)))
        meta = {**meta, "name": NAME, "corpus": "Brown train split (cased); perplexity on the held-out split"}
        write_files(tmp, model, softmax, vocab, meta)

    return build_once(folder, lambda d: (d / "meta.json").is_file(), build, what=NAME)


def load(**options: Any) -> ElmoEmbedder:
    """The elmo-brown embedder: trained on first use (a few CPU minutes), then cached."""
    cfg, overrides, other = _settings(options)
    folder = ensure_trained(**options)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    ppl = meta["perplexity"]["both"]
    tiny = bool(other.get("tiny"))
    label = (f"elmo-brown{' (tiny)' if tiny else ''} (ctxbench stand-in trained on Brown, seed {cfg.seed}, "
             f"{cfg.steps} steps, held-out perplexity {ppl:.1f}; not the published ELMo)")
    config = {"name": NAME, **({"tiny": True} if tiny else {}), **overrides}
    adapter = {k: v for k, v in other.items() if k in ADAPTER_OPTIONS}
    emb = ElmoEmbedder(build_bilm(folder / "options.json", folder / "weights.hdf5"), name=NAME,
                       checkpoint=label, config=config, weights_id="sha256:" + meta["weights_sha256"], **adapter)
    emb.meta = meta  # type: ignore[attr-defined]
    return emb
