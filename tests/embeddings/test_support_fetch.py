"""fetch_verified against a local HTTP server: pins, mirror, cache, retries, resume, archives, records.

The server (127.0.0.1, ephemeral port, one thread per request) logs every request with its
Range header, so the tests can count downloads and see what a resumed request asked for.
"""

from __future__ import annotations

import errno
import hashlib
import http.server
import io
import json
import os
import socket
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from embeddings.support import fetch as fetch_module
from embeddings.support.errors import CacheNotWritable, ChecksumMismatch, DownloadError
from embeddings.support.fetch import Fetched, fetch_verified

GOOD = bytes(range(256)) * 40  # 10,240 bytes
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()
MEMBERS = {"data/a.txt": b"alpha\n" * 100, "data/b.txt": b"beta\n" * 50}


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in MEMBERS.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tgz_bytes() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in MEMBERS.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Server:
    """Routes by path; records (path, Range header) of every request and the body bytes sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.sent: dict[str, int] = {}
        self.files: dict[str, bytes] = {"/good": GOOD, "/corrupt": GOOD[:-1] + b"X",
                                        "/a.zip": _zip_bytes(), "/a.tar.gz": _tgz_bytes()}
        self.flaky_failures = 2
        self.stop = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
                with server.lock:
                    server.requests.append((self.path, self.headers.get("Range")))
                    n = sum(p == self.path for p, _ in server.requests)
                try:
                    server.route(self, n)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the slow route)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(p == path for p, _ in self.requests)

    def route(self, h: http.server.BaseHTTPRequestHandler, n: int) -> None:
        path = h.path
        if path == "/missing":
            return h.send_error(404)
        if path == "/forbidden":
            return h.send_error(403)
        if path == "/slow":
            self.stop.wait(5)  # far longer than the client's timeout
            return self._send(h, 200, GOOD)
        if path == "/slowish":  # answers, but only after the client has had time to start a second fetch
            self.stop.wait(0.3)
            return self._serve(h, GOOD)
        if path == "/flaky":
            if n <= self.flaky_failures:
                return h.send_error(503)
            return self._serve(h, GOOD)
        if path == "/truncated":  # Content-Length says all, half arrives, the connection closes
            return self._send(h, 200, GOOD[: len(GOOD) // 2], length=len(GOOD))
        if path == "/cut-once":  # the first response is cut short, later ones honour Range
            if n == 1:
                return self._send(h, 200, GOOD[:3000], length=len(GOOD))
            return self._serve(h, GOOD)
        if path == "/norange":  # ignores Range: always 200 and the whole file
            return self._send(h, 200, GOOD)
        if path in self.files:
            return self._serve(h, self.files[path])
        return h.send_error(404)

    def _serve(self, h: http.server.BaseHTTPRequestHandler, data: bytes) -> None:
        rng = h.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                return h.send_error(416)
            return self._send(h, 206, data[start:], content_range=f"bytes {start}-{len(data) - 1}/{len(data)}")
        return self._send(h, 200, data)

    def _send(self, h: http.server.BaseHTTPRequestHandler, status: int, body: bytes, *, length: int | None = None,
              content_range: str | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        if content_range:
            h.send_header("Content-Range", content_range)
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
        with self.lock:
            self.sent[h.path] = self.sent.get(h.path, 0) + len(body)

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A private cache, no mirror, and no real sleeping between retries (the sleeps are recorded)."""
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CTXBENCH_MIRROR", raising=False)
    slept: list[float] = []
    monkeypatch.setattr(fetch_module, "_sleep", slept.append)
    return slept


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "files" / "good.bin"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith((".part", ".incomplete")))


# -- plain downloads ---------------------------------------------------------------------------
def test_good_file_is_downloaded_verified_and_then_served_from_the_cache(server, dest):
    got = fetch_verified(server.url("/good"), GOOD_SHA, dest, what="toy file")
    assert isinstance(got, Fetched)
    assert (got.path, got.sha256, got.verified, got.source, got.record) == (dest, GOOD_SHA, True, "download", None)
    assert dest.read_bytes() == GOOD and _leftovers(dest.parent) == []
    again = fetch_verified(server.url("/good"), GOOD_SHA, dest)
    assert again.source == "cache" and server.hits("/good") == 1


