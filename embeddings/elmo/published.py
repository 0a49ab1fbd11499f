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
(atomically: a temporary file renamed on success). AllenNLP publishes no checksums, so the
sha256 of each file is recorded in ``sha256.json`` at the first download; later loads check
the files against the recorded sizes, and the model is labelled *unverified* (the recorded
hash says the files did not change since, not that they are the originals).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import urllib.request
from pathlib import Path
from typing import Any

from embeddings.elmo.adapter import ElmoEmbedder, build_bilm
from embeddings.progress import progress_bar
from embeddings.registries import suggest
from embeddings.support.files import atomic_path, write_text_atomic
from embeddings.support.paths import cache_dir, mirror_root

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

RECORD = "sha256.json"


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


def download(url: str, target: Path, *, timeout: float = 60.0) -> tuple[str, int]:
    """Stream ``url`` into ``target`` atomically; returns (sha256, size in bytes)."""
    h = hashlib.sha256()
    size = 0
    with urllib.request.urlopen(url, timeout=timeout) as resp, atomic_path(target) as tmp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with open(tmp, "wb") as out, progress_bar(total=total, unit="B", unit_scale=True,
                                                  desc=f"download {target.name}") as bar:
            while block := resp.read(1 << 20):
                out.write(block)
                h.update(block)
                size += len(block)
                bar.update(len(block))
        if total is not None and size != total:
            raise OSError(f"{url}: got {size} bytes, Content-Length said {total}; try again")
    return h.hexdigest(), size


def _complete(folder: Path, names: dict[str, str]) -> bool:
    """Both files present and matching the sizes recorded at download."""
    rec = folder / RECORD
    if not rec.is_file() or not all((folder / n).is_file() for n in names.values()):
        return False
    recorded = json.loads(rec.read_text(encoding="utf-8"))["files"]
    return all(n in recorded and (folder / n).stat().st_size == recorded[n]["size"] for n in names.values())


def fetch_checkpoint(checkpoint: str, *, base_url: str = BASE_URL, timeout: float = 60.0) -> Path:
    """The local directory holding ``checkpoint``'s options + weights and ``sha256.json``.

    Mirror first, then cache, then a download into the cache.
    """
    urls = checkpoint_urls(checkpoint, base_url)
    names = {k: u.rsplit("/", 1)[1] for k, u in urls.items()}
    mirror = mirror_root()
    if mirror is not None and _complete(mirror / "models" / checkpoint, names):
        return mirror / "models" / checkpoint
    folder = cache_dir("models", checkpoint)
    if _complete(folder, names):
        return folder
    files: dict[str, Any] = {}
    for kind, url in urls.items():
        logger.info("downloading %s %s from %s", checkpoint, kind, url)
        try:
            sha, size = download(url, folder / names[kind], timeout=timeout)
        except OSError as e:
            raise OSError(f"could not download {checkpoint} {kind} from {url}: {e}. Put "
                          f"{names[kind]} into {folder} (or the mirror's models/{checkpoint}/) by hand, "
                          f"or load any local copy with embeddings.load('elmo', options=..., "
                          f"weights=...)") from e
        pinned = PUBLISHED_SHA256.get(checkpoint, {}).get(kind)
        if pinned and pinned != sha:
            (folder / names[kind]).unlink()
            raise ValueError(f"{url}: sha256 {sha} differs from the published {pinned}; file removed")
        files[names[kind]] = {"kind": kind, "url": url, "sha256": sha, "size": size}
    record = {"checkpoint": checkpoint, "files": files, "verified": checkpoint in PUBLISHED_SHA256,
              "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "note": "no sha256 is published for this checkpoint; recorded at first download"}
    write_text_atomic(folder / RECORD, json.dumps(record, indent=2))
    logger.warning("%s: no published sha256; recorded %s on first download (unverified)",
                   checkpoint, files[names["weights"]]["sha256"][:12])
    return folder


def load_published(checkpoint: str, *, base_url: str = BASE_URL, **opts: Any) -> ElmoEmbedder:
    """Load a published ELMo checkpoint by registry name (``elmo-small``, ...).

    ``base_url`` replaces the AllenNLP S3 root (for a private mirror or the tests' local
    server); other options go to :class:`~embeddings.elmo.adapter.ElmoEmbedder`.
    """
    folder = fetch_checkpoint(checkpoint, base_url=base_url)
    urls = checkpoint_urls(checkpoint, base_url)
    options = folder / urls["options"].rsplit("/", 1)[1]
    weights = folder / urls["weights"].rsplit("/", 1)[1]
    record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    sha = record["files"][weights.name]["sha256"]
    verified = bool(record.get("verified"))
    label = (f"{checkpoint} (AllenNLP {CHECKPOINTS[checkpoint]}; weights sha256 {sha[:12]}, "
             f"{'verified' if verified else 'unverified: recorded on first download, none published'})")
    emb = ElmoEmbedder(build_bilm(options, weights), name=checkpoint, checkpoint=label,
                       config={"name": checkpoint}, weights_id="sha256:" + sha, **opts)
    emb.verified = verified
    return emb
