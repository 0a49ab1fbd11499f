"""Dataset registry: mirror lookup, checksums, download and its failure message, parsing errors."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import zipfile
from pathlib import Path

import pytest

from bench.datasets import (
    ChecksumMismatch,
    DataFile,
    DataUnavailable,
    dataset_names,
    fetch,
    fetch_file,
    get_dataset,
)
from bench.datasets.similarity import PairFormat, read_pairs
from bench.validation import DatasetFormatError
from embeddings.support.files import sha256_file


def test_every_registered_file_in_the_mirror_matches_its_pin(mirror):
    checked = 0
    for name in dataset_names():
        for key, df in get_dataset(name).files.items():
            path = mirror / df.path
            if path.is_file():
                assert sha256_file(path) == df.sha256, f"{name}/{key}: {df.path}"
                checked += 1
    assert checked >= 5


def test_mirror_is_used_and_never_written(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    path = fetch("ws353", "pairs")
    assert path == mirror / get_dataset("ws353").files["pairs"].path
    assert not (tmp_path / "cache").exists()


def test_unknown_dataset_did_you_mean():
    with pytest.raises(KeyError, match="did you mean 'simlex999'"):
        get_dataset("simlex")


def _serve(directory: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def served_zip(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    content = b"tiger\tcat\t7.35\nbook\tpaper\t7.46\ncomputer\tkeyboard\t7.62\n"
    with zipfile.ZipFile(root / "pairs.zip", "w") as zf:
        zf.writestr("set/pairs.txt", content)
    server = _serve(root)
    yield f"http://127.0.0.1:{server.server_address[1]}/pairs.zip", content
    server.shutdown()


def test_download_extracts_and_verifies(served_zip, tmp_path, monkeypatch):
    import hashlib

    url, content = served_zip
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CTXBENCH_MIRROR", raising=False)
    df = DataFile("toy/pairs.txt", hashlib.sha256(content).hexdigest(), url, member="set/pairs.txt")
    path = fetch_file(df)
    assert path == tmp_path / "cache" / "datasets" / "toy" / "pairs.txt"
    assert read_pairs(path, PairFormat())[0] == ("tiger", "cat", 7.35)
    assert fetch_file(df) == path  # second call: from the cache


def test_checksum_mismatch_is_refused(served_zip, tmp_path, monkeypatch):
    url, _ = served_zip
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CTXBENCH_MIRROR", raising=False)
    df = DataFile("toy/pairs.txt", "0" * 64, url, member="set/pairs.txt")
    with pytest.raises(ChecksumMismatch, match="expected 0000"):
        fetch_file(df)
    assert not (tmp_path / "cache" / "datasets" / "toy" / "pairs.txt").exists()


def test_tampered_mirror_copy_is_refused(mirror, tmp_path, monkeypatch):
    df = get_dataset("ws353").files["pairs"]
    fake = tmp_path / "mirror"
    (fake / df.path).parent.mkdir(parents=True)
    shutil.copy(mirror / df.path, fake / df.path)
    with open(fake / df.path, "a") as f:
        f.write("extra\tline\t1.0\n")
    monkeypatch.setenv("CTXBENCH_MIRROR", str(fake))
    with pytest.raises(ChecksumMismatch, match="refused"):
        fetch("ws353", "pairs")


def test_no_copy_and_no_network_says_what_to_do(tmp_path, monkeypatch):
    from embeddings.support import fetch as fetch_module
    from embeddings.support.errors import DownloadError

    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CTXBENCH_MIRROR", str(tmp_path / "empty-mirror"))
    monkeypatch.setattr(fetch_module, "_sleep", lambda s: None)  # no real waiting between the retries
    df = DataFile("toy/x.txt", "0" * 64, "http://127.0.0.1:9/x.zip", member="x.txt")
    with pytest.raises(DataUnavailable) as e:
        fetch_file(df, what="dataset 'toy'")
    msg = str(e.value)
    assert msg.startswith("dataset 'toy': could not download http://127.0.0.1:9/x.zip")
    assert f"Put a copy at {tmp_path / 'cache' / 'datasets' / 'toy' / 'x.txt'} (the member 'x.txt'" in msg
    assert "set CTXBENCH_MIRROR to a directory that holds toy/x.txt" in msg
    assert isinstance(e.value, DownloadError) and isinstance(e.value, FileNotFoundError)


def test_malformed_line_names_file_and_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("tiger\tcat\t7.35\nbook\tpaper\n")
    with pytest.raises(DatasetFormatError, match=r"bad.txt:2: expected at least 3 columns"):
        read_pairs(p, PairFormat())
    p.write_text("tiger\tcat\tseven\n")
    with pytest.raises(DatasetFormatError, match=r"bad.txt:1: score 'seven' is not a number"):
        read_pairs(p, PairFormat())


def test_the_registry_index_lists_exactly_what_each_module_defines():
    import importlib

    from bench.datasets.registry import INDEX

    for module, names in INDEX.items():
        defined = set(importlib.import_module(module).DATASETS)
        assert defined == set(names), f"{module} defines {sorted(defined)}, the index says {sorted(names)}"


def test_importing_the_registry_imports_no_dataset_module():
    import subprocess
    import sys

    code = ("import sys, bench.datasets; "
            "print(sorted(m for m in sys.modules if m.startswith('bench.datasets.') and m not in "
            "('bench.datasets.base', 'bench.datasets.registry', 'bench.datasets.fetching')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