def test_corrupt_download_is_refused_and_nothing_is_kept(server, dest):
    with pytest.raises(ChecksumMismatch) as e:
        fetch_verified(server.url("/corrupt"), GOOD_SHA, dest, what="toy file")
    msg = str(e.value)
    assert msg.startswith("toy file: refused") and f"expected {GOOD_SHA}" in msg and "pinned" in msg
    assert "\n" not in msg
    assert not dest.exists() and _leftovers(dest.parent) == []
    assert server.hits("/corrupt") == 1  # a wrong file is not a transient failure: no retries


def test_truncated_body_is_retried_then_reported(server, dest, _env):
    with pytest.raises(DownloadError) as e:
        fetch_verified(server.url("/truncated"), GOOD_SHA, dest, what="toy file", retries=2, backoff=0.01)
    msg = str(e.value)
    assert "truncated: got 5120 of 10240 bytes" in msg and "after 3 attempts" in msg
    assert server.hits("/truncated") == 3 and _env == [0.01, 0.02]
    assert not dest.exists()  # nothing under the final name


def test_truncated_body_is_resumed_with_a_range_request(server, dest):
    got = fetch_verified(server.url("/cut-once"), GOOD_SHA, dest, backoff=0.01)
    assert got.verified and dest.read_bytes() == GOOD
    assert server.requests == [("/cut-once", None), ("/cut-once", "bytes=3000-")]
    assert server.sent["/cut-once"] == len(GOOD)  # nothing was sent twice


def test_404_and_403_fail_at_once(server, dest, _env):
    for route, code in (("/missing", 404), ("/forbidden", 403)):
        with pytest.raises(DownloadError, match=f"HTTP {code}"):
            fetch_verified(server.url(route), GOOD_SHA, dest, retries=5)
        assert server.hits(route) == 1
    assert _env == [] and not dest.exists()


def test_slow_server_times_out_by_itself(server, dest):
    start = time.monotonic()
    with pytest.raises(DownloadError, match="timed out after 0.3 s"):
        fetch_verified(server.url("/slow"), GOOD_SHA, dest, timeout=0.3, retries=1, backoff=0.01)
    assert time.monotonic() - start < 2.0
    assert server.hits("/slow") == 2


def test_flaky_server_succeeds_after_retries_with_exponential_backoff(server, dest, _env):
    got = fetch_verified(server.url("/flaky"), GOOD_SHA, dest, retries=3, backoff=0.05)
    assert got.verified and dest.read_bytes() == GOOD
    assert server.hits("/flaky") == 3 and _env == [0.05, 0.1]


def test_flaky_server_gives_up_after_the_retries(server, dest, _env):
    server.flaky_failures = 10
    with pytest.raises(DownloadError, match=r"HTTP 503 .* after 3 attempts"):
        fetch_verified(server.url("/flaky"), GOOD_SHA, dest, retries=2, backoff=0.05)
    assert server.hits("/flaky") == 3 and _env == [0.05, 0.1]


def test_partial_file_is_resumed_with_range(server, dest):
    half = len(GOOD) // 2
    dest.parent.mkdir(parents=True)
    dest.with_name(dest.name + ".part").write_bytes(GOOD[:half])
    got = fetch_verified(server.url("/good"), GOOD_SHA, dest)
    assert got.verified and dest.read_bytes() == GOOD
    assert server.requests == [("/good", f"bytes={half}-")]
    assert server.sent["/good"] == len(GOOD) - half
    assert _leftovers(dest.parent) == []


