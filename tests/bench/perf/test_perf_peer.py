"""The flair peer: the transformers-4 view of a transformers-5 directory, and failures reported."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from bench.perf import peer_flair
from bench.perf.peer import FlairPeer, PeerError


def test_transformers4_view_rewrites_only_what_v4_cannot_read(tmp_path):
    src = tmp_path / "ckpt"
    src.mkdir()
    (src / "config.json").write_text(json.dumps({
        "model_type": "llama", "rope_parameters": {"rope_theta": 100000.0, "rope_type": "default"},
        "quantization_config": {"quant_method": "gguf", "gguf_file": "x.gguf"}}))
    (src / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "TokenizersBackend", "pad_token": "<p>"}))
    (src / "model.safetensors").write_bytes(b"weights")
    view, changes = peer_flair.transformers4_view(str(src))
    try:
        assert view != str(src) and len(changes) == 3
        config = json.loads((Path(view) / "config.json").read_text())
        assert config["rope_theta"] == 100000.0 and "quantization_config" not in config
        tok = json.loads((Path(view) / "tokenizer_config.json").read_text())
        assert tok == {"tokenizer_class": "PreTrainedTokenizerFast", "pad_token": "<p>"}
        assert (Path(view) / "model.safetensors").is_symlink()
        assert (Path(view) / "model.safetensors").read_bytes() == b"weights"
        # the original is untouched
        assert json.loads((src / "tokenizer_config.json").read_text())["tokenizer_class"] == "TokenizersBackend"
    finally:
        shutil.rmtree(view)


def test_transformers4_view_leaves_a_v4_directory_alone(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    assert peer_flair.transformers4_view(str(tmp_path)) == (str(tmp_path), [])


def test_peer_batches_in_file_or_length_order():
    sents = [["a", "b", "c"], ["a"], ["a", "b"]]
    assert peer_flair.batches(sents, 2, "file") == [[["a", "b", "c"], ["a"]], [["a", "b"]]]
    assert peer_flair.batches(sents, 2, "sorted") == [[["a"], ["a", "b"]], [["a", "b", "c"]]]
    with pytest.raises(ValueError):
        peer_flair.batches(sents, 2, "random")


def test_a_peer_that_cannot_start_raises_with_its_error(tmp_path, monkeypatch):
    # an interpreter without site-packages (-S), so without flair: the peer answers with an error and exits
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("CTXBENCH_PEER_PYTHON", str(fake))
    with pytest.raises(PeerError, match="No module named 'flair'"):
        FlairPeer(tmp_path, {"warmup": [["a"]], "sets": [[["a"]]]}, batch_size=2, threads=1, timeout=60)


def test_a_missing_peer_environment_names_the_make_target(tmp_path, monkeypatch):
    monkeypatch.setenv("CTXBENCH_PEER_PYTHON", str(tmp_path / "nope" / "python"))
    with pytest.raises(PeerError, match="make perf-peer"):
        FlairPeer(tmp_path, {"warmup": [], "sets": []}, batch_size=2, threads=1)
