"""ELMo: the biLM against the original TensorFlow outputs, the file format, downloads,
and training a biLM from scratch (the Brown stand-in's recipe is tested in tests/bench).

The reference numbers come from ../shared/fixtures/allennlp-elmo (copied from AllenNLP's
test fixtures; its README describes every file): activations that bilm-tf computed, never
numbers produced by this code.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

import embeddings
from embeddings.elmo import ElmoEmbedder, load_elmo, scalar_mix
from embeddings.elmo import training as elmo_training
from embeddings.elmo.bilm import BiLM, ElmoOptions
from embeddings.elmo.chars import BOS, EOS, batch_char_ids, word_char_ids
from embeddings.elmo.hdf5_format import load_weights, save_weights
from embeddings.elmo.published import CHECKPOINTS, checkpoint_urls, load_published
from embeddings.support.errors import DownloadError
from embeddings.testing import check_embedder

ATOL = 1e-5


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The biLM runs many small ops; on 2 shared cores, intra-op threads only spin (measured:
    ~40x slower with 2 threads under load). Restored after this module."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def fixture() -> Path:
    path = Path(os.environ.get("CTXBENCH_FIXTURES", Path(__file__).resolve().parents[2] / ".." / "shared"
                               / "fixtures")) / "allennlp-elmo"
    if not (path / "lm_weights.hdf5").is_file():
        pytest.fail(f"ELMo reference fixture missing at {path}; set CTXBENCH_FIXTURES to shared/fixtures")
    return path


@pytest.fixture(scope="module")
def sentences(fixture: Path) -> list[list[str]]:
    return json.loads((fixture / "sentences.json").read_text())


def expected_top(fixture: Path, k: int, i: int) -> np.ndarray:
    """(n_tokens, 32): forward and backward top layer of sentences[k][i], from bilm-tf."""
    with h5py.File(fixture / f"lm_embeddings_{k}.hdf5", "r") as f:
        a = f[str(i)][...]
    return np.concatenate([a[0], a[1]], axis=-1)


@pytest.fixture(scope="module")
def fixture_elmo(fixture: Path) -> ElmoEmbedder:
    return embeddings.load("elmo", options=fixture / "options.json", weights=fixture / "lm_weights.hdf5")


# -- character ids (values written out from the format description, not from the code) ----
def test_char_ids_follow_the_bilm_tf_convention():
    assert word_char_ids("ab", 8).tolist() == [259, 98, 99, 260, 261, 261, 261, 261]
    assert word_char_ids(BOS, 5).tolist() == [259, 257, 260, 261, 261]
    assert word_char_ids(EOS, 5).tolist() == [259, 258, 260, 261, 261]
    # UTF-8 bytes, not code points: é is 0xC3 0xA9
    assert word_char_ids("é", 5).tolist() == [259, 0xC3 + 1, 0xA9 + 1, 260, 261]
    long = word_char_ids("x" * 60, 50)
    assert long[0] == 259 and (long[1:49] == ord("x") + 1).all() and long[49] == 260
    ids = batch_char_ids([["a"], ["a", "b"]], 6)
    assert ids.shape == (2, 2, 6) and (ids[0, 1] == 0).all()  # padded token slots are the mask id


# -- reproducing the original TensorFlow outputs ------------------------------------------
def test_stateful_run_reproduces_all_30_sentences(fixture: Path, sentences):
    emb = embeddings.load("elmo", options=fixture / "options.json", weights=fixture / "lm_weights.hdf5",
                          stateful=True, batch_size=3)
    worst = 0.0
    for i in range(10):  # batch i = (sentences[0][i], sentences[1][i], sentences[2][i])
        batch = [sentences[k][i].split() for k in range(3)]
        out = emb.embed(batch, layers="lstm2")
        for k in range(3):
            want = expected_top(fixture, k, i)
            got = out[k].vectors[:, 0, :]
            assert got.shape == want.shape, (k, i)
            diff = float(np.abs(got - want).max())
            assert diff <= ATOL, f"sentence [{k}][{i}] differs by {diff:.2e}"
            worst = max(worst, diff)
    assert worst > 0  # a real comparison happened (float32 arithmetic never matches bit for bit)


def test_stateless_matches_batch_0_and_the_carried_state_matters(fixture: Path, sentences, fixture_elmo):
    flat = [sentences[k][i].split() for i in range(10) for k in range(3)]
    out = fixture_elmo.embed(flat, layers=-1)
    diffs = {}
    for j, vec in enumerate(out):
        i, k = divmod(j, 3)
        diffs[(k, i)] = float(np.abs(vec.vectors[:, 0] - expected_top(fixture, k, i)).max())
    assert max(diffs[(k, 0)] for k in range(3)) <= ATOL
    # without the carried state the later batches are far off (README: up to ~2.6)
    assert max(d for (k, i), d in diffs.items() if i > 0) > 0.5


def test_reset_state_starts_again_from_zeros(fixture: Path, sentences):
    emb = load_elmo(fixture / "options.json", fixture / "lm_weights.hdf5", stateful=True, batch_size=3)
    first = emb.embed([sentences[k][0].split() for k in range(3)])
    emb.embed([sentences[k][1].split() for k in range(3)])
    emb.reset_state()
    again = emb.embed([sentences[k][0].split() for k in range(3)])
    assert all(np.array_equal(a.vectors, b.vectors) for a, b in zip(first, again, strict=True))


def test_token_layer_matches_the_reference_token_embeddings(fixture: Path, fixture_elmo):
    words = (fixture / "vocab_test.txt").read_text().strip().split("\n")
    with h5py.File(fixture / "elmo_token_embeddings.hdf5", "r") as f:
        want = f["embedding"][...]
    assert len(words) == want.shape[0] == 458
    got = fixture_elmo.token_vectors(words).numpy()
    assert np.abs(got - want).max() <= ATOL
    # through embed(): the token layer is the char-CNN output twice, for in-sentence words
    sent = [w for w in words[:40] if w not in (BOS, EOS)]
    vec = fixture_elmo.embed([sent], layers="token")[0].vectors[:, 0]
    idx = [words.index(w) for w in sent]
    assert np.abs(vec[:, :16] - want[idx]).max() <= ATOL
    assert np.array_equal(vec[:, :16], vec[:, 16:])


def test_adapter_attributes(fixture_elmo):
    assert fixture_elmo.family == "elmo" and fixture_elmo.contextual and fixture_elmo.direction == "bi"
    assert fixture_elmo.layers == ["token", "lstm1", "lstm2"]
    assert fixture_elmo.layer_dims == [32, 32, 32]
    assert not fixture_elmo.embed([["an", "unseenword"]])[0].oov.any()  # characters: no OOV


def test_conformance_kit(fixture_elmo):
    check_embedder(fixture_elmo)


def test_char_cnn_cache_gives_the_same_vectors(fixture: Path, sentences):
    cached = load_elmo(fixture / "options.json", fixture / "lm_weights.hdf5")
    uncached = load_elmo(fixture / "options.json", fixture / "lm_weights.hdf5", cache_words=0)
    batch = [s.split() for s in sentences[1]]
    cached.embed(batch)  # fill the cache
    a, b = cached.embed(batch), uncached.embed(batch)
    assert len(cached._token_cache) > 100 and len(uncached._token_cache) == 0
    assert all(np.allclose(x.vectors, y.vectors, atol=1e-6) for x, y in zip(a, b, strict=True))


def test_scalar_mix(fixture_elmo, sentences):
    words = sentences[0][0].split()
    full = fixture_elmo.embed([words])[0].vectors
    mean = fixture_elmo.embed([words], layers="mean")[0].vectors[:, 0]
    assert np.allclose(scalar_mix(full, [0.0, 0.0, 0.0]), mean, atol=1e-6)
    w = np.array([0.5, -1.0, 2.0])
    p = np.exp(w) / np.exp(w).sum()
    want = 0.7 * (p[0] * full[:, 0] + p[1] * full[:, 1] + p[2] * full[:, 2])
    assert np.allclose(scalar_mix(full, w, gamma=0.7), want, atol=1e-6)
    with pytest.raises(ValueError, match="one weight per layer"):
        scalar_mix(full, [1.0, 2.0])


# -- the file format ----------------------------------------------------------------------
def test_writer_reproduces_the_official_layout(fixture: Path, tmp_path: Path):
    model = load_weights(BiLM(ElmoOptions.from_file(fixture / "options.json")), fixture / "lm_weights.hdf5")
    save_weights(model, tmp_path / "w.hdf5")

    def datasets(path: Path) -> dict[str, np.ndarray]:
        out = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda n, o: out.__setitem__(n, o[...]) if isinstance(o, h5py.Dataset) else None)
        return out

    orig, ours = datasets(fixture / "lm_weights.hdf5"), datasets(tmp_path / "w.hdf5")
    assert sorted(orig) == sorted(ours)
    for name in orig:
        assert orig[name].dtype == ours[name].dtype and np.array_equal(orig[name], ours[name]), name


def test_weights_are_found_next_to_options_under_any_name(fixture: Path, tmp_path: Path, sentences):
    # the fixture folder holds five hdf5 files; only one has biLM weights
    auto = embeddings.load("elmo", options=fixture / "options.json")
    assert Path(auto.config()["weights"]).name == "lm_weights.hdf5"
    shutil.copy(fixture / "options.json", tmp_path / "my_options.json")
    shutil.copy(fixture / "lm_weights.hdf5", tmp_path / "some name.h5")
    other = embeddings.load("elmo", options=tmp_path / "my_options.json")
    words = sentences[2][0].split()
    assert np.array_equal(other.embed([words])[0].vectors, auto.embed([words])[0].vectors)
    shutil.copy(fixture / "lm_weights.hdf5", tmp_path / "second.hdf5")
    with pytest.raises(FileNotFoundError, match="weights="):
        embeddings.load("elmo", options=tmp_path / "my_options.json")


def test_mismatched_options_and_weights_are_refused(fixture: Path, tmp_path: Path):
    opts = json.loads((fixture / "options.json").read_text())
    opts["lstm"]["projection_dim"] = 32
    (tmp_path / "options.json").write_text(json.dumps(opts))
    with pytest.raises(ValueError, match="do not belong together"):
        load_elmo(tmp_path / "options.json", fixture / "lm_weights.hdf5")
    with pytest.raises(ValueError, match="not an ELMo options.json"):
        ElmoOptions.from_dict({"lstm": {}})


# -- published checkpoints: download code against a local server -------------------------
@pytest.fixture()
def local_server(fixture: Path, tmp_path: Path):
    """A 127.0.0.1 HTTP server laid out like AllenNLP's S3 folder, serving the fixture as elmo-small."""
    root = tmp_path / "www"
    d = CHECKPOINTS["elmo-small"]
    (root / d).mkdir(parents=True)
    shutil.copy(fixture / "options.json", root / d / f"elmo_{d}_options.json")
    shutil.copy(fixture / "lm_weights.hdf5", root / d / f"elmo_{d}_weights.hdf5")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