def test_server_without_range_support_restarts_cleanly(server, dest):
    dest.parent.mkdir(parents=True)
    dest.with_name(dest.name + ".part").write_bytes(GOOD[:4000])
    got = fetch_verified(server.url("/norange"), GOOD_SHA, dest)
    assert got.verified and dest.read_bytes() == GOOD  # not the first 4000 bytes twice
    assert server.requests == [("/norange", "bytes=4000-")]


def test_stale_partial_file_from_another_version_is_downloaded_whole(server, dest):
    dest.parent.mkdir(parents=True)
    dest.with_name(dest.name + ".part").write_bytes(b"\xff" * 4000)  # not a prefix of GOOD
    got = fetch_verified(server.url("/good"), GOOD_SHA, dest)
    assert got.verified and dest.read_bytes() == GOOD
    assert server.requests == [("/good", "bytes=4000-"), ("/good", None)]


def test_two_concurrent_fetches_download_once(server, dest):
    results: list[Fetched] = []
    threads = [threading.Thread(target=lambda: results.append(fetch_verified(server.url("/slowish"), GOOD_SHA, dest)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(r.source for r in results) == ["cache", "download"] and server.hits("/slowish") == 1
    assert dest.read_bytes() == GOOD


def test_offline_error_says_what_to_do(dest, _env):
    url = f"http://127.0.0.1:{_closed_port()}/wic.zip"
    with pytest.raises(DownloadError) as e:
        fetch_verified(url, GOOD_SHA, dest, what="dataset 'wic' file 'dev'", mirror="wic/dev.txt",
                       retries=2, backoff=0.1, hint="Or load a local copy.")
    msg = str(e.value)
    assert msg.startswith(f"dataset 'wic' file 'dev': could not download {url} (")
    assert "refused" in msg and "after 3 attempts" in msg  # the last reason: connection refused
    assert f"Put a copy at {dest}" in msg
    assert "set CTXBENCH_MIRROR to a directory that holds wic/dev.txt" in msg and msg.endswith("Or load a local copy.")
    assert _env == [0.1, 0.2] and "\n" not in msg
    assert isinstance(e.value, OSError) and e.value.url == url


def test_no_url_and_no_copy(dest):
    with pytest.raises(DownloadError, match="no download URL is known.*Put a copy at"):
        fetch_verified(None, GOOD_SHA, dest)


def test_bad_pin_is_rejected_before_any_request(server, dest):
    with pytest.raises(ValueError, match="64 hex digits"):
        fetch_verified(server.url("/good"), "abc", dest)
    assert server.requests == []


# -- the cache copy ----------------------------------------------------------------------------
def test_wrong_cache_copy_is_fetched_again_once(server, dest):
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"damaged")
    got = fetch_verified(server.url("/good"), GOOD_SHA, dest)
    assert got.source == "download" and dest.read_bytes() == GOOD and server.hits("/good") == 1


def test_wrong_cache_copy_and_wrong_download_raise_and_keep_the_copy(server, dest):
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"damaged")
    with pytest.raises(ChecksumMismatch, match=r"refused .*/corrupt.*the cached copy .* had "):
        fetch_verified(server.url("/corrupt"), GOOD_SHA, dest)
    assert dest.read_bytes() == b"damaged" and server.hits("/corrupt") == 1


def test_wrong_cache_copy_while_offline_is_a_checksum_error(dest):
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"damaged")
    with pytest.raises(ChecksumMismatch, match="the cached copy .* fetching it again failed"):
        fetch_verified(f"http://127.0.0.1:{_closed_port()}/x", GOOD_SHA, dest, retries=0)
    assert dest.read_bytes() == b"damaged"


def test_cached_file_is_hashed_once_per_process(server, dest, monkeypatch):
    fetch_verified(server.url("/good"), GOOD_SHA, dest)
    calls: list[Path] = []
    real = fetch_module.sha256_file
    monkeypatch.setattr(fetch_module, "sha256_file", lambda p: calls.append(Path(p)) or real(p))
    for _ in range(3):
        assert fetch_verified(server.url("/good"), GOOD_SHA, dest).source == "cache"
    assert calls == []  # the download's own hash was remembered
    dest.write_bytes(b"changed")  # new size and mtime: hashed again, refused, fetched again
    assert fetch_verified(server.url("/good"), GOOD_SHA, dest).source == "download"
    assert calls[0] == dest and dest.read_bytes() == GOOD


