"""The published ELMo checkpoints (AllenNLP), downloaded on first use.

=====================  ==========================================  ===========
name                   AllenNLP directory                          size (hdf5)
=====================  ==========================================  ===========
elmo-small             2x1024_128_2048cnn_1xhighway                ~54 MB
elmo-medium            2x2048_256_2048cnn_1xhighway                ~150 MB
elmo-original          2x4096_512_2048cnn_2xhighway                ~374 MB
elmo-original-5.5b     2x4096_512_2048cnn_2xhighway_5.5B           ~374 MB
=====================  ==========================================  ===========

Files are looked up in ``CTXBENCH_MIRROR``/models/<name>/ (read-only), then in
``CTXBENCH_CACHE``/models/<name>/, and otherwise downloaded from
``https://allennlp.s3.amazonaws.com/models/elmo/<dir>/elmo_<dir>_{options.json,weights.hdf5}``
by :func:`embeddings.support.fetch.fetch_verified` (resumable, retried, atomic). AllenNLP
publishes no checksums, so the sha256 of each file is recorded beside it
(``<file>.sha256.json``) at the first download; later loads check the files against it, and
the model is labelled *unverified* (the recorded hash says the files did not change since,
not that they are the originals).
"""

from __future__ import annotations

import logging
from typing import Any

from embeddings.elmo.adapter import ElmoEmbedder, build_bilm
from embeddings.registries import suggest
from embeddings.support.fetch import Fetched, fetch_verified
from embeddings.support.paths import cache_root

logger = logging.getLogger(__name__)

BASE_URL = "https://allennlp.s3.amazonaws.com/models/elmo"

#: registry name -> AllenNLP directory (file names are elmo_<dir>_options.json / _weights.hdf5)
CHECKPOINTS: dict[str, str] = {
    "elmo-small": "2x1024_128_2048cnn_1xhighway",
    "elmo-medium": "2x2048_256_2048cnn_1xhighway",
    "elmo-original": "2x4096_512_2048cnn_2xhighway",
    "elmo-original-5.5b": "2x4096_512_2048cnn_2xhighway_5.5B",
}

#: sha256 published by the authors: none are (record on first download)
PUBLISHED_SHA256: dict[str, dict[str, str]] = {}


def checkpoint_urls(checkpoint: str, base_url: str = BASE_URL) -> dict[str, str]:
    """{"options": url, "weights": url} of a published checkpoint.

    >>> checkpoint_urls("elmo-small")["weights"].split("/")[-1]
    'elmo_2x1024_128_2048cnn_1xhighway_weights.hdf5'
    """
    if checkpoint not in CHECKPOINTS:
        raise KeyError(f"unknown ELMo checkpoint {checkpoint!r}; {suggest(checkpoint, CHECKPOINTS)}"
                       f"known: {sorted(CHECKPOINTS)}")
    d = CHECKPOINTS[checkpoint]
    stem = f"{base_url.rstrip('/')}/{d}/elmo_{d}"
    return {"options": f"{stem}_options.json", "weights": f"{stem}_weights.hdf5"}


def fetch_checkpoint(checkpoint: str, *, base_url: str = BASE_URL, timeout: float = 60.0) -> dict[str, Fetched]:
    """{"options": ..., "weights": ...}: verified local copies of ``checkpoint``'s two files.

    Each comes from the mirror (``models/<checkpoint>/<file>``), the cache
    (``<cache>/models/<checkpoint>/<file>``) or a download, through
    :func:`~embeddings.support.fetch.fetch_verified`; with no published sha256 the first
    download's is recorded beside the file (``<file>.sha256.json``) and checked later.
    """
    urls = checkpoint_urls(checkpoint, base_url)
    folder = cache_root() / "models" / checkpoint
    files: dict[str, Fetched] = {}
    for kind, url in urls.items():
        name = url.rsplit("/", 1)[1]
        files[kind] = fetch_verified(
            url, PUBLISHED_SHA256.get(checkpoint, {}).get(kind), folder / name,
            mirror=f"models/{checkpoint}/{name}", what=f"{checkpoint} {kind}", timeout=timeout,
            hint="Or load any local copy with embeddings.load('elmo', options=..., weights=...).",
        )
    return files


def load_published(checkpoint: str, *, base_url: str = BASE_URL, **opts: Any) -> ElmoEmbedder:
    """Load a published ELMo checkpoint by registry name (``elmo-small``, ...).

    ``base_url`` replaces the AllenNLP S3 root (for a private mirror or the tests' local
    server); other options go to :class:`~embeddings.elmo.adapter.ElmoEmbedder`.
    """
    files = fetch_checkpoint(checkpoint, base_url=base_url)
    weights = files["weights"]
    verified = all(f.verified for f in files.values())
    label = (f"{checkpoint} (AllenNLP {CHECKPOINTS[checkpoint]}; weights sha256 {weights.sha256[:12]}, "
             f"{'verified' if verified else 'unverified: recorded on first download, none published'})")
    emb = ElmoEmbedder(build_bilm(files["options"].path, weights.path), name=checkpoint, checkpoint=label,
                       config={"name": checkpoint}, weights_id="sha256:" + weights.sha256, **opts)
    emb.verified = verified
    return emb
