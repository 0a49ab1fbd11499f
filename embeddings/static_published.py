"""Published static checkpoints by name: download once, verify, load through the common loader.

Each entry says where the canonical file is, which archive member holds the vectors, its
format and its casing rule. None of these publishers gives a sha256, so (unless one is
pinned in :data:`PUBLISHED`) the sha256 of the download is RECORDED on first download in
``<cache>/models/published/<name>/download.json`` and every later load checks the file
against it (trust on first use); the checkpoint label then says "unverified" and shows the
recorded digest, so results cannot be mistaken for a checked copy.

Files: the download is kept in ``<cache>/downloads`` (atomic write, progress bar: the
dataset registry's helpers), a zip member is extracted next to ``download.json``, and big
files are memory-mapped through a one-time conversion
(:func:`embeddings.static_formats.load_static_file`, ``mmap=None`` picks it for files of
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

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.static import StaticEmbedder

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
    sha256: str | None = None  # of the downloaded file, when a publisher gives one
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
    from embeddings.support.paths import cache_root

    return cache_root() / "models" / "published" / checkpoint


def _record_or_verify(checkpoint: str, entry: Published, url: str, archive: Path) -> tuple[str, bool]:
    """(sha256 of the download, verified against a published digest?). Records on first use."""
    from bench.datasets.registry import ChecksumMismatch
    from embeddings.support.files import sha256_file, write_text_atomic

    record_file = published_dir(checkpoint) / "download.json"
    st = archive.stat()
    record = json.loads(record_file.read_text(encoding="utf-8")) if record_file.is_file() else None
    if record and record.get("bytes") == st.st_size and record.get("mtime_ns") == st.st_mtime_ns:
        digest = record["sha256"]  # the same file as when it was hashed
    else:
        digest = sha256_file(archive)
    expected = entry.sha256 or (record or {}).get("sha256")
    if expected and digest != expected:
        raise ChecksumMismatch(
            f"{checkpoint}: {archive} has sha256 {digest}, but "
            f"{'the published digest is' if entry.sha256 else 'the download recorded on first use had'} "
            f"{expected}. The file is refused: delete it (and {record_file} if the new file is the one "
            "you want) and load again."
        )
    if record is None or record.get("mtime_ns") != st.st_mtime_ns:
        write_text_atomic(
            record_file,
            json.dumps(
                {
                    "checkpoint": checkpoint,
                    "url": url,
                    "sha256": digest,
                    "bytes": st.st_size,
                    "mtime_ns": st.st_mtime_ns,
                    "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "verified_against_published": bool(entry.sha256),
                },
                indent=1,
            ),
        )
    return digest, bool(entry.sha256)


def fetch_published(checkpoint: str, *, url: str | None = None) -> tuple[Path, str, bool]:
    """Download (once) and verify; returns (vector file, sha256 of the download, verified?)."""
    from bench.datasets.registry import DataUnavailable, download_path, download_url, extract_member
    from embeddings.support.files import atomic_path

    entry = PUBLISHED[checkpoint]
    url = url or entry.url
    archive = download_path(url)
    try:
        download_url(url, archive)
    except Exception as e:  # no network, 404: say what to do instead
        raise DataUnavailable(
            f"{checkpoint}: the download of {url} failed ({type(e).__name__}: {e}). Download it yourself and "
            f"place it at {archive}, or load a local copy with embeddings.load('{entry.family}', path=...)."
        ) from e
    digest, verified = _record_or_verify(checkpoint, entry, url, archive)
    if entry.member is None:
        return archive, digest, verified
    target = published_dir(checkpoint) / Path(entry.member).name
    if not target.is_file():
        logger.info("%s: extracting %s from %s", checkpoint, entry.member, archive)
        with atomic_path(target) as tmp:
            extract_member(archive, entry.member, tmp)
    return target, digest, verified


def load_published(*, checkpoint: str, url: str | None = None, **options: Any) -> StaticEmbedder:
    """A published static checkpoint by name (downloaded and cached on first use).

    Parameters
    ----------
    checkpoint : one of :data:`PUBLISHED`.
    url : optional override of the download location (a local mirror of the same file).
    **options : ``max_vocab``, ``vocab``, ``mmap``, ``lowercase`` for
        :func:`embeddings.static_formats.load_static_file`.
    """
    from embeddings.registries import suggest
    from embeddings.static_formats import load_static_file

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
    path, digest, verified = fetch_published(checkpoint, url=url)
    status = (
        "sha256 verified" if verified else f"unverified: sha256 {digest[:12]}... recorded on first download"
    )
    lowercase = options.pop("lowercase", entry.lowercase)
    emb = load_static_file(
        path,
        family=entry.family,
        format=entry.format,
        lowercase=lowercase,
        name=checkpoint,
        checkpoint=f"{entry.title} ({status})",
        weights_id=f"sha256:{digest}",
        **options,
    )
    emb.options = {k: v for k, v in emb.options.items() if k not in ("path", "format")}
    emb.verified = verified
    return emb