# -- archives ----------------------------------------------------------------------------------
@pytest.mark.parametrize("route", ["/a.zip", "/a.tar.gz"])
def test_members_are_extracted_verified_and_the_archive_downloaded_once(server, tmp_path, route):
    out = tmp_path / "cache" / "datasets"
    results = {m: fetch_verified(server.url(route), _sha(data), out / Path(m).name, member=m)
               for m, data in MEMBERS.items()}
    for m, data in MEMBERS.items():
        assert results[m].path.read_bytes() == data and results[m].verified
    assert [r.source for r in results.values()] == ["download", "archive"]
    assert server.hits(route) == 1
    kept = list((tmp_path / "cache" / "downloads").glob("*-" + route[1:]))
    assert len(kept) == 1 and kept[0].read_bytes() == server.files[route]
    assert _leftovers(tmp_path / "cache") == []


def test_member_pin_is_checked_on_the_member(server, tmp_path):
    target = tmp_path / "cache" / "datasets" / "a.txt"
    archive_sha = _sha(server.files["/a.zip"])
    with pytest.raises(ChecksumMismatch, match="refused the member 'data/a.txt'"):
        fetch_verified(server.url("/a.zip"), archive_sha, target, member="data/a.txt")
    assert not target.exists()


def test_missing_member_says_so(server, tmp_path):
    with pytest.raises(DownloadError, match="has no member 'data/c.txt'"):
        fetch_verified(server.url("/a.zip"), GOOD_SHA, tmp_path / "cache" / "c.txt", member="data/c.txt")


def test_a_kept_archive_that_changed_is_downloaded_again_once(server, tmp_path):
    a, b = (tmp_path / "cache" / "d" / n for n in ("a.txt", "b.txt"))
    fetch_verified(server.url("/a.zip"), _sha(MEMBERS["data/a.txt"]), a, member="data/a.txt")
    kept = next((tmp_path / "cache" / "downloads").glob("*-a.zip"))
    kept.write_bytes(b"not a zip any more")
    got = fetch_verified(server.url("/a.zip"), _sha(MEMBERS["data/b.txt"]), b, member="data/b.txt")
    assert got.source == "download" and b.read_bytes() == MEMBERS["data/b.txt"] and server.hits("/a.zip") == 2


def test_archive_resumed_from_another_version_is_downloaded_whole(server, tmp_path):
    archive = fetch_module.download_path(server.url("/a.zip"))
    part = archive.with_name(archive.name + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PK" + b"\0" * 100)  # a stale partial download of some other archive
    target = tmp_path / "cache" / "d" / "a.txt"
    got = fetch_verified(server.url("/a.zip"), _sha(MEMBERS["data/a.txt"]), target, member="data/a.txt")
    assert got.source == "download" and target.read_bytes() == MEMBERS["data/a.txt"]
    assert server.requests == [("/a.zip", "bytes=102-"), ("/a.zip", None)]


# -- the read-only mirror ----------------------------------------------------------------------
def test_mirror_hit_makes_no_request_and_writes_nothing(server, tmp_path, monkeypatch, dest):
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "good.bin").write_bytes(GOOD)
    monkeypatch.setenv("CTXBENCH_MIRROR", str(mirror))
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "not-a-dir"))
    (tmp_path / "not-a-dir").write_text("a file: nothing can be written under it")
    got = fetch_verified(server.url("/good"), GOOD_SHA, dest, mirror="toy/good.bin")
    assert (got.path, got.source, got.verified) == (mirror / "toy" / "good.bin", "mirror", True)
    absolute = fetch_verified(server.url("/good"), GOOD_SHA, dest, mirror=mirror / "toy" / "good.bin")
    assert absolute.path == got.path and server.requests == [] and not dest.exists()


