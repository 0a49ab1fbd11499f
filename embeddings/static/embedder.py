"""Static word vectors (Word2Vec, GloVe) as an Embedder: one vector per word, any context.

Every static format ends up as one gensim ``KeyedVectors`` inside one
:class:`StaticEmbedder`; formats are loader functions, not subclasses (file formats:
:mod:`embeddings.static.loader`).

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
from typing import Any

import numpy as np
from gensim.models import KeyedVectors

from embeddings.base import STATIC_FAMILIES, Embedder

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
        if family not in (*STATIC_FAMILIES, "other"):
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