def test_published_download_records_sha256_and_reloads_offline(local_server, fixture, tmp_path, monkeypatch,
                                                                sentences):
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CTXBENCH_MIRROR", raising=False)
    emb = embeddings.load("elmo-small", base_url=local_server)
    folder = tmp_path / "cache" / "models" / "elmo-small"
    name = checkpoint_urls("elmo-small")["weights"].rsplit("/", 1)[1]
    record = json.loads((folder / f"{name}.sha256.json").read_text())
    weights_sha = hashlib.sha256((fixture / "lm_weights.hdf5").read_bytes()).hexdigest()
    assert record["sha256"] == weights_sha and record["url"] == f"{local_server}/{CHECKPOINTS['elmo-small']}/{name}"
    assert emb.verified is False and "unverified" in emb.checkpoint
    assert emb.name == "elmo-small" and emb.weights_identity() == "sha256:" + weights_sha
    assert not [p for p in folder.iterdir() if "incomplete" in p.name]
    words = sentences[0][0].split()
    want = expected_top(fixture, 0, 0)
    assert np.abs(emb.embed([words], layers=-1)[0].vectors[:, 0] - want).max() <= ATOL
    # a second load uses the cache: an unreachable server does not matter
    again = load_published("elmo-small", base_url="http://127.0.0.1:9")
    assert np.array_equal(again.embed([words])[0].vectors, emb.embed([words])[0].vectors)