def test_corrupt_mirror_copy_is_refused_and_left_alone(server, tmp_path, monkeypatch, dest):
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    bad = mirror / "toy" / "good.bin"
    bad.write_bytes(GOOD[:-1] + b"X")
    before = (bad.read_bytes(), bad.stat().st_mtime_ns)
    monkeypatch.setenv("CTXBENCH_MIRROR", str(mirror))
    with pytest.raises(ChecksumMismatch) as e:
        fetch_verified(server.url("/good"), GOOD_SHA, dest, mirror="toy/good.bin", what="dataset 'toy'")
    msg = str(e.value)
    assert msg.startswith(f"dataset 'toy': refused the mirror copy {bad}: sha256 {_sha(before[0])}, "
                          f"expected {GOOD_SHA}")
    assert "replace the mirror copy with a verified one, or unset CTXBENCH_MIRROR to download" in msg
    assert "delete" not in msg.lower() and "\n" not in msg
    assert (bad.read_bytes(), bad.stat().st_mtime_ns) == before
    assert server.requests == [] and not dest.exists()


# -- trust on first use ------------------------------------------------------------------------
def test_unpinned_file_is_recorded_then_verified_against_the_record(server, dest):
    first = fetch_verified(server.url("/good"), None, dest, what="published model")
    record = dest.with_name(dest.name + ".sha256.json")
    assert (first.verified, first.sha256, first.record, first.source) == (False, GOOD_SHA, record, "download")
    rec = json.loads(record.read_text())
    assert (rec["url"], rec["sha256"], rec["bytes"]) == (server.url("/good"), GOOD_SHA, len(GOOD))
    assert rec["recorded"].endswith("Z") and rec["member"] is None
    again = fetch_verified(server.url("/good"), None, dest)
    assert (again.source, again.verified, again.record) == ("cache", False, record)
    assert server.hits("/good") == 1


def test_unpinned_file_that_changed_upstream_is_refused(server, dest):
    fetch_verified(server.url("/good"), None, dest)
    dest.write_bytes(b"tampered")
    server.files["/good"] = b"a different version"
    with pytest.raises(ChecksumMismatch) as e:
        fetch_verified(server.url("/good"), None, dest)
    assert "recorded on first use" in str(e.value) and f"expected {GOOD_SHA}" in str(e.value)
    assert "delete that record" in str(e.value)
    assert dest.read_bytes() == b"tampered"  # refused, not silently replaced by the new version


def test_unpinned_cache_copy_that_was_damaged_is_healed_from_the_same_source(server, dest):
    fetch_verified(server.url("/good"), None, dest)
    recorded = json.loads(dest.with_name(dest.name + ".sha256.json").read_text())["recorded"]
    dest.write_bytes(b"damaged")
    got = fetch_verified(server.url("/good"), None, dest)
    assert got.source == "download" and dest.read_bytes() == GOOD and server.hits("/good") == 2
    assert json.loads(dest.with_name(dest.name + ".sha256.json").read_text())["recorded"] == recorded


def test_unpinned_member_with_a_custom_record_path(server, tmp_path):
    target = tmp_path / "cache" / "m" / "a.txt"
    record = tmp_path / "cache" / "m" / "download.json"
    got = fetch_verified(server.url("/a.tar.gz"), None, target, member="data/a.txt", record=record)
    assert got.sha256 == _sha(MEMBERS["data/a.txt"]) and not got.verified and got.record == record
    assert json.loads(record.read_text())["member"] == "data/a.txt"


def test_unpinned_mirror_copy_is_checked_against_an_existing_record(server, tmp_path, monkeypatch, dest):
    fetch_verified(server.url("/good"), None, dest)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "good.bin").write_bytes(b"other bytes")
    monkeypatch.setenv("CTXBENCH_MIRROR", str(mirror))
    with pytest.raises(ChecksumMismatch, match="refused the mirror copy .*recorded on first use"):
        fetch_verified(server.url("/good"), None, dest, mirror="good.bin")


