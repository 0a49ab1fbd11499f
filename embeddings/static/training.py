"""Skip-gram Word2Vec training (gensim), exactly reproducible, written in the word2vec binary format.

A pure function of a corpus and settings: :func:`train_word2vec` takes tokenized sentences
and :class:`Word2VecSettings` and writes a word2vec C-tool binary file, the format
GoogleNews-vectors-negative300.bin uses, so the trained model is read back by the same
loader as the published one (:func:`embeddings.static.load_static_file`).

Reproducible: one worker thread, a fixed seed, and a fixed ``hashfxn`` (md5 of the word)
instead of Python's salted ``hash``, so ``PYTHONHASHSEED`` does not matter: two trainings
with the same corpus and settings give byte-identical files.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "v.bin"
>>> info = train_word2vec([["a", "b", "c"]] * 50, Word2VecSettings(vector_size=4, min_count=1, epochs=1), out)
>>> info["vocab_size"], out.read_bytes()[:4]
(3, b'3 4\\n')
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from embeddings.progress import progress_bar

logger = logging.getLogger(__name__)

#: bump when a change here changes the trained vectors for the same corpus and settings
TRAINING_VERSION = "1"


@dataclass(frozen=True)
class Word2VecSettings:
    """Skip-gram with negative sampling; the defaults are GoogleNews' width and gensim's defaults."""

    vector_size: int = 300
    window: int = 5
    min_count: int = 5
    negative: int = 5
    sample: float = 1e-3
    epochs: int = 5
    alpha: float = 0.025
    min_alpha: float = 0.0001
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def word_hash(text: str) -> int:
    """A hash of a string that is the same in every process (gensim's ``hashfxn``).

    >>> word_hash("bank") == word_hash("bank")
    True
    """
    return int.from_bytes(hashlib.md5(text.encode("utf-8")).digest()[:8], "little", signed=True)


def train_word2vec(sentences: Sequence[Sequence[str]], settings: Word2VecSettings, out_file: str | Path,
                   *, progress: bool | None = None) -> dict[str, Any]:
    """Train skip-gram on ``sentences`` and write word2vec binary to ``out_file``.

    Returns metadata: settings, sentences, tokens, vocabulary size, training seconds.
    """
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    corpus = [list(s) for s in sentences]
    model = Word2Vec(
        vector_size=settings.vector_size,
        window=settings.window,
        min_count=settings.min_count,
        negative=settings.negative,
        sample=settings.sample,
        alpha=settings.alpha,
        min_alpha=settings.min_alpha,
        sg=1,
        seed=settings.seed,
        workers=1,
        hashfxn=word_hash,
    )
    start = time.perf_counter()
    model.build_vocab(corpus)

    class _Bar(CallbackAny2Vec):  # type: ignore[misc]
        def __init__(self, bar: Any) -> None:
            self.bar = bar

        def on_epoch_end(self, model: Any) -> None:
            self.bar.update(1)

    with progress_bar(total=settings.epochs, desc="word2vec: training epochs", unit="epoch",
                      disable=progress is False) as bar:
        model.train(corpus, total_examples=model.corpus_count, epochs=settings.epochs, callbacks=[_Bar(bar)])
    seconds = time.perf_counter() - start
    model.wv.save_word2vec_format(str(out_file), binary=True)
    info = {
        "settings": settings.to_dict(),
        "sentences": len(corpus),
        "tokens": sum(map(len, corpus)),
        "vocab_size": len(model.wv),
        "train_seconds": round(seconds, 2),
        "training_version": TRAINING_VERSION,
    }
    logger.info("word2vec: %d words x %d trained on %d tokens in %.1f s", len(model.wv), settings.vector_size,
                info["tokens"], seconds)
    return info
