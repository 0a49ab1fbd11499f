"""The stand-in recipes (bench/standins): reproducible training, caching, identity, locking.

Each recipe is tested at a tiny size (seconds); the full-size models are `-m slow`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

import embeddings
from bench.standins import elmo_brown as elmo_entry
from bench.standins import recipe
from embeddings.testing import check_embedder

W2V_TINY = {"vector_size": 16, "max_sentences": 1500, "epochs": 1, "min_count": 2}
ELMO_SMALL = {"steps": 8, "max_sentences": 200, "eval_sentences": 20}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- registration ----------------------------------------------------------------------------
def test_stand_ins_register_through_the_entry_point_group():
    from importlib.metadata import entry_points

    eps = {ep.name: ep.value for ep in entry_points(group="ctxbench.embedders")}
    assert eps["word2vec-brown"] == "bench.standins:word2vec_brown"
    assert {"elmo-brown", "ulmfit-brown"} <= set(eps)
    entry = embeddings.registry.entry("elmo-brown").info()
    assert entry.family == "elmo" and entry.offline and entry.plugin
    assert elmo_entry.family == "elmo"


def test_identity_is_the_recipe_and_needs_no_training(tmp_path):
    a = embeddings.identity("word2vec-brown", tiny=True)
    assert a.startswith("recipe:") and a == embeddings.identity("word2vec-brown", tiny=True)
    assert a != embeddings.identity("word2vec-brown", tiny=True, seed=1)
    assert a != embeddings.identity("word2vec-brown", tiny=True, max_vocab=100)
    assert embeddings.identity("elmo-brown", tiny=True) != embeddings.identity("elmo-brown", tiny=True, stateful=True)
    assert embeddings.identity("ulmfit-brown") != embeddings.identity("ulmfit-brown", backward=True)
    assert not (tmp_path / "cache" / "models").exists() or not any((tmp_path / "cache" / "models").iterdir())


def test_identity_follows_the_corpus_checksum(monkeypatch):
    before = embeddings.identity("word2vec-brown", tiny=True)
    monkeypatch.setattr(recipe, "brown_sha256", lambda: "0" * 64)
    assert embeddings.identity("word2vec-brown", tiny=True) != before


# -- word2vec-brown --------------------------------------------------------------------------
def test_word2vec_trainings_are_byte_identical_whatever_pythonhashseed(tmp_path):
    from bench.standins.word2vec import ensure_trained

    first = ensure_trained(**W2V_TINY) / "vectors.bin"
    env = {**os.environ, "CTXBENCH_CACHE": str(tmp_path / "other"), "PYTHONHASHSEED": "12345",
           "CTXBENCH_PROGRESS": "0"}
    code = ("import json; from bench.standins.word2vec import ensure_trained; "
            f"print(ensure_trained(**json.loads({json.dumps(json.dumps(W2V_TINY))})))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    second = Path(out.stdout.strip()) / "vectors.bin"
    assert second.parent.name == first.parent.name and _sha(first) == _sha(second)
    assert _sha(ensure_trained(**W2V_TINY, seed=1) / "vectors.bin") != _sha(first)


def test_word2vec_round_trip_through_the_binary_loader_and_config():
    from bench.standins.word2vec import ensure_trained

    emb = embeddings.load("word2vec-brown", **W2V_TINY)
    path = ensure_trained(**W2V_TINY) / "vectors.bin"
    assert path.read_bytes()[:8].split(b"\n")[0] == f"{emb.vocab_size} 16".encode()
    assert emb.family == "word2vec" and emb.lowercase and emb.dim == 16
    ref = KeyedVectors.load_word2vec_format(str(path), binary=True)
    assert emb.vocabulary() == ref.index_to_key
    np.testing.assert_array_equal(np.asarray(emb.kv.vectors), ref.vectors)
    info = json.loads((path.parent / "training.json").read_text())
    assert info["sentences"] == 1500 and info["vocab_size"] == emb.vocab_size
    wv = emb.embed([["The", "the", "qzxv"]])[0]
    assert np.array_equal(wv.vectors[0], wv.vectors[1]) and wv.oov.tolist() == [False, False, True]
    assert "stand-in" in emb.checkpoint and "Brown" in emb.checkpoint
    again = embeddings.load(**emb.config())
    assert again.fingerprint() == emb.fingerprint()
    small = embeddings.load("word2vec-brown", **W2V_TINY, max_vocab=100)
    assert small.vocab_size == 100 and embeddings.load(**small.config()).fingerprint() == small.fingerprint()
    tiny = embeddings.load("word2vec-brown", tiny=True)
    assert tiny.dim == 16 and tiny.config() == {"name": "word2vec-brown", "tiny": True}


def test_word2vec_conformance_and_option_errors():
    check_embedder(embeddings.load("word2vec-brown", **W2V_TINY))
    with pytest.raises(TypeError, match="unknown word2vec-brown options"):
        embeddings.load("word2vec-brown", dimensions=16)


# -- elmo-brown ------------------------------------------------------------------------------
def test_elmo_brown_trains_once_then_uses_the_cache(monkeypatch):
    from bench.standins import elmo as elmo_recipe

    emb = embeddings.load("elmo-brown", tiny=True, progress=False, **ELMO_SMALL)
    assert emb.name == "elmo-brown" and "stand-in" in emb.checkpoint
    assert emb.config() == {"name": "elmo-brown", "tiny": True, **ELMO_SMALL, "stateful": False, "batch_size": 32}
    assert math.isfinite(emb.meta["perplexity"]["both"])

    def no_training(*args, **kwargs):
        raise AssertionError("the cached model should have been used")

    monkeypatch.setattr(elmo_recipe, "train", no_training)
    again = embeddings.load(**emb.config())
    words = ["The", "bank", "of", "the", "river"]
    assert np.array_equal(again.embed([words])[0].vectors, emb.embed([words])[0].vectors)
    assert again.fingerprint() == emb.fingerprint()
    with pytest.raises(TypeError, match="unknown elmo-brown options"):
        embeddings.load("elmo-brown", tiny=True, stepz=3)


# -- ulmfit-brown ----------------------------------------------------------------------------
def test_ulmfit_brown_trains_caches_and_reports_perplexity():
    from bench.standins.ulmfit import checkpoint_dir

    emb = embeddings.load("ulmfit-brown", tiny=True)
    path = checkpoint_dir(tiny=True)
    meta = json.loads((path / "config.json").read_text())["meta"]
    ppl = meta["held_out_perplexity"]
    vocab_size = len(json.loads((path / "vocab.json").read_text()))
    assert math.isfinite(ppl) and ppl < vocab_size / 3, f"held-out perplexity {ppl} vs uniform {vocab_size}"
    assert "held-out perplexity" in emb.checkpoint
    mtime = (path / "model.safetensors").stat().st_mtime_ns
    again = embeddings.load(**emb.config())  # from the cache, not retrained
    assert (path / "model.safetensors").stat().st_mtime_ns == mtime
    assert again.fingerprint() == emb.fingerprint()
    wv = emb.embed([["The", "jury", "said", "it", "was", "qqqzzz", "."]])[0]
    assert wv.vectors.shape == (7, 4, 32) and wv.oov.tolist() == [False] * 5 + [True, False]


def test_ulmfit_brown_backward_model_gives_bi_vectors():
    bi = embeddings.load("ulmfit-brown", tiny=True, backward=True)
    assert bi.direction == "bi" and bi.layer_dims == [32, 64, 64, 32]
    bwd = bi.lms[1]
    assert bwd.meta["settings"]["backward"] is True
    ppl = bwd.meta["held_out_perplexity"]
    assert math.isfinite(ppl) and ppl < len(bwd.vocab) / 3
    a = bi.embed([["it", "was", "the", "man"]])[0].vectors
    b = bi.embed([["it", "was", "the", "time"]])[0].vectors
    for k, width in enumerate(bi.layer_dims):
        half = width // 2
        np.testing.assert_allclose(a[:3, k, :half], b[:3, k, :half], atol=1e-6)  # forward: left context
        if k > 0:
            assert not np.allclose(a[:3, k, half:width], b[:3, k, half:width], atol=1e-6), "backward: right"
    with pytest.raises(TypeError, match="unknown ulmfit-brown options"):
        embeddings.load("ulmfit-brown", hidden=3)


# -- building once under a lock ------------------------------------------------------------------
def test_two_processes_needing_one_stand_in_train_it_once(tmp_path):
    """Both processes load the same tiny word2vec-brown at once; the training count is 1."""
    script = tmp_path / "load.py"
    script.write_text(textwrap.dedent("""
        import os, pathlib, sys, time
        import bench.standins.word2vec as r
        import embeddings
        real = r.train_word2vec
        def counting(*a, **k):
            with open(sys.argv[1], "a") as f:
                f.write("trained\\n")
            time.sleep(1.0)  # keep the lock long enough for the other process to wait on it
            return real(*a, **k)
        r.train_word2vec = counting
        # a barrier: both processes are imported and ready before either asks for the model
        ready = pathlib.Path(sys.argv[2])
        (ready / str(os.getpid())).touch()
        deadline = time.monotonic() + 60
        while len(list(ready.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        emb = embeddings.load("word2vec-brown", vector_size=8, max_sentences=300, epochs=1, min_count=2)
        print(emb.vocab_size)
    """))
    log = tmp_path / "trainings.log"
    env = {**os.environ, "CTXBENCH_PROGRESS": "0"}
    ready = tmp_path / "ready"
    ready.mkdir()
    procs = [subprocess.Popen([sys.executable, str(script), str(log), str(ready)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert log.read_text().count("trained") == 1
    assert outs[0][0].strip() == outs[1][0].strip()


def test_a_crash_mid_build_leaves_nothing_a_later_run_would_load(tmp_path):
    folder = tmp_path / "cache" / "models" / "x-123"

    def crash(tmp: Path) -> None:
        (tmp / "vectors.bin").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        recipe.build_once(folder, lambda d: (d / "vectors.bin").is_file(), crash, what="x")
    assert not folder.exists()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".x-123")]


@pytest.mark.slow
def test_full_word2vec_brown_learns_word_similarity():
    """Full settings (about 1.5 CPU minutes): measured ws353 rho 0.247."""
    from bench.tasks import get_task

    emb = embeddings.load("word2vec-brown")
    assert emb.dim == 300 and emb.vocab_size > 10_000
    (r,) = get_task("ws353", n_boot=200).run(emb).results
    assert r.value > 0.15 and r.n > 250


@pytest.mark.slow
def test_full_elmo_brown_beats_a_unigram_model():
    from collections import Counter

    from bench.standins.elmo import ensure_trained

    emb = embeddings.load("elmo-brown", progress=False)
    folder = ensure_trained()
    vocab = set((folder / "vocab.txt").read_text(encoding="utf-8").split("\n")) - {""}
    train, held = recipe.brown_corpus()
    counts = Counter(w if w in vocab else "<UNK>" for s in train for w in list(s[:50]) + ["</S>"])
    total = sum(counts.values())
    targets = [w if w in vocab else "<UNK>" for s in held for w in list(s) + ["</S>"]]
    unigram_ppl = float(np.exp(-np.mean([np.log(counts[w] / total) for w in targets])))
    assert emb.meta["perplexity"]["forward"] < 0.6 * unigram_ppl
    check_embedder(emb)


@pytest.mark.slow
def test_full_ulmfit_brown_has_a_low_perplexity():
    emb = embeddings.load("ulmfit-brown")
    assert emb.lms[0].meta["held_out_perplexity"] < len(emb.lms[0].vocab) / 10