def test_a_copy_put_in_the_cache_by_hand_is_recorded_on_first_use(dest):
    dest.parent.mkdir(parents=True)
    dest.write_bytes(GOOD)
    got = fetch_verified(None, None, dest)
    assert (got.source, got.verified, got.sha256) == ("cache", False, GOOD_SHA)
    assert json.loads(got.record.read_text())["sha256"] == GOOD_SHA


def test_a_new_process_trusts_the_record_for_an_unchanged_file(server, dest, monkeypatch):
    fetch_verified(server.url("/good"), None, dest)
    monkeypatch.setattr(fetch_module, "_memo", {})  # as in a new process
    calls: list[Path] = []
    real = fetch_module.sha256_file
    monkeypatch.setattr(fetch_module, "sha256_file", lambda p: calls.append(Path(p)) or real(p))
    assert fetch_verified(server.url("/good"), None, dest).sha256 == GOOD_SHA and calls == []
    os.utime(dest, ns=(0, 0))  # same bytes, another mtime: hashed once, and the record learns the new mtime
    monkeypatch.setattr(fetch_module, "_memo", {})
    assert fetch_verified(server.url("/good"), None, dest).source == "cache" and calls == [dest]
    monkeypatch.setattr(fetch_module, "_memo", {})
    fetch_verified(server.url("/good"), None, dest)
    assert calls == [dest] and server.hits("/good") == 1


def test_malformed_record_names_the_file(dest):
    dest.parent.mkdir(parents=True)
    dest.write_bytes(GOOD)
    record = dest.with_name(dest.name + ".sha256.json")
    record.write_text("{not json")
    with pytest.raises(ChecksumMismatch, match=f"{record}: not a valid sha256 record"):
        fetch_verified(None, None, dest)


# -- a cache that cannot be written ------------------------------------------------------------
def test_cache_under_a_regular_file_names_the_directory(server, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file where the cache should be")
    with pytest.raises(CacheNotWritable, match=f"cannot write to the cache directory {blocker}/models"):
        fetch_verified(server.url("/good"), GOOD_SHA, blocker / "models" / "good.bin")
    assert server.requests == []


@pytest.mark.parametrize("err", [errno.EROFS, errno.ENOSPC])
def test_read_only_or_full_cache_at_the_final_rename(server, dest, monkeypatch, err):
    real = os.replace

    def failing(src: object, dst: object) -> None:
        if Path(str(dst)) == dest:
            raise OSError(err, os.strerror(err))
        real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(CacheNotWritable, match=f"cannot write to the cache directory {dest.parent} "
                       f"\\({os.strerror(err)}\\)"):
        fetch_verified(server.url("/good"), GOOD_SHA, dest, retries=3)
    assert not dest.exists() and server.hits("/good") == 1  # not retried as if the network failed


def test_read_only_cache_while_extracting_a_member(server, tmp_path, monkeypatch):
    def failing_mkstemp(*a: object, **k: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, "Read-only file system")

    target = tmp_path / "cache" / "datasets" / "a.txt"
    fetch_verified(server.url("/a.zip"), _sha(MEMBERS["data/a.txt"]), target, member="data/a.txt")
    target.unlink()
    monkeypatch.setattr("tempfile.mkstemp", failing_mkstemp)
    with pytest.raises(CacheNotWritable, match=f"{target.parent} \\(Read-only file system\\)"):
        fetch_verified(server.url("/a.zip"), _sha(MEMBERS["data/a.txt"]), target, member="data/a.txt")
    assert not target.exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into a chmod-read-only directory anyway; the two tests above simulate it")
def test_chmod_read_only_cache(server, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(CacheNotWritable, match=str(ro)):
            fetch_verified(server.url("/good"), GOOD_SHA, ro / "good.bin")
    finally:
        ro.chmod(0o700)
