"""Published static checkpoints by name: download once, verify, load through the common loader.

Each entry says where the canonical file is, which archive member holds the vectors, its
format and its casing rule. Files come from :func:`embeddings.support.fetch.fetch_verified`:
the mirror (``CTXBENCH_MIRROR``/models/<name>/<file>), else ``<cache>/models/published/<name>/``,
else a download (resumable, retried; a zip is kept in ``<cache>/downloads`` and its member
extracted). None of these publishers gives a sha256, so (unless one is pinned in
:data:`PUBLISHED`) the sha256 of the vector file is RECORDED on first download in
``<file>.sha256.json`` and every later load checks the file against it (trust on first
use); the checkpoint label then says "unverified" and shows the recorded digest, so results
cannot be mistaken for a checked copy.

Big files are memory-mapped through a one-time conversion
(:func:`embeddings.static.load_static_file`, ``mmap=None`` picks it for files of
1 GiB or more). Options ``max_vocab``/``vocab``/``mmap`` are passed on; ``url=`` points
at a local mirror of the same file.

Examples
--------
>>> PUBLISHED["glove-840b-300d"].lowercase, PUBLISHED["glove-6b-300d"].lowercase
(False, True)
>>> PUBLISHED["word2vec-google-news-300"].format
'word2vec-binary'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.static import StaticEmbedder
from embeddings.support.fetch import Fetched, fetch_verified
from embeddings.support.paths import cache_root

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    """One published checkpoint: where it is, what it is, how to read it."""

    family: str
    url: str
    format: str
    lowercase: bool
    title: str
    member: str | None = None
    sha256: str | None = None  # of the vector file (the extracted member), when a publisher gives one
    citation: str = ""
    homepage: str = ""


_GLOVE_CITE = "Pennington, Socher & Manning 2014, GloVe: Global Vectors for Word Representation, EMNLP 2014"
_GLOVE_HOME = "https://nlp.stanford.edu/projects/glove/"
_GENSIM_DATA = "https://github.com/RaRe-Technologies/gensim-data/releases/download/{0}/{0}.gz"

PUBLISHED: dict[str, Published] = {
    "glove-6b-300d": Published(
        "glove",
        "https://nlp.stanford.edu/data/glove.6B.zip",
        "glove-text",
        True,
        "GloVe 6B 300d (Wikipedia 2014 + Gigaword 5, 400k uncased words)",
        member="glove.6B.300d.txt",
        citation=_GLOVE_CITE,
        homepage=_GLOVE_HOME,
    ),
    "glove-42b-300d": Published(
        "glove",
        "https://nlp.stanford.edu/data/glove.42B.300d.zip",
        "glove-text",
        True,
        "GloVe 42B 300d (Common Crawl, 1.9M uncased words)",
        member="glove.42B.300d.txt",
        citation=_GLOVE_CITE,
        homepage=_GLOVE_HOME,
    ),
    "glove-840b-300d": Published(
        "glove",
        "https://nlp.stanford.edu/data/glove.840B.300d.zip",
        "glove-text",
        False,
        "GloVe 840B 300d (Common Crawl, 2.2M cased words; some tokens contain spaces)",
        member="glove.840B.300d.txt",
        citation=_GLOVE_CITE,
        homepage=_GLOVE_HOME,
    ),
    "word2vec-google-news-300": Published(
        "word2vec",
        "https://s3.amazonaws.com/dl4j-distribution/GoogleNews-vectors-negative300.bin.gz",
        "word2vec-binary",
        False,
        "word2vec GoogleNews 300d (3M cased words and phrases joined by '_')",
        citation="Mikolov, Sutskever, Chen, Corrado & Dean 2013, Distributed Representations of Words and "
        "Phrases and their Compositionality, NIPS 2013",
        homepage="https://code.google.com/archive/p/word2vec/",
    ),
    # gensim-data's re-packaging (word2vec text with a header, gzipped) of GloVe 6B
    "glove-wiki-gigaword-300": Published(
        "glove",
        _GENSIM_DATA.format("glove-wiki-gigaword-300"),
        "word2vec-text",
        True,
        "GloVe 6B 300d as packaged by gensim-data (glove-wiki-gigaword-300)",
        citation=_GLOVE_CITE,
        homepage="https://github.com/RaRe-Technologies/gensim-data",
    ),
    "glove-wiki-gigaword-100": Published(
        "glove",
        _GENSIM_DATA.format("glove-wiki-gigaword-100"),
        "word2vec-text",
        True,
        "GloVe 6B 100d as packaged by gensim-data (glove-wiki-gigaword-100)",
        citation=_GLOVE_CITE,
        homepage="https://github.com/RaRe-Technologies/gensim-data",
    ),
}


def published_dir(checkpoint: str) -> Path:
    """Where ``checkpoint``'s vector file and its record live in the cache."""
    return cache_root() / "models" / "published" / checkpoint


