"""``ulmfit-wt103``: fastai's published WikiText-103 AWD-LSTM, downloaded on first use.

fastai publishes the model as a gzipped tar per direction (``URLs.WT103_FWD`` /
``URLs.WT103_BWD``): ``wt103-fwd.tgz`` holds ``wt103-fwd/lstm_fwd.pth`` and
``wt103-fwd/itos_wt103.pkl`` (60,000 tokens, 400 / 1152 / 1152 / 400). No sha256 is
published, so the first download's sha256 is recorded beside it
(``<cache>/models/ulmfit-wt103/<direction>.json``), every later load re-verifies the
archive against that record, and the model is labelled unverified. Archives are
extracted with tarfile's ``data`` filter (regular files inside the target only), and
every write is atomic.
"""

from __future__ import annotations

import json
import logging
import tarfile
import time
from pathlib import Path
from typing import Any

from bench.datasets.registry import download_url
from embeddings.support.files import atomic_path, sha256_file
from embeddings.support.paths import cache_dir
from embeddings.ulmfit.checkpoint import load_checkpoint
from embeddings.ulmfit.embedder import UlmfitEmbedder

logger = logging.getLogger(__name__)

S3_MODELZOO = "https://s3.amazonaws.com/fast-ai-modelzoo/"
PUBLISHED: dict[str, dict[str, str]] = {
    "ulmfit-wt103": {"fwd": S3_MODELZOO + "wt103-fwd.tgz", "bwd": S3_MODELZOO + "wt103-bwd.tgz"},
}
#: sha256 of archives checked by a maintainer (none yet: fastai publishes no checksum)
PINNED_SHA256: dict[str, str] = {}


class PublishedChecksumError(ValueError):
    """A cached archive no longer matches the sha256 recorded at its first download."""


def fetch_published(checkpoint: str, direction: str = "fwd", *, url: str | None = None
                    ) -> tuple[Path, dict[str, Any]]:
    """Directory of the extracted checkpoint, and its download record (url, sha256, verified).

    Downloads and extracts on first use; later calls verify the kept archive against the
    recorded sha256 (and a pinned one, when the project has it).
    """
    if checkpoint not in PUBLISHED:
        from embeddings.registries import suggest

        raise KeyError(f"unknown ULMFiT checkpoint {checkpoint!r}; {suggest(checkpoint, PUBLISHED)}"
                       f"known: {sorted(PUBLISHED)}")
    if direction not in PUBLISHED[checkpoint]:
        raise ValueError(f"direction must be one of {sorted(PUBLISHED[checkpoint])}, got {direction!r}")
    url = url or PUBLISHED[checkpoint][direction]
    root = cache_dir("models", checkpoint)
    archive = root / f"{direction}-{url.rstrip('/').rsplit('/', 1)[-1]}"
    record_path = root / f"{direction}.json"
    extracted = root / direction
    record: dict[str, Any] | None = None
    if record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record.get("url") != url:
            record = None  # another source: start over
    if record is None or not archive.is_file():
        download_url(url, archive)
        record = {"url": url, "sha256": sha256_file(archive), "bytes": archive.stat().st_size,
                  "downloaded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        with atomic_path(record_path) as tmp:
            tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
        logger.warning("%s (%s): no published sha256; recorded %s from this first download "
                       "(unverified)", checkpoint, direction, record["sha256"])
        if extracted.exists():
            import shutil

            shutil.rmtree(extracted)
    else:
        got = sha256_file(archive)
        if got != record["sha256"]:
            raise PublishedChecksumError(
                f"{archive} has sha256 {got}, but {record['sha256']} was recorded at its first download "
                f"({record_path}); the archive changed. Delete {root} to download it again.")
    pinned = PINNED_SHA256.get(url)
    if pinned is not None and record["sha256"] != pinned:
        raise PublishedChecksumError(f"{url}: sha256 {record['sha256']} != pinned {pinned}; refused")
    record["verified"] = pinned is not None
    if not extracted.is_dir():
        with atomic_path(extracted) as tmp:
            tmp.mkdir()
            with tarfile.open(archive) as tf:
                tf.extractall(tmp, filter="data")
    return _checkpoint_dir(extracted), record


def _checkpoint_dir(root: Path) -> Path:
    """The directory (``root`` or below) holding the one .pth file of the archive."""
    found = sorted(root.rglob("*.pth"))
    if len(found) != 1:
        raise FileNotFoundError(f"{root}: expected one .pth in the archive, found {[str(p) for p in found]}")
    return found[0].parent


def load_published(checkpoint: str = "ulmfit-wt103", *, backward: bool = False, markers: bool = True,
                   device: str = "cpu", batch_size: int = 32, url: str | None = None,
                   backward_url: str | None = None) -> UlmfitEmbedder:
    """A published fastai checkpoint (downloaded and cached on first use).

    ``url`` / ``backward_url`` override the download location (a mirror, or a test server).
    """
    fwd_dir, fwd_rec = fetch_published(checkpoint, "fwd", url=url)
    fwd = load_checkpoint(fwd_dir)
    bwd = None
    if backward:
        bwd_dir, _ = fetch_published(checkpoint, "bwd", url=backward_url)
        bwd = load_checkpoint(bwd_dir)
    note = "sha256 pinned" if fwd_rec["verified"] else f"unverified, sha256 {fwd_rec['sha256'][:12]} recorded"
    options: dict[str, Any] = {}
    if url:
        options["url"] = url
    if backward_url:
        options["backward_url"] = backward_url
    return UlmfitEmbedder(fwd, bwd, name=checkpoint,
                          checkpoint=f"{checkpoint} (fastai AWD-LSTM from {fwd_rec['url']}; {note})",
                          options=options, markers=markers, device=device, batch_size=batch_size)
