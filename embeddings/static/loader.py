"""Loading any static vector file as a :class:`~embeddings.static.embedder.StaticEmbedder`."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from gensim.models import KeyedVectors

from embeddings.static.embedder import StaticEmbedder
from embeddings.static.formats import FORMATS, FULL_HASH_LIMIT, MMAP_THRESHOLD, StaticFormatError, sniff_format
from embeddings.static.gensim_native import load_gensim_native
from embeddings.static.mmap_cache import convert_to_npy, converted_dir, load_converted
from embeddings.static.parsers import _vocab_filter, read_vectors

logger = logging.getLogger(__name__)

# -- the loader ----------------------------------------------------------------------------
def _weights_identity(path: Path) -> str:
    """sha256 of the file, or for big files of its size and three 4 MiB samples."""
    st = path.stat()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        if st.st_size <= FULL_HASH_LIMIT:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
            return "sha256:" + h.hexdigest()
        h.update(str(st.st_size).encode())
        for offset in (0, st.st_size // 2, max(0, st.st_size - (4 << 20))):
            f.seek(offset)
            h.update(f.read(4 << 20))
    return "sampled-sha256:" + h.hexdigest()


def _detect_uncased(words: list[str], sample: int = 20000) -> bool:
    """True when no word among the first ``sample`` has an upper-case letter."""
    return not any(w != w.lower() for w in words[:sample])


def _restrict(
    words: list[str], vectors: np.ndarray, max_vocab: int | None, vocab: Iterable[str] | None
) -> tuple[list[str], np.ndarray]:
    if max_vocab is not None:
        words, vectors = words[:max_vocab], vectors[:max_vocab]
    keep = _vocab_filter(vocab)
    if keep is not None:
        idx = [i for i, w in enumerate(words) if keep(w)]
        words, vectors = [words[i] for i in idx], np.asarray(vectors[idx])
    return words, vectors


def keyed_vectors(words: list[str], vectors: np.ndarray) -> KeyedVectors:
    """A gensim KeyedVectors over existing arrays (no copy; a memmap stays a memmap)."""
    kv = KeyedVectors(vector_size=int(vectors.shape[1]), count=0)
    kv.index_to_key = list(words)
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    kv.vectors = vectors
    return kv


def load_static_file(
    path: str | Path,
    *,
    family: str,
    format: str | None = None,
    max_vocab: int | None = None,
    vocab: Iterable[str] | None = None,
    lowercase: bool | None = None,
    mmap: bool | None = None,
    name: str | None = None,
    checkpoint: str | None = None,
    unicode_errors: str = "strict",
    weights_id: str | None = None,
    lenient_tokens: bool = False,
) -> StaticEmbedder:
    """Load any static vector file as a :class:`StaticEmbedder`.

    Parameters
    ----------
    path : str or Path
        The file (``.bin``, ``.txt``, ``.vec``, ``.kv``, ``.model``; plain, .gz or .bz2).
    family : {'word2vec', 'glove', 'other'}
    format : one of :data:`FORMATS`, or None to sniff it from the file.
    max_vocab : int, optional
        Keep the first N words (word2vec and GloVe files are in frequency order).
    vocab : iterable of str, optional
        Keep only these words (matching exactly or lower-cased), e.g. the words a suite's
        datasets need (:func:`bench.datasets.words.suite_words`).
    lowercase : bool, optional
        Look words up lower-cased. None: True when the first 20,000 words have no upper-case
        letter (an uncased model such as GloVe 6B/42B), else False (GoogleNews, GloVe 840B).
    mmap : bool, optional
        Memory-map the matrix: gensim files are loaded with ``mmap='r'``; text/binary files
        are converted once into the cache and mapped afterwards. None: True for files of
        1 GiB or more, or when a conversion already exists.
    name, checkpoint : str, optional
        Registry name and human label (defaults name the file).
    unicode_errors : str
        How undecodable words are handled ('strict' raises naming the line).
    weights_id : str, optional
        Identity of the weights for the fingerprint; default: a sha256 of the file (sampled
        for files over 256 MiB).
    lenient_tokens : bool
        GloVe text: read a line with one or more values too many as a token containing spaces
        even when the token's last part is a number (refused by default as a wrong dimension).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if format is not None and format not in FORMATS:
        raise ValueError(f"format={format!r}; known formats: {', '.join(FORMATS)}")
    if max_vocab is not None and int(max_vocab) < 1:
        raise ValueError(f"max_vocab must be a positive integer, got {max_vocab}")
    fmt = format or sniff_format(path)
    vocab_list = sorted(set(vocab)) if vocab is not None else None
    if fmt == "gensim":
        # gensim stores big arrays beside the pickle (<name>.vectors.npy): count them too
        size = sum(f.stat().st_size for f in [path, *path.parent.glob(f"{path.name}.*.npy")])
        kv = load_gensim_native(path, mmap=bool(mmap) if mmap is not None else size >= MMAP_THRESHOLD)
        words, vectors = _restrict(list(kv.index_to_key), kv.vectors, max_vocab, vocab_list)
        if max_vocab is not None or vocab_list is not None:
            kv = keyed_vectors(words, vectors)
        mapped = isinstance(kv.vectors, np.memmap)
    else:
        converted = converted_dir(path, fmt, unicode_errors, lenient_tokens)
        if mmap is None:
            has_cache = (converted / "vectors.npy").is_file()
            restricted = max_vocab is not None or vocab_list is not None
            mmap = has_cache or (path.stat().st_size >= MMAP_THRESHOLD and not restricted)
        if mmap:
            directory = convert_to_npy(
                path, fmt, unicode_errors=unicode_errors, lenient_tokens=lenient_tokens
            )
            words, vectors = load_converted(directory)
            words, vectors = _restrict(words, vectors, max_vocab, vocab_list)
        else:
            words, vectors, fmt = read_vectors(
                path,
                fmt,
                max_vocab=max_vocab,
                vocab=vocab_list,
                unicode_errors=unicode_errors,
                lenient_tokens=lenient_tokens,
            )
        kv = keyed_vectors(words, vectors)
        mapped = bool(mmap)
    if len(kv) == 0:
        raise StaticFormatError(path, 1, "no vectors kept")
    if lowercase is None:
        lowercase = _detect_uncased(list(kv.index_to_key))
    restriction = ""
    if max_vocab is not None:
        restriction += f", first {max_vocab}"
    if vocab_list is not None:
        restriction += f", restricted to {len(kv)} of the {len(vocab_list)} requested words"
    label = checkpoint or (
        f"{path.name} ({fmt}, {len(kv)} x {kv.vector_size}{restriction}, "
        f"{'lower-cased' if lowercase else 'cased'} lookup)"
    )
    # the options that rebuild this model through embeddings.load("word2vec"/"glove", **options)
    options: dict[str, Any] = {"path": str(path), "format": fmt, "lowercase": bool(lowercase)}
    if max_vocab is not None:
        options["max_vocab"] = int(max_vocab)
    if vocab_list is not None:
        options["vocab"] = vocab_list
    if unicode_errors != "strict":
        options["unicode_errors"] = unicode_errors
    if lenient_tokens:
        options["lenient_tokens"] = True
    emb = StaticEmbedder(
        kv,
        name=name or f"{family}:{path.name}",
        family=family,
        lowercase=bool(lowercase),
        checkpoint=label,
        weights_id=weights_id or _weights_identity(path),
        options=options,
        registry_name=family if name is None else name,
    )
    emb.mmapped = mapped  # how it is held, not what it is: kept out of config() and the fingerprint
    return emb