def fetch_published(checkpoint: str, *, url: str | None = None) -> Fetched:
    """A verified (or recorded) local copy of ``checkpoint``'s vector file.

    Mirror (``models/<checkpoint>/<file>``), cache (:func:`published_dir`) or a download
    through :func:`~embeddings.support.fetch.fetch_verified`: a zip's member is extracted
    (the archive stays in ``<cache>/downloads``) and checked against the pin or, with none
    published, against the sha256 recorded on first download (``<file>.sha256.json``).
    """
    entry = PUBLISHED[checkpoint]
    url = url or entry.url
    name = Path(entry.member).name if entry.member else url.rstrip("/").rsplit("/", 1)[-1]
    return fetch_verified(
        url, entry.sha256, published_dir(checkpoint) / name, member=entry.member,
        mirror=f"models/{checkpoint}/{name}", what=checkpoint,
        hint=f"Or load a local copy with embeddings.load('{entry.family}', path=...).",
    )


def load_published(*, checkpoint: str, url: str | None = None, **options: Any) -> StaticEmbedder:
    """A published static checkpoint by name (downloaded and cached on first use).

    Parameters
    ----------
    checkpoint : one of :data:`PUBLISHED`.
    url : optional override of the download location (a local mirror of the same file).
    **options : ``max_vocab``, ``vocab``, ``mmap``, ``lowercase`` for
        :func:`embeddings.static.load_static_file`.
    """
    from embeddings.registries import suggest
    from embeddings.static.loader import load_static_file

    if checkpoint not in PUBLISHED:
        raise KeyError(
            f"unknown published checkpoint {checkpoint!r}; {suggest(checkpoint, PUBLISHED)}"
            f"known: {', '.join(PUBLISHED)}"
        )
    allowed = {"max_vocab", "vocab", "mmap", "lowercase"}
    if set(options) - allowed:
        raise TypeError(
            f"{checkpoint} got unknown options {sorted(set(options) - allowed)}; allowed: "
            f"{sorted(allowed | {'url'})}"
        )
    entry = PUBLISHED[checkpoint]
    got = fetch_published(checkpoint, url=url)
    if got.verified:
        status = "sha256 verified"
    elif got.record is not None:
        status = f"unverified: sha256 {got.sha256[:12]}... recorded on first download"
    else:  # a mirror copy, with nothing to check it against
        status = f"unverified: sha256 {got.sha256[:12]}..., none published or recorded"
    lowercase = options.pop("lowercase", entry.lowercase)
    emb = load_static_file(
        got.path,
        family=entry.family,
        format=entry.format,
        lowercase=lowercase,
        name=checkpoint,
        checkpoint=f"{entry.title} ({status})",
        weights_id=f"sha256:{got.sha256}",
        **options,
    )
    emb.options = {k: v for k, v in emb.options.items() if k not in ("path", "format")}
    emb.verified = got.verified
    return emb