def test_failed_download_leaves_nothing_behind(local_server, tmp_path, monkeypatch):
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CTXBENCH_MIRROR", raising=False)
    with pytest.raises(DownloadError, match=r"elmo-original options: could not download .*HTTP 404.*"
                       r"embeddings.load\('elmo', options=\.\.\., weights=\.\.\.\)"):
        load_published("elmo-original", base_url=local_server)  # the server has no such files
    folder = tmp_path / "cache" / "models" / "elmo-original"
    assert not folder.exists() or list(folder.iterdir()) == []
    with pytest.raises(KeyError, match="did you mean 'elmo-small'"):
        load_published("elmo-smal", base_url=local_server)


def test_published_names_and_urls():
    assert set(CHECKPOINTS) == {"elmo-small", "elmo-medium", "elmo-original", "elmo-original-5.5b"}
    assert checkpoint_urls("elmo-original-5.5b")["options"] == (
        "https://allennlp.s3.amazonaws.com/models/elmo/2x4096_512_2048cnn_2xhighway_5.5B/"
        "elmo_2x4096_512_2048cnn_2xhighway_5.5B_options.json")


# -- training from scratch -------------------------------------------------------------------
TINY_TRAINING = {"steps": 8, "train_batch_size": 16, "vocab_size": 200, "n_samples": 32, "char_dim": 4,
                 "filters": ((1, 8), (2, 8), (3, 16)), "lstm_dim": 32, "projection_dim": 8}


