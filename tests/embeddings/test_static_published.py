"""Published checkpoints: download from a local http.server, record sha256, verify, load by name."""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import threading
import zipfile

import numpy as np
import pytest

import embeddings
from embeddings.static import save_word2vec_binary
from embeddings.static.published import PUBLISHED, load_published, published_dir
from embeddings.support.errors import ChecksumMismatch, DownloadError

WORDS = ["the", "bank", "river", ". . .", "money"]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CTXBENCH_PROGRESS", "0")


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over tmp_path/www, counting requests."""
    root = tmp_path / "www"
    root.mkdir()
    hits: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def vectors():
    return np.random.default_rng(0).normal(size=(len(WORDS), 6)).astype(np.float32)


def _glove_zip(root, vectors, name="glove.6B.zip"):
    lines = (w + " " + " ".join(f"{x:.6f}" for x in v) for w, v in zip(WORDS, vectors, strict=True))
    text = "\n".join(lines) + "\n"
    with zipfile.ZipFile(root / name, "w") as zf:
        zf.writestr("glove.6B.300d.txt", text)
        zf.writestr("glove.6B.50d.txt", "other 1 2\n")
    return root / name


def test_glove_zip_downloaded_recorded_and_loaded(server, vectors):
    root, base, hits = server
    _glove_zip(root, vectors)
    emb = embeddings.load("glove-6b-300d", url=f"{base}/glove.6B.zip")
    assert emb.name == "glove-6b-300d" and emb.family == "glove" and emb.lowercase
    assert emb.vocabulary() == WORDS
    np.testing.assert_allclose(emb.kv["bank"], vectors[1], atol=1e-6)
    record = json.loads((published_dir("glove-6b-300d") / "glove.6B.300d.txt.sha256.json").read_text())
    assert record["sha256"] in emb.weights_identity() and emb.verified is False
    assert (record["url"], record["member"]) == (f"{base}/glove.6B.zip", "glove.6B.300d.txt")
    assert "unverified" in emb.checkpoint and record["sha256"][:12] in emb.checkpoint
    assert not emb.embed([["BANK"]])[0].oov[0]  # declared uncased
    again = embeddings.load("glove-6b-300d", url=f"{base}/glove.6B.zip", max_vocab=2)
    assert len(hits) == 1 and again.vocabulary() == WORDS[:2]  # downloaded once
    assert "path" not in again.config()


def test_changed_download_is_refused(server, vectors):
    root, base, hits = server
    _glove_zip(root, vectors)
    emb = load_published(checkpoint="glove-6b-300d", url=f"{base}/glove.6B.zip")
    vectors_file = published_dir("glove-6b-300d") / "glove.6B.300d.txt"
    vectors_file.write_text("the 0 0 0 0 0 0\n")  # the cached copy is damaged: it is extracted again
    assert load_published(checkpoint="glove-6b-300d", url=f"{base}/glove.6B.zip").vocabulary() == WORDS
    assert len(hits) == 1  # from the kept archive, no new download
    vectors_file.write_text("the 0 0 0 0 0 0\n")
    archive = next((published_dir("x").parents[2] / "downloads").glob("*glove.6B.zip"))
    archive.unlink()
    _glove_zip(root, vectors[::-1])  # and the publisher's file changed since the first download
    with pytest.raises(ChecksumMismatch, match="glove-6b-300d: refused .*recorded on first use"):
        load_published(checkpoint="glove-6b-300d", url=f"{base}/glove.6B.zip")
    assert emb.vocab_size == len(WORDS) and len(hits) == 2


def test_pinned_sha256_mismatch_is_refused(server, vectors, monkeypatch):
    import dataclasses

    root, base, _ = server
    _glove_zip(root, vectors)
    monkeypatch.setitem(
        PUBLISHED, "glove-6b-300d", dataclasses.replace(PUBLISHED["glove-6b-300d"], sha256="0" * 64)
    )
    with pytest.raises(ChecksumMismatch, match="pinned sha256"):
        load_published(checkpoint="glove-6b-300d", url=f"{base}/glove.6B.zip")


def test_googlenews_style_gzipped_binary(server, vectors, tmp_path):
    root, base, _ = server
    words = ["New_York", "bank", "Bank", "river", "money"]
    raw = tmp_path / "g.bin"
    save_word2vec_binary(raw, words, vectors)
    (root / "GoogleNews-vectors-negative300.bin.gz").write_bytes(gzip.compress(raw.read_bytes()))
    emb = embeddings.load("word2vec-google-news-300", url=f"{base}/GoogleNews-vectors-negative300.bin.gz")
    assert emb.vocabulary() == words and emb.lowercase is False
    out = emb.embed([["Bank", "bank", "new_york"]])[0]
    assert not np.array_equal(out.vectors[0], out.vectors[1]) and out.oov.tolist() == [False, False, True]


def test_offline_error_says_what_to_do(server):
    _, base, _ = server
    with pytest.raises(DownloadError, match=r"HTTP 404.*Put a copy at .*glove.840B.300d.txt .*"
                       r"embeddings.load\('glove', path=\.\.\.\)"):
        load_published(checkpoint="glove-840b-300d", url=f"{base}/glove.840B.300d.zip")
    with pytest.raises(KeyError, match="did you mean 'glove-6b-300d'"):
        load_published(checkpoint="glove-6b-30d")
