"""``word2vec-brown``: a skip-gram Word2Vec that ctxbench trains itself on the Brown corpus.

The offline stand-in for GoogleNews word2vec: same algorithm family (skip-gram with negative
sampling, gensim), a corpus anyone can get (NLTK's Brown, 1.16M tokens), saved in the word2vec
C tool's BINARY format and read back through :func:`embeddings.static_formats.load_static_file`,
the loader that serves GoogleNews-vectors-negative300.bin.

Training data and rules
-----------------------
- The TRAIN part of :func:`bench.datasets.corpora.brown_split` (every 20th sentence held
  out, the split shared with elmo-brown and ulmfit-brown), LOWER-CASED: Brown is small, and
  case-splitting its counts hurts more than it helps. The embedder therefore looks words
  up lower-cased (``lowercase=True``), like GloVe 6B. Tokens are Brown's own (punctuation
  separate, no phrases).
- Exactly reproducible: one worker thread, a fixed seed, and a fixed ``hashfxn`` (md5 of the
  word) instead of Python's salted ``hash``, so PYTHONHASHSEED does not matter. Two trainings
  with the same options give byte-identical files.
- Cached in ``cache_dir("models", "word2vec-brown-<config hash>")`` (written atomically):
  the first use trains (progress bar per epoch), later uses load. The config hash covers every
  training option, the corpus sha256 and the gensim version.

Full settings (:data:`DEFAULTS`): 300 dimensions (GoogleNews' width), window 5, min_count 5,
negative 5, sample 1e-3, 5 epochs. Tests pass tiny options (``max_sentences``, small
``vector_size``) to train in a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from embeddings.static import StaticEmbedder

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "vector_size": 300,
    "window": 5,
    "min_count": 5,
    "negative": 5,
    "sample": 1e-3,
    "epochs": 5,
    "alpha": 0.025,
    "min_alpha": 0.0001,
    "seed": 0,
    "max_sentences": None,
}
TRAINING_VERSION = "1"
#: ``tiny=True``: a model that trains in about a second, for tests
TINY: dict[str, Any] = {"vector_size": 16, "max_sentences": 2000, "epochs": 1, "min_count": 2}


def word_hash(text: str) -> int:
    """A hash of a string that is the same in every process (gensim's ``hashfxn``).

    >>> word_hash("bank") == word_hash("bank")
    True
    """
    return int.from_bytes(hashlib.md5(text.encode("utf-8")).digest()[:8], "little", signed=True)


def training_config(**options: Any) -> dict[str, Any]:
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(
            f"word2vec-brown got unknown training options {sorted(unknown)}; allowed: {sorted(DEFAULTS)}"
        )
    return {**DEFAULTS, **options}


def config_hash(cfg: dict[str, Any]) -> str:
    import gensim

    from bench.datasets import get_dataset

    payload = {
        "cfg": cfg,
        "corpus": get_dataset("brown").files["zip"].sha256,
        "split": "brown_split(lowercase)",
        "sg": 1,
        "workers": 1,
        "hashfxn": "md5",
        "gensim": gensim.__version__,
        "version": TRAINING_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def train(cfg: dict[str, Any], out_file: Path) -> dict[str, Any]:
    """Train skip-gram on Brown's train split and write word2vec binary to ``out_file``."""
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    from bench.datasets.corpora import brown_split
    from embeddings.progress import progress_bar

    sentences = [list(s) for s in brown_split(lowercase=True)[0]]
    if cfg["max_sentences"]:
        sentences = sentences[: int(cfg["max_sentences"])]
    model = Word2Vec(
        vector_size=cfg["vector_size"],
        window=cfg["window"],
        min_count=cfg["min_count"],
        negative=cfg["negative"],
        sample=cfg["sample"],
        alpha=cfg["alpha"],
        min_alpha=cfg["min_alpha"],
        sg=1,
        seed=cfg["seed"],
        workers=1,
        hashfxn=word_hash,
    )
    start = time.perf_counter()
    model.build_vocab(sentences)

    class _Bar(CallbackAny2Vec):
        def __init__(self, bar: Any) -> None:
            self.bar = bar

        def on_epoch_end(self, model: Any) -> None:
            self.bar.update(1)

    with progress_bar(total=cfg["epochs"], desc="word2vec-brown: training epochs", unit="epoch") as bar:
        model.train(sentences, total_examples=model.corpus_count, epochs=cfg["epochs"], callbacks=[_Bar(bar)])
    seconds = time.perf_counter() - start
    model.wv.save_word2vec_format(str(out_file), binary=True)
    info = {
        "config": cfg,
        "sentences": len(sentences),
        "tokens": sum(map(len, sentences)),
        "vocab_size": len(model.wv),
        "train_seconds": round(seconds, 2),
    }
    logger.info(
        "word2vec-brown: %d words x %d trained on %d tokens in %.1f s",
        len(model.wv),
        cfg["vector_size"],
        info["tokens"],
        seconds,
    )
    return info


def model_dir(**options: Any) -> Path:
    from embeddings.support.paths import cache_root

    return cache_root() / "models" / f"word2vec-brown-{config_hash(training_config(**options))}"


def ensure_trained(**options: Any) -> Path:
    """The directory holding ``vectors.bin`` and ``training.json``, training on first use."""
    from embeddings.support.files import atomic_path

    cfg = training_config(**options)
    target = model_dir(**options)
    if (target / "vectors.bin").is_file():
        return target
    logger.info("word2vec-brown: training (first use) into %s", target)
    with atomic_path(target) as tmp:
        tmp.mkdir(parents=True)
        info = train(cfg, tmp / "vectors.bin")
        (tmp / "training.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return target


def load_word2vec_brown(
    *,
    max_vocab: int | None = None,
    vocab: Any = None,
    mmap: bool | None = None,
    tiny: bool = False,
    **training: Any,
) -> StaticEmbedder:
    """The Brown skip-gram stand-in (trained and cached on first use).

    Parameters
    ----------
    max_vocab, vocab, mmap
        Loader options, as in :func:`embeddings.static_formats.load_static_file`.
    tiny : bool
        Start from :data:`TINY` (16 dimensions, 2,000 sentences, one epoch) instead of the
        full settings: the test-size model.
    **training
        Overrides of :data:`DEFAULTS` (e.g. ``vector_size=16, max_sentences=2000, epochs=1``
        for a tiny test model); each combination is its own cached model.
    """
    from embeddings.static_formats import load_static_file

    if tiny:
        training = {**TINY, **training}
    cfg = training_config(**training)
    directory = ensure_trained(**training)
    info = json.loads((directory / "training.json").read_text(encoding="utf-8"))
    path = directory / "vectors.bin"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    changed = {k: v for k, v in cfg.items() if v != DEFAULTS[k]}
    label = (
        f"word2vec-brown (ctxbench stand-in: skip-gram {cfg['vector_size']}d, window {cfg['window']}, "
        f"{cfg['epochs']} epochs, seed {cfg['seed']}, trained on the lower-cased Brown train split, "
        f"{info['vocab_size']} words{'; options ' + json.dumps(changed) if changed else ''})"
    )
    emb = load_static_file(
        path,
        family="word2vec",
        format="word2vec-binary",
        lowercase=True,
        name="word2vec-brown",
        checkpoint=label,
        weights_id=f"sha256:{sha}",
        max_vocab=max_vocab,
        vocab=vocab,
        mmap=mmap,
    )
    # config(): the name and what changes the vectors (not the cache path, not timings)
    emb.options = {k: v for k, v in emb.options.items() if k not in ("path", "format")}
    emb.options["training"] = changed
    emb.training_info = info
    return emb