@pytest.fixture(scope="module")
def corpus(sentences) -> tuple[list[list[str]], list[list[str]]]:
    """The fixture's sentences, whitespace-split: 20 to train on, the rest held out."""
    flat = [s.split() for batch in sentences for s in batch]
    return flat[:20], flat[20:]


def _settings(**kw) -> elmo_training.ElmoTrainingSettings:
    return elmo_training.ElmoTrainingSettings(**{**TINY_TRAINING, **kw})


def test_training_is_reproducible_and_the_seed_matters(corpus):
    train, held = corpus
    a = elmo_training.train(_settings(), train, held, progress=False)[0].state_dict()
    b = elmo_training.train(_settings(), train, held, progress=False)[0].state_dict()
    c = elmo_training.train(_settings(seed=1), train, held, progress=False)[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_trained_model_saves_in_the_official_layout_and_reloads_identically(corpus, tmp_path, sentences):
    train, held = corpus
    model, softmax, vocab, meta = elmo_training.train(_settings(), train, held, progress=False)
    in_memory = ElmoEmbedder(model, name="in-memory")
    elmo_training.save(tmp_path / "m", model, softmax, vocab, meta)
    assert {p.name for p in (tmp_path / "m").iterdir()} == {
        "options.json", "weights.hdf5", "vocab.txt", "softmax.safetensors", "meta.json"}
    reloaded = embeddings.load("elmo", options=tmp_path / "m" / "options.json",
                               weights=tmp_path / "m" / "weights.hdf5")
    batch = [s.split() for s in sentences[0][:4]]
    for x, y in zip(in_memory.embed(batch), reloaded.embed(batch), strict=True):
        assert np.array_equal(x.vectors, y.vectors)
    ppl = meta["perplexity"]
    assert 1 < ppl["both"] < len(vocab) and np.isfinite([ppl["forward"], ppl["backward"]]).all()
