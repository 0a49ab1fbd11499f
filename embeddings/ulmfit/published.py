"""``ulmfit-wt103``: fastai's published WikiText-103 AWD-LSTM, downloaded on first use.

fastai publishes the model as a gzipped tar per direction (``URLs.WT103_FWD`` /
``URLs.WT103_BWD``): ``wt103-fwd.tgz`` holds ``wt103-fwd/lstm_fwd.pth`` and
``wt103-fwd/itos_wt103.pkl`` (60,000 tokens, 400 / 1152 / 1152 / 400). The archive comes
through :func:`embeddings.support.fetch.fetch_verified` (mirror, cache, or a resumable,
retried download). No sha256 is published, so the first download's sha256 is recorded beside
it (``<cache>/models/ulmfit-wt103/<direction>-<archive>.sha256.json``), every later load
re-verifies the archive against that record, and the model is labelled unverified.
Archives are extracted with tarfile's ``data`` filter (regular files inside the target
only), once per archive sha256, atomically.
"""

from __future__ import annotations

import logging
import tarfile
from pathlib import Path
from typing import Any

from embeddings.support.fetch import Fetched, fetch_verified
from embeddings.support.files import atomic_path
from embeddings.support.paths import cache_root
from embeddings.ulmfit.checkpoint import load_checkpoint
from embeddings.ulmfit.embedder import UlmfitEmbedder

logger = logging.getLogger(__name__)

S3_MODELZOO = "https://s3.amazonaws.com/fast-ai-modelzoo/"
PUBLISHED: dict[str, dict[str, str]] = {
    "ulmfit-wt103": {"fwd": S3_MODELZOO + "wt103-fwd.tgz", "bwd": S3_MODELZOO + "wt103-bwd.tgz"},
}
#: sha256 of archives checked by a maintainer (none yet: fastai publishes no checksum)
PINNED_SHA256: dict[str, str] = {}


def fetch_published(checkpoint: str, direction: str = "fwd", *, url: str | None = None) -> tuple[Path, Fetched]:
    """Directory of the extracted checkpoint, and the verified (or recorded) archive it came from.

    The archive comes from the mirror (``models/<checkpoint>/<archive>``), the cache or a
    download, through :func:`~embeddings.support.fetch.fetch_verified` (recorded on first
    download, checked on every later load); it is extracted once per sha256 into
    ``<cache>/models/<checkpoint>/<direction>-<sha256[:12]>/``.
    """
    if checkpoint not in PUBLISHED:
        from embeddings.registries import suggest

        raise KeyError(f"unknown ULMFiT checkpoint {checkpoint!r}; {suggest(checkpoint, PUBLISHED)}"
                       f"known: {sorted(PUBLISHED)}")
    if direction not in PUBLISHED[checkpoint]:
        raise ValueError(f"direction must be one of {sorted(PUBLISHED[checkpoint])}, got {direction!r}")
    url = url or PUBLISHED[checkpoint][direction]
    name = url.rstrip("/").rsplit("/", 1)[-1]
    root = cache_root() / "models" / checkpoint
    archive = fetch_verified(
        url, PINNED_SHA256.get(url), root / f"{direction}-{name}", mirror=f"models/{checkpoint}/{name}",
        what=f"{checkpoint} ({direction})",
        hint="Or load a local copy of the extracted checkpoint with embeddings.load('ulmfit', path=...).",
    )
    # one extraction per archive content: a changed archive can never reuse a stale directory
    extracted = root / f"{direction}-{archive.sha256[:12]}"
    if not extracted.is_dir():
        with atomic_path(extracted) as tmp:
            tmp.mkdir()
            with tarfile.open(archive.path) as tf:
                tf.extractall(tmp, filter="data")
    return _checkpoint_dir(extracted), archive


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
    fwd_dir, fwd_archive = fetch_published(checkpoint, "fwd", url=url)
    fwd = load_checkpoint(fwd_dir)
    bwd = None
    if backward:
        bwd_dir, _ = fetch_published(checkpoint, "bwd", url=backward_url)
        bwd = load_checkpoint(bwd_dir)
    note = "sha256 pinned" if fwd_archive.verified else f"unverified, sha256 {fwd_archive.sha256[:12]} recorded"
    options: dict[str, Any] = {}
    if url:
        options["url"] = url
    if backward_url:
        options["backward_url"] = backward_url
    source = url or PUBLISHED[checkpoint]["fwd"]
    return UlmfitEmbedder(fwd, bwd, name=checkpoint, checkpoint=f"{checkpoint} (fastai AWD-LSTM from {source}; {note})",
                          options=options, markers=markers, device=device, batch_size=batch_size)
