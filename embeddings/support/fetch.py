"""One verified fetch for every file ctxbench reads: mirror, cache, or a resumable download.

:func:`fetch_verified` is the only code in ctxbench that opens a URL. Datasets, published
word vectors, ELMo and ULMFiT checkpoints all come through it, so they share one order of
lookup, one error family and one record format:

1. ``mirror``: a READ-ONLY copy (``$CTXBENCH_MIRROR/<rel>``). Verified and returned as is;
   never written to, so a bad copy is refused with advice that fits a read-only directory.
2. ``dest`` in the cache: verified and returned. A cache copy with a wrong hash is ours: it
   is fetched again once (the old copy stays until a verified one replaces it).
3. A download of ``url`` (the archive, when ``member`` is set) streamed to ``<file>.part``,
   resumed with an HTTP ``Range`` request after an interruption, retried with exponential
   backoff on connection errors, timeouts, truncated bodies and 5xx (never on 404/403),
   renamed into place only once complete and verified. A member is extracted from the kept
   archive (``<cache>/downloads/``, so several members of one archive download once) and the
   MEMBER is verified: pins are per extracted file.

With ``sha256=None`` (checkpoints whose publisher gives no checksum) the first download is
trusted and its sha256 recorded in a small JSON file (``<dest>.sha256.json``); later calls
verify against that record. The result says which it was: :attr:`Fetched.verified` is True
only for a match with a pin, so callers can label the other models *unverified*.

Why urllib and not pooch: pooch (not a dependency) verifies the downloaded file, while
ctxbench pins the extracted member; it does not resume a partial download with ``Range``,
does not know a read-only mirror that must be looked up first and never written, and has
no trust-on-first-use record. The HTTP part here is ~80 lines of the standard library.

Examples
--------
A ``file://`` URL stands in for a server here:

>>> import hashlib, pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "src.txt").write_text("tiger cat 7.35\\n")
>>> pin = hashlib.sha256(b"tiger cat 7.35\\n").hexdigest()
>>> got = fetch_verified((d / "src.txt").as_uri(), pin, d / "cache" / "pairs.txt", what="toy pairs")
>>> got.path.read_text(), got.verified, got.source
('tiger cat 7.35\\n', True, 'download')
>>> fetch_verified((d / "src.txt").as_uri(), pin, d / "cache" / "pairs.txt").source
'cache'
>>> fetch_verified(None, "0" * 64, d / "cache" / "pairs.txt")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
embeddings.support.errors.ChecksumMismatch: file: the cached copy .../pairs.txt has sha256 ...
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from embeddings.support.errors import CacheNotWritable, ChecksumMismatch, DownloadError
from embeddings.support.files import atomic_path, file_lock, sha256_file, write_text_atomic
from embeddings.support.paths import cache_root, mirror_root

logger = logging.getLogger(__name__)

USER_AGENT = "ctxbench (python urllib)"
CHUNK = 1 << 16
#: HTTP statuses worth another try (server trouble, rate limits); any other 4xx is final
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_HEX64 = re.compile(r"[0-9a-f]{64}")

# seam for the tests: the retry loop sleeps through this
_sleep = time.sleep


@dataclass(frozen=True)
class Fetched:
    """A local, checked copy of a file.

    Attributes
    ----------
    path : Path
        The file to read: the mirror copy or the cache copy.
    sha256 : str
        Its sha256 (hex).
    verified : bool
        True when it matched a pinned sha256; False when it only matched (or created) a
        trust-on-first-use record, or nothing could be checked (no pin, no record).
    source : str
        ``"mirror"``, ``"cache"`` (already there), ``"archive"`` (extracted from a kept
        download) or ``"download"`` (downloaded in this call).
    record : Path or None
        The trust-on-first-use record that vouched for it (None when pinned, or a mirror
        copy with no record).
    """

    path: Path
    sha256: str
    verified: bool
    source: str
    record: Path | None = None

    def __fspath__(self) -> str:
        return str(self.path)


def fetch_verified(
    url: str | None,
    sha256: str | None,
    dest: str | os.PathLike[str],
    *,
    member: str | None = None,
    mirror: str | os.PathLike[str] | None = None,
    what: str = "file",
    retries: int = 3,
    timeout: float = 30.0,
    backoff: float = 0.5,
    record: str | os.PathLike[str] | None = None,
    hint: str = "",
) -> Fetched:
    """A verified local copy of a file: from the mirror, the cache, or a download.

    Parameters
    ----------
    url : str or None
        Where to download it from (``http(s)://`` or ``file://``); the archive holding it
        when ``member`` is set. None: no download (mirror or cache only).
    sha256 : str or None
        The pinned sha256 of the file (of the extracted member, with ``member``). None:
        trust on first use, through the record.
    dest : path
        Where the file lives in the cache (the writable copy).
    member : str, optional
        Path of the file inside the zip or tar(.gz) archive at ``url``.
    mirror : path, optional
        A read-only copy, looked up first and never written. A relative path is taken
        under ``CTXBENCH_MIRROR`` (skipped when that is unset, but named in the advice of
        the download error); an absolute path is used as is.
    what : str
        What the file is, for messages ("dataset 'wic' file 'dev.gold'").
    retries : int
        Further attempts after the first failed one (connection errors, timeouts,
        truncated bodies, 5xx); a 404 or 403 fails at once.
    timeout : float
        Seconds each blocking socket operation of a request may take.
    backoff : float
        Seconds before the first retry; doubled for each next one.
    record : path, optional
        The trust-on-first-use record (default ``<dest>.sha256.json``); used only when
        ``sha256`` is None.
    hint : str
        One more sentence for the download error (e.g. how to load a local copy instead).

    Returns
    -------
    Fetched
        ``.path`` to read, its ``.sha256``, whether it was ``.verified`` against a pin.

    Raises
    ------
    ChecksumMismatch
        A mirror copy, or a fresh download, does not match the pin or the record.
    DownloadError
        No copy and the download failed after the retries (or ``url`` is None).
    CacheNotWritable
        The cache directory cannot be created or written.
    """
    dest = Path(dest)
    pin = _check_pin(sha256, what)
    record_path = Path(record) if record is not None else dest.with_name(dest.name + ".sha256.json")
    rec = None if pin else _read_record(record_path)
    expected = pin or (rec["sha256"] if rec else None)
    how = "the pinned sha256" if pin else f"the sha256 recorded on first use in {record_path}"
    vouch = None if pin else record_path if rec else None

    mirror_path, mirror_rel = _mirror_location(mirror)
    if mirror_path is not None and mirror_path.is_file():
        got = _digest(mirror_path)
        if expected is not None and got != expected:
            raise ChecksumMismatch(
                f"{what}: refused the mirror copy {mirror_path}: sha256 {got}, expected {expected} ({how}). "
                "The mirror is read-only to ctxbench: replace the mirror copy with a verified one, "
                "or unset CTXBENCH_MIRROR to download"
            )
        return Fetched(mirror_path, got, pin is not None, "mirror", vouch)

    stale: str | None = None
    if dest.is_file():
        got = _digest(dest, rec)
        if expected is None:  # a copy put there by hand, and no record yet: record it now
            _write_record(record_path, what, url, member, got, dest)
            return Fetched(dest, got, False, "cache", record_path)
        if got == expected:
            if rec is not None and _stat_differs(rec, dest):  # touched, same content: save the next process a hash
                with contextlib.suppress(CacheNotWritable):
                    _write_record(record_path, what, rec.get("url"), rec.get("member"), got, dest,
                                  recorded=rec.get("recorded"))
            return Fetched(dest, got, pin is not None, "cache", vouch)
        stale = got
        logger.warning("%s: the cached copy %s has sha256 %s, expected %s; fetching it again", what, dest, got,
                       expected)

    plan = _Plan(url, dest, member, what, retries, timeout, backoff, mirror_rel, mirror_path, hint)
    try:
        got, source = _fetch(plan, expected, how, stale)
    except DownloadError as e:
        if stale is None:
            raise
        raise ChecksumMismatch(
            f"{what}: the cached copy {dest} has sha256 {stale}, expected {expected} ({how}), and fetching "
            f"it again failed ({getattr(e, 'reason', e)}). Put a verified copy at {dest}"
        ) from e
    if pin is None:
        _write_record(record_path, what, url, member, got, dest, recorded=rec.get("recorded") if rec else None)
        if rec is None:
            logger.warning("%s: no published sha256; recorded %s from the first download in %s (unverified)",
                           what, got[:12], record_path)
        return Fetched(dest, got, False, source, record_path)
    return Fetched(dest, got, True, source, None)


# -- the fetch itself --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    url: str | None
    dest: Path
    member: str | None
    what: str
    retries: int
    timeout: float
    backoff: float
    mirror_rel: str | None
    mirror_path: Path | None
    hint: str


def _fetch(plan: _Plan, expected: str | None, how: str, stale: str | None) -> tuple[str, str]:
    """Download (and extract) ``plan.dest``; returns (its sha256, source). Verified if ``expected``."""
    if plan.url is None:
        raise _download_error(plan, "no download URL is known", attempts=0)
    _ensure_dir(plan.dest.parent)
    if plan.member is None:
        with _lock(plan.dest):
            if stale is None and plan.dest.is_file():  # another process finished it meanwhile
                got = _digest(plan.dest)
                if expected is None or got == expected:
                    return got, "cache"
            part = plan.dest.with_name(plan.dest.name + ".part")
            resumed = _download(plan, part)
            got = sha256_file(part)
            if expected is not None and got != expected and resumed:
                # the kept .part may have come from another version of the file: once more from scratch
                logger.warning("%s: resumed download has the wrong sha256; downloading it whole", plan.what)
                part.unlink()
                _download(plan, part)
                got = sha256_file(part)
            if expected is not None and got != expected:
                part.unlink()
                raise _mismatch(plan, got, expected, how, stale)
            _replace(part, plan.dest)
        _remember(plan.dest, got)
        return got, "download"

    archive = download_path(plan.url)
    how_got = _ensure_archive(plan, archive, force=False)
    digest = _extract_checked(plan, archive, expected)
    if digest is not None and (expected is None or digest == expected):
        return digest, "archive" if how_got == "kept" else "download"
    if how_got != "downloaded":  # a kept (or resumed) archive without the right member: download it whole, once
        logger.warning("%s: %s does not give the expected member; downloading it again", plan.what, archive)
        _ensure_archive(plan, archive, force=True)
        digest = _extract_checked(plan, archive, expected)
        if digest is not None and (expected is None or digest == expected):
            return digest, "download"
    archive.unlink(missing_ok=True)  # proven wrong: do not keep it
    if digest is None:
        raise _download_error(plan, f"the archive has no member {plan.member!r} (or is not a zip/tar)",
                              attempts=1)
    raise _mismatch(plan, digest, expected or "", how, stale)


def download_path(url: str) -> Path:
    """Where the download of ``url`` is kept: ``<cache>/downloads/<sha1(url)[:8]>-<file name>``.

    >>> download_path("https://nlp.stanford.edu/data/glove.6B.zip").name
    'afb38023-glove.6B.zip'
    """
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "download"
    return cache_root() / "downloads" / (hashlib.sha1(url.encode()).hexdigest()[:8] + "-" + name)


def _ensure_archive(plan: _Plan, archive: Path, *, force: bool) -> str:
    """Download the archive unless it is kept already (or ``force``): "kept", "downloaded" or "resumed"."""
    assert plan.url is not None
    _ensure_dir(archive.parent)
    with _lock(archive):
        if archive.is_file() and not force:
            return "kept"
        part = archive.with_name(archive.name + ".part")
        if force:
            part.unlink(missing_ok=True)
        resumed = _download(plan, part)
        _replace(part, archive)
    return "resumed" if resumed else "downloaded"


def _extract_checked(plan: _Plan, archive: Path, expected: str | None) -> str | None:
    """Extract the member to ``plan.dest`` if it matches ``expected``; its sha256, or None if unreadable."""
    assert plan.member is not None
    try:
        with atomic_path(plan.dest) as tmp:
            _extract_member(archive, plan.member, tmp)
            got = sha256_file(tmp)
            if expected is not None and got != expected:
                raise _WrongMember(got)
    except _WrongMember as e:
        return e.sha256
    except (KeyError, FileNotFoundError, zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
        logger.warning("%s: cannot read %r from %s (%s)", plan.what, plan.member, archive, e)
        return None
    _remember(plan.dest, got)
    return got


class _WrongMember(Exception):
    def __init__(self, sha256: str) -> None:
        self.sha256 = sha256


def _extract_member(archive: Path, member: str, out: Path) -> None:
    """Copy ``member`` of a zip or tar(.gz/.bz2/.xz) archive to ``out`` (a regular file only)."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return
    with tarfile.open(archive) as tf:
        data = tf.extractfile(member)
        if data is None:
            raise FileNotFoundError(f"{member} is not a regular file in {archive}")
        with data, open(out, "wb") as dst:
            shutil.copyfileobj(data, dst)


# -- HTTP: one resumable, retried download -----------------------------------------------------
class _Truncated(Exception):
    """The body ended before Content-Length bytes arrived."""


def _download(plan: _Plan, part: Path) -> bool:
    """Complete ``part`` from ``plan.url`` with retries; True if it resumed a partial ``part``."""
    assert plan.url is not None
    resumed = False
    reason = ""
    attempts = plan.retries + 1
    for attempt in range(attempts):
        if attempt:
            _sleep(plan.backoff * 2 ** (attempt - 1))
        try:
            resumed = _attempt(plan.url, part, plan.timeout, plan.what) or resumed
            return resumed
        except CacheNotWritable:
            raise
        except urllib.error.HTTPError as e:
            e.close()
            reason = f"HTTP {e.code} {e.reason}"
            if e.code == 416:  # our .part is not a prefix the server can continue: start over
                part.unlink(missing_ok=True)
            elif e.code not in RETRY_STATUS:
                raise _download_error(plan, reason, attempts=attempt + 1) from e
        except urllib.error.URLError as e:
            reason = _describe(e.reason, plan.timeout)
        except ValueError as e:  # not a URL urllib can open ("unknown url type")
            raise _download_error(plan, f"not a downloadable URL: {e}", attempts=attempt + 1) from e
        except (OSError, http.client.HTTPException, _Truncated) as e:  # reset, timeout, short body
            reason = _describe(e, plan.timeout)
        logger.warning("%s: download attempt %d/%d of %s failed: %s", plan.what, attempt + 1, attempts, plan.url,
                       reason)
    raise _download_error(plan, reason, attempts=attempts)


def _attempt(url: str, part: Path, timeout: float, what: str) -> bool:
    """One request; appends to ``part`` when the server honours the Range. True if it resumed."""
    from embeddings.progress import progress_bar  # tqdm: imported only when something downloads

    have = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    logger.info("downloading %s (%s)%s", url, what, f" from byte {have}" if have else "")
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as resp:
        status = getattr(resp, "status", None) or 200
        resumed = bool(have) and status == 206 and _range_start(resp.headers.get("Content-Range")) == have
        if have and not resumed:
            logger.info("%s: the server ignored the Range request; downloading from the start", url)
            have = 0
        length = resp.headers.get("Content-Length")
        body = int(length) if length and length.isdigit() else None
        total = have + body if body is not None else None
        received = 0
        with _open_part(part, "ab" if resumed else "wb") as out, progress_bar(
            total=total, initial=have, unit="B", unit_scale=True, desc=part.name.removesuffix(".part")
        ) as bar:
            while block := resp.read(CHUNK):
                _write(out, block, part)
                received += len(block)
                bar.update(len(block))
    if body is not None and received < body:
        raise _Truncated(f"truncated: got {have + received} of {total} bytes")
    return resumed


def _range_start(content_range: str | None) -> int | None:
    """First byte of a ``Content-Range: bytes a-b/n`` header.

    >>> _range_start("bytes 100-199/200"), _range_start(None)
    (100, None)
    """
    m = re.match(r"bytes\s+(\d+)-", content_range or "")
    return int(m.group(1)) if m else None


def _describe(e: object, timeout: float) -> str:
    if isinstance(e, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(e, BaseException):
        return str(e) or type(e).__name__
    return str(e)


# -- errors ------------------------------------------------------------------------------------
def _download_error(plan: _Plan, reason: str, *, attempts: int) -> DownloadError:
    tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}" if attempts > 1 else ""
    source = f"download {plan.url}" if plan.url else "download it"
    put = f"Put a copy at {plan.dest}"
    if plan.member:
        put += f" (the member {plan.member!r} of {plan.url}, or that archive at {download_path(plan.url or '')})"
    if plan.mirror_rel is not None:
        put += f", or set CTXBENCH_MIRROR to a directory that holds {plan.mirror_rel}"
    elif plan.mirror_path is not None:
        put += f", or a verified copy at {plan.mirror_path}"
    message = f"{plan.what}: could not {source} ({reason}){tries}. {put}." + (f" {plan.hint}" if plan.hint else "")
    err = DownloadError(message)
    err.url = plan.url  # type: ignore[attr-defined]
    err.reason = reason  # type: ignore[attr-defined]
    return err


def _mismatch(plan: _Plan, got: str, expected: str, how: str, stale: str | None) -> ChecksumMismatch:
    thing = f"the member {plan.member!r} of {plan.url}" if plan.member else plan.url
    advice = ("delete that record and fetch again if the new file is the one you want"
              if "recorded" in how else f"check the URL, or put a verified copy at {plan.dest}")
    before = f" (the cached copy {plan.dest} had {stale})" if stale else ""
    return ChecksumMismatch(
        f"{plan.what}: refused {thing}: sha256 {got}, expected {expected} ({how}){before}. It is corrupt, "
        f"truncated or a different version; {advice}"
    )


# -- files: hashing memo, records, cache writes ------------------------------------------------
_memo: dict[tuple[str, int, int], str] = {}


def _digest(path: Path, rec: dict[str, Any] | None = None) -> str:
    """sha256 of ``path``, hashed once per (resolved path, size, mtime_ns) in this process.

    ``rec`` is the file's own record: when it saw the same size and mtime, its sha256 is
    reused, so a big checkpoint is not hashed again by every new process.
    """
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _memo:
        if rec and not _stat_differs(rec, path):
            _memo[key] = rec["sha256"]
        else:
            _memo[key] = sha256_file(path)
    return _memo[key]


def _stat_differs(rec: dict[str, Any], path: Path) -> bool:
    st = path.stat()
    return rec.get("bytes") != st.st_size or rec.get("mtime_ns") != st.st_mtime_ns


def _remember(path: Path, digest: str) -> None:
    st = path.stat()
    _memo[(str(path.resolve()), st.st_size, st.st_mtime_ns)] = digest


def _check_pin(sha256: str | None, what: str) -> str | None:
    if sha256 is None:
        return None
    pin = sha256.strip().lower()
    if not _HEX64.fullmatch(pin):
        raise ValueError(f"{what}: sha256 must be 64 hex digits, got {sha256!r}")
    return pin


def _read_record(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        rec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if not _HEX64.fullmatch(str(rec["sha256"])):
            raise ValueError("'sha256' is not 64 hex digits")
    except (ValueError, KeyError, TypeError) as e:
        raise ChecksumMismatch(f"{path}: not a valid sha256 record ({e}); delete it to record the file again") from e
    return rec


def _write_record(path: Path, what: str, url: str | None, member: str | None, digest: str, dest: Path,
                  recorded: str | None = None) -> None:
    st = dest.stat()
    rec = {
        "what": what,
        "url": url,
        "member": member,
        "sha256": digest,
        "bytes": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "recorded": recorded or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "note": "no sha256 is published for this file: recorded at its first download (trust on first use)",
    }
    write_text_atomic(path, json.dumps(rec, indent=1) + "\n")


def _mirror_location(mirror: str | os.PathLike[str] | None) -> tuple[Path | None, str | None]:
    """(the mirror file to look at, its path relative to CTXBENCH_MIRROR for advice)."""
    if mirror is None:
        return None, None
    path = Path(mirror)
    root = mirror_root()
    if not path.is_absolute():
        return (root / path if root is not None else None), path.as_posix()
    if root is not None and path.is_relative_to(root):
        return path, path.relative_to(root).as_posix()
    return path, None


def _ensure_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CacheNotWritable(path, e) from e


@contextlib.contextmanager
def _lock(target: Path) -> Iterator[None]:
    """A cross-process lock for writing ``target``; its lock file lives in ``<cache>/downloads/.locks``
    (not beside the target, so model folders hold only their files)."""
    key = hashlib.sha1(str(target.resolve()).encode()).hexdigest()[:16]
    with file_lock(cache_root() / "downloads" / ".locks" / key):
        yield


@contextlib.contextmanager
def _open_part(part: Path, mode: str) -> Iterator[IO[bytes]]:
    """The .part file; failures to open, write (see :func:`_write`) or flush it are the cache's."""
    try:
        out = open(part, mode)  # noqa: SIM115 - closed below
    except OSError as e:
        raise CacheNotWritable(part.parent, e) from e
    try:
        yield out
    finally:
        try:
            out.close()
        except OSError as e:
            raise CacheNotWritable(part.parent, e) from e


def _write(out: IO[bytes], block: bytes, part: Path) -> None:
    try:
        out.write(block)
    except OSError as e:  # disk full, quota, read-only remount: not a network problem, no retry
        raise CacheNotWritable(part.parent, e) from e


def _replace(src: Path, dest: Path) -> None:
    try:
        os.replace(src, dest)
    except OSError as e:
        if e.errno in (errno.EXDEV, errno.EISDIR, errno.ENOTEMPTY):
            raise
        raise CacheNotWritable(dest.parent, e) from e
