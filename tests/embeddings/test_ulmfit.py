"""ULMFiT: fastai layout, forward pass, left context, safe vocabularies, own format, tokens,
the Brown stand-in, the FiT step, the download, and one comparison with fastai itself."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import pickle
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import embeddings
from embeddings.testing import check_embedder
from embeddings.ulmfit.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from embeddings.ulmfit.tokens import encode_words, word_pieces
from embeddings.ulmfit.vocab import SPECIAL_TOKENS, UnsafeVocabulary, Vocab, read_itos_pickle

WORDS = ("the river bank was muddy . she deposited cheque at yesterday old collapsed into raised its "
         "interest rates i sat by of paid money account today word cat on mat and then it went to").split()
ITOS = list(SPECIAL_TOKENS) + WORDS
EMB, HID = 6, 10


def fastai_state_dict(seed: int, vocab_size: int = len(ITOS), emb: int = EMB, hid: int = HID,
                      n_layers: int = 3) -> dict[str, torch.Tensor]:
    """A random AWD-LSTM LM state dict with the keys and shapes fastai's get_language_model writes."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g) * 0.4

    enc = rnd(vocab_size, emb)
    sd = {"0.encoder.weight": enc, "0.encoder_dp.emb.weight": enc}
    for i in range(n_layers):
        n_in = emb if i == 0 else hid
        n_out = emb if i == n_layers - 1 else hid
        sd[f"0.rnns.{i}.weight_hh_l0_raw"] = rnd(4 * n_out, n_out)
        sd[f"0.rnns.{i}.module.weight_ih_l0"] = rnd(4 * n_out, n_in)
        sd[f"0.rnns.{i}.module.bias_ih_l0"] = rnd(4 * n_out)
        sd[f"0.rnns.{i}.module.bias_hh_l0"] = rnd(4 * n_out)
    sd["1.decoder.weight"] = enc
    sd["1.decoder.bias"] = rnd(vocab_size)
    return sd


def write_fastai_dir(path: Path, sd: dict[str, torch.Tensor], itos: list[str], *, wrap: bool = False) -> Path:
    """fastai's published layout; deliberately unusual file names (names must not matter)."""
    path.mkdir(parents=True, exist_ok=True)
    torch.save({"model": sd} if wrap else sd, path / "weights_any_name.pth")
    with open(path / "vocabulary_any_name.pkl", "wb") as f:
        pickle.dump(itos, f)
    return path


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run fastest on one thread (and do not fight other tests for the cores)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def fwd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fastai_dir(tmp_path_factory.mktemp("fwd"), fastai_state_dict(0), ITOS, wrap=True)


@pytest.fixture(scope="module")
def bwd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fastai_dir(tmp_path_factory.mktemp("bwd"), fastai_state_dict(1), ITOS)


def reference_layers(sd: dict[str, torch.Tensor], ids: list[int], n_layers: int = 3) -> list[np.ndarray]:
    """Independent forward pass: torch.nn.LSTMCell, one step at a time, from fastai's keys."""
    x = [sd["0.encoder.weight"][i] for i in ids]
    layers = [torch.stack(x)]
    for layer in range(n_layers):
        w_hh = sd[f"0.rnns.{layer}.weight_hh_l0_raw"]
        w_ih = sd[f"0.rnns.{layer}.module.weight_ih_l0"]
        cell = torch.nn.LSTMCell(w_ih.shape[1], w_hh.shape[1])
        with torch.no_grad():
            cell.weight_ih.copy_(w_ih)
            cell.weight_hh.copy_(w_hh)
            cell.bias_ih.copy_(sd[f"0.rnns.{layer}.module.bias_ih_l0"])
            cell.bias_hh.copy_(sd[f"0.rnns.{layer}.module.bias_hh_l0"])
        h = torch.zeros(1, w_hh.shape[1])
        c = torch.zeros(1, w_hh.shape[1])
        out = []
        with torch.no_grad():
            for xt in x:
                h, c = cell(xt[None], (h, c))
                out.append(h[0])
        x = out
        layers.append(torch.stack(out))
    return [t.detach().numpy() for t in layers]


# -- the fastai layout and the forward pass ----------------------------------------------------
@pytest.mark.parametrize("wrap", [False, True], ids=["plain-state-dict", "model-wrapped"])
def test_fastai_layout_loads_with_sizes_from_shapes(tmp_path: Path, wrap: bool) -> None:
    d = write_fastai_dir(tmp_path, fastai_state_dict(3, emb=5, hid=7), ITOS, wrap=wrap)
    lm = load_checkpoint(d)
    assert lm.layout == "fastai"
    cfg = lm.model.config
    got = (cfg.vocab_size, cfg.emb_sz, cfg.n_hid, cfg.n_layers, cfg.tie_weights)
    assert got == (len(ITOS), 5, 7, 3, True)
    assert lm.model.layer_dims == [5, 7, 7, 5]


def test_forward_matches_step_by_step_lstm_cells(fwd_dir: Path) -> None:
    emb = embeddings.load("ulmfit", path=str(fwd_dir))
    assert (emb.family, emb.contextual, emb.direction) == ("ulmfit", True, "left")
    assert emb.layers == ["emb", "lstm1", "lstm2", "lstm3"] and emb.layer_dims == [EMB, HID, HID, EMB]
    sd = fastai_state_dict(0)
    sentences = [["the", "river", "bank", "was", "muddy", "."], ["The", "cat", "sat", "on", "the", "mat"],
                 ["it"]]
    out = emb.embed(sentences)  # one batch: padding must not matter
    for words, wv in zip(sentences, out, strict=True):
        # tokens written by hand: xxbos, then each word (xxmaj before a capitalised one)
        ids, pos = [ITOS.index("xxbos")], []
        for w in words:
            if w[0].isupper():
                ids.append(ITOS.index("xxmaj"))
            pos.append(len(ids))
            ids.append(ITOS.index(w.lower()))
        ref = reference_layers(sd, ids)
        for k, layer in enumerate(ref):
            got = wv.vectors[:, k, :]
            np.testing.assert_allclose(got[:, : layer.shape[1]], layer[pos], atol=1e-6, rtol=0)
            assert not got[:, layer.shape[1]:].any(), "padding beyond a layer's width must be zero"
        assert not wv.oov.any()


def test_left_context_only(fwd_dir: Path) -> None:
    emb = embeddings.load("ulmfit", path=str(fwd_dir))
    rng = np.random.default_rng(0)
    base = list(rng.choice(WORDS, size=12))
    full = emb.embed([base])[0].vectors
    for i in range(len(base)):
        changed = base[: i + 1] + list(rng.choice(WORDS + ["Zebra", "NASA"], size=len(base) - i - 1))
        other = emb.embed([changed, base[:3], changed[: i + 1]])
        np.testing.assert_allclose(other[0].vectors[: i + 1], full[: i + 1], atol=1e-6, rtol=0)
        np.testing.assert_allclose(other[2].vectors, full[: i + 1], atol=1e-6, rtol=0)
    assert not np.allclose(emb.embed([["the", "bank"]])[0].vectors[1],
                           emb.embed([["a", "bank"]])[0].vectors[1], atol=1e-6), "left context must matter"


def test_unknown_words_are_xxunk_and_flagged(fwd_dir: Path) -> None:
    emb = embeddings.load("ulmfit", path=str(fwd_dir))
    wv = emb.embed([["the", "qwzx", "bank"]])[0]
    assert wv.oov.tolist() == [False, True, False]
    unk_row = fastai_state_dict(0)["0.encoder.weight"][ITOS.index("xxunk")].numpy()
    np.testing.assert_allclose(wv.vectors[1, 0, :EMB], unk_row, atol=1e-7)


def test_conformance_kit(fwd_dir: Path, bwd_dir: Path) -> None:
    check_embedder(embeddings.load("ulmfit", path=str(fwd_dir)))
    check_embedder(embeddings.load("ulmfit", path=str(fwd_dir), backward=True, backward_path=str(bwd_dir)))


def test_backward_model_reads_right_to_left(fwd_dir: Path, bwd_dir: Path) -> None:
    bi = embeddings.load("ulmfit", path=str(fwd_dir), backward=True, backward_path=str(bwd_dir))
    assert bi.direction == "bi" and bi.layer_dims == [2 * EMB, 2 * HID, 2 * HID, 2 * EMB]
    words = ["she", "paid", "money", "into", "the", "Bank", "account"]
    v = bi.embed([words])[0].vectors
    # backward half, independently: xxbos, then the words right to left (a marker after its word)
    ids, pos = [ITOS.index("xxbos")], {}
    for j in range(len(words) - 1, -1, -1):
        pos[j] = len(ids)
        ids.append(ITOS.index(words[j].lower()))
        if words[j][0].isupper():
            ids.append(ITOS.index("xxmaj"))
    ref = reference_layers(fastai_state_dict(1), ids)
    order = [pos[j] for j in range(len(words))]
    for k, layer in enumerate(ref):
        width = layer.shape[1]
        fwd_width = bi.layer_dims[k] // 2
        np.testing.assert_allclose(v[:, k, fwd_width: fwd_width + width], layer[order], atol=1e-6, rtol=0)
    fwd = embeddings.load("ulmfit", path=str(fwd_dir)).embed([words])[0].vectors
    for k, width in enumerate([EMB, HID, HID, EMB]):
        np.testing.assert_allclose(v[:, k, :width], fwd[:, k, :width], atol=1e-6, rtol=0)


def test_backward_needs_a_backward_path(fwd_dir: Path) -> None:
    with pytest.raises(ValueError, match="backward_path"):
        embeddings.load("ulmfit", path=str(fwd_dir), backward=True)


def test_wrong_directory_contents_are_explained(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="neither"):
        load_checkpoint(tmp_path)
    sd = fastai_state_dict(0)
    d = write_fastai_dir(tmp_path / "short-vocab", sd, ITOS[:-1])
    with pytest.raises(CheckpointError, match="not from the same model"):
        load_checkpoint(d)
    sd_extra = dict(sd, **{"0.rnns.0.module.weight_xx": torch.zeros(3)})
    d = write_fastai_dir(tmp_path / "extra", sd_extra, ITOS)
    with pytest.raises(CheckpointError, match="unexpected keys"):
        load_checkpoint(d)


def test_older_files_with_a_dropped_module_copy_use_the_raw_weights(tmp_path: Path, fwd_dir: Path) -> None:
    sd = fastai_state_dict(0)
    for i in range(3):  # what older fastai wrote beside the raw weights (fastai's clean_raw_keys drops it)
        sd[f"0.rnns.{i}.module.weight_hh_l0"] = torch.zeros_like(sd[f"0.rnns.{i}.weight_hh_l0_raw"])
    d = write_fastai_dir(tmp_path, sd, ITOS)
    words = [["the", "river", "bank"]]
    a = embeddings.load("ulmfit", path=str(d)).embed(words)[0].vectors
    b = embeddings.load("ulmfit", path=str(fwd_dir)).embed(words)[0].vectors
    np.testing.assert_array_equal(a, b)


# -- vocabulary pickles ----------------------------------------------------------------------
class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("kind", ["dict", "tuple", "list-with-int", "os.system", "not-a-pickle"])
def test_vocabulary_pickles_that_are_not_lists_of_str_are_refused(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "pwned"
    payload = {"dict": lambda: pickle.dumps({"the": 0}), "tuple": lambda: pickle.dumps(("a", "b")),
               "list-with-int": lambda: pickle.dumps(["a", 3]),
               "os.system": lambda: pickle.dumps(["xxunk", _Exploit(marker)]),
               "not-a-pickle": lambda: b"just text"}[kind]()
    d = tmp_path / "ckpt"
    write_fastai_dir(d, fastai_state_dict(0), ITOS)
    pkl = d / "vocabulary_any_name.pkl"
    pkl.write_bytes(payload)
    with pytest.raises(UnsafeVocabulary, match="vocabulary_any_name.pkl") as info:
        embeddings.load("ulmfit", path=str(d))
    assert not marker.exists(), "the pickle's code ran"
    if kind == "os.system":
        assert "system" in str(info.value) and "refused" in str(info.value)
    if kind == "dict":
        assert "list of str" in str(info.value) and "dict" in str(info.value)


def test_a_plain_list_of_str_pickle_is_read(tmp_path: Path) -> None:
    for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
        p = tmp_path / f"v{protocol}.pkl"
        p.write_bytes(pickle.dumps(ITOS, protocol=protocol))
        assert read_itos_pickle(p) == ITOS


# -- the project's own format -----------------------------------------------------------------
def test_own_format_round_trip(fwd_dir: Path, tmp_path: Path) -> None:
    lm = load_checkpoint(fwd_dir)
    out = save_checkpoint(lm.model, lm.vocab.itos, tmp_path / "own", {"note": "round trip"})
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors", "vocab.json"]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["format"] == "ctxbench-awd-lstm" and cfg["meta"] == {"note": "round trip"}
    assert json.loads((out / "vocab.json").read_text()) == ITOS
    a = embeddings.load("ulmfit", path=str(fwd_dir))
    b = embeddings.load("ulmfit", path=str(out))
    sents = [["The", "river", "bank", "was", "muddy", "."], ["NASA", "raised", "rates"]]
    for x, y in zip(a.embed(sents), b.embed(sents), strict=True):
        np.testing.assert_array_equal(x.vectors, y.vectors)
        np.testing.assert_array_equal(x.oov, y.oov)
    reloaded = load_checkpoint(out).model
    assert reloaded.decoder.weight.data_ptr() == reloaded.encoder.weight.data_ptr(), "tied weights stay tied"


# -- tokenization conventions -------------------------------------------------------------------
@pytest.mark.parametrize("word, pieces", [
    ("river", ["river"]), ("River", ["xxmaj", "river"]), ("NASA", ["xxup", "nasa"]),
    ("U.S.", ["xxup", "u.s."]), ("I", ["i"]), ("A", ["a"]), ("McDonald", ["mcdonald"]),
    ("O'Neill", ["o'neill"]), ("Déjà", ["xxmaj", "déjà"]), ("3.14", ["3.14"]), ("iPhone", ["iphone"]),
])
def test_case_markers_follow_fastai_rules(word: str, pieces: list[str]) -> None:
    assert word_pieces(word) == pieces


def test_markers_bos_and_alignment() -> None:
    v = Vocab(ITOS)
    e = encode_words(["The", "RIVER", "bank", "Zorg"], v)
    assert [v.itos[i] for i in e.ids] == ["xxbos", "xxmaj", "the", "xxup", "river", "bank", "xxmaj", "xxunk"]
    assert e.positions.tolist() == [2, 4, 5, 7]  # each word's own token, never its marker
    assert e.oov.tolist() == [False, False, False, True]
    no_markers = Vocab([t for t in ITOS if t not in ("xxmaj", "xxup")])
    e = encode_words(["The", "RIVER"], no_markers)
    assert [no_markers.itos[i] for i in e.ids] == ["xxbos", "the", "river"]


def test_capitalisation_changes_the_vector_through_the_marker(fwd_dir: Path) -> None:
    emb = embeddings.load("ulmfit", path=str(fwd_dir))
    a = emb.embed([["the", "bank"]])[0].vectors
    b = emb.embed([["The", "bank"]])[0].vectors
    np.testing.assert_allclose(a[0, 0], b[0, 0], atol=1e-7)  # same token embedding ...
    assert not np.allclose(a[0, 1:], b[0, 1:], atol=1e-6)  # ... but the LSTMs read the marker
    c = embeddings.load("ulmfit", path=str(fwd_dir), markers=False).embed([["The", "bank"]])[0].vectors
    np.testing.assert_array_equal(a, c)


# -- the Brown stand-in and the FiT step --------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_brown():
    return embeddings.load("ulmfit-brown", tiny=True)


def sst2_sentences(which: str) -> list[list[str]]:
    """GLUE SST-2 train or dev sentences (the benchmark's checksummed copy; only the tests read it)."""
    from bench.datasets.classification import load_classification

    return [list(s) for s in load_classification("sst2", which).sentences]


@pytest.mark.slow
def test_full_brown_stand_in_and_sst2_finetuning() -> None:
    from embeddings.ulmfit.finetune import finetune_lm

    emb = embeddings.load("ulmfit-brown")
    meta = emb.lms[0].meta
    assert meta["held_out_perplexity"] < len(emb.lms[0].vocab) / 10
    result = finetune_lm(emb.lms[0], sst2_sentences("train")[:4000], held_out=sst2_sentences("dev"))
    assert result.perplexity_after < 0.8 * result.perplexity_before, result.summary()


def test_finetuning_lowers_held_out_perplexity_on_target_text(tiny_brown, tmp_path: Path) -> None:
    from embeddings.ulmfit.finetune import FineTuneSettings, finetune_checkpoint

    source = tiny_brown.lms[0]
    train = sst2_sentences("train")[:1500]
    held = sst2_sentences("dev")[:150]
    settings = FineTuneSettings(epochs=4, lr=1e-2, batch_size=8, bptt=35)
    src_dir = save_checkpoint(source.model, source.vocab.itos, tmp_path / "src")
    before_weights = {k: v.clone() for k, v in source.model.state_dict().items()}
    result = finetune_checkpoint(src_dir, train, tmp_path / "ft", settings, held_out=held)
    assert result.perplexity_after < 0.9 * result.perplexity_before, result.summary()
    for k, v in source.model.state_dict().items():  # the source model is not changed
        assert torch.equal(v, before_weights[k])
    ft = embeddings.load("ulmfit", path=str(tmp_path / "ft"))
    meta = json.loads((tmp_path / "ft" / "config.json").read_text())["meta"]
    assert meta["finetune"]["perplexity_after"] == pytest.approx(result.perplexity_after)
    assert ft.embed([["a", "good", "film"]])[0].vectors.shape == (3, 4, 32)


def test_discriminative_rates_and_gradual_unfreezing(tiny_brown) -> None:
    from embeddings.ulmfit.finetune import FineTuneSettings
    from embeddings.ulmfit.training import fit

    s = FineTuneSettings(lr=2.6**3)
    assert s.group_lrs(4) == pytest.approx([1.0, 2.6, 2.6**2, 2.6**3])
    model = __import__("copy").deepcopy(tiny_brown.lms[0].model)
    groups = model.layer_groups()
    before = [[p.detach().clone() for p in g] for g in groups]
    ids = np.random.default_rng(0).integers(0, model.config.vocab_size, size=800)
    fit(model, ids, epochs=1, group_lrs=s.group_lrs(4), batch_size=4, bptt=20, trainable_groups=lambda e: 1)
    changed = [any(not torch.equal(p, q) for p, q in zip(g, b, strict=True))
               for g, b in zip(groups, before, strict=True)]
    assert changed == [False, False, False, True], "epoch 0 of gradual unfreezing trains only the top group"


# -- ulmfit-wt103: the download path, against a local server ---------------------------------------
def _tiny_tgz(sd: dict[str, torch.Tensor]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in [("wt103-fwd/lstm_fwd.pth", _torch_bytes(sd)),
                           ("wt103-fwd/itos_wt103.pkl", pickle.dumps(ITOS))]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _torch_bytes(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def test_published_download_records_sha256_and_reuses_the_cache(tmp_path: Path, monkeypatch) -> None:
    from embeddings.support.errors import ChecksumMismatch

    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    served = tmp_path / "www"
    served.mkdir()
    tgz = _tiny_tgz(fastai_state_dict(0))
    (served / "wt103-fwd.tgz").write_bytes(tgz)
    hits: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(served), **k)

        def log_message(self, *args) -> None:
            hits.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/wt103-fwd.tgz"
        emb = embeddings.load("ulmfit-wt103", url=url)
        assert len(hits) == 1
        root = tmp_path / "cache" / "models" / "ulmfit-wt103"
        record = json.loads((root / "fwd-wt103-fwd.tgz.sha256.json").read_text())
        assert record["sha256"] == hashlib.sha256(tgz).hexdigest() and record["url"] == url
        assert "unverified" in emb.checkpoint
        ref_dir = write_fastai_dir(tmp_path / "ref", fastai_state_dict(0), ITOS)
        ref = embeddings.load("ulmfit", path=str(ref_dir))
        s = [["The", "river", "bank"]]
        np.testing.assert_array_equal(emb.embed(s)[0].vectors, ref.embed(s)[0].vectors)
        embeddings.load("ulmfit-wt103", url=url)
        assert len(hits) == 1, "the second load must come from the cache"
        leftovers = [p.name for p in root.iterdir() if p.name.endswith((".incomplete", ".part"))]
        assert leftovers == []
        archive = root / "fwd-wt103-fwd.tgz"
        archive.write_bytes(tgz[:-10] + b"0123456789")  # the kept archive is damaged: fetched again, once
        embeddings.load("ulmfit-wt103", url=url)
        assert len(hits) == 2 and archive.read_bytes() == tgz
        archive.write_bytes(tgz[:-10] + b"0123456789")
        (served / "wt103-fwd.tgz").write_bytes(_tiny_tgz(fastai_state_dict(1)))  # and fastai's file changed
        with pytest.raises(ChecksumMismatch, match=r"ulmfit-wt103 \(fwd\): refused .*recorded on first use"):
            embeddings.load("ulmfit-wt103", url=url)
    finally:
        server.shutdown()
        server.server_close()


def test_published_default_url_is_fastais_wt103() -> None:
    from embeddings.ulmfit.published import PUBLISHED

    assert PUBLISHED["ulmfit-wt103"]["fwd"] == "https://s3.amazonaws.com/fast-ai-modelzoo/wt103-fwd.tgz"


# -- one comparison with fastai's own AWD_LSTM (test environment only) ---------------------------
def _fastai_available() -> bool:
    try:
        import fastai.text.models.awdlstm  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.fastai
@pytest.mark.skipif(not _fastai_available(),
                    reason="fastai is not importable: install requirements-fastai.txt (make test-fastai)")
def test_forward_pass_matches_fastai_layer_by_layer(tmp_path: Path) -> None:
    from fastai.text.core import replace_all_caps, replace_maj
    from fastai.text.models.awdlstm import AWD_LSTM, awd_lstm_lm_config
    from fastai.text.models.core import get_language_model

    torch.manual_seed(0)
    cfg = dict(awd_lstm_lm_config, emb_sz=EMB, n_hid=HID)
    ref = get_language_model(AWD_LSTM, len(ITOS), cfg)
    with torch.no_grad():  # fastai initialises biases and LSTM weights its own way; randomise all
        for p in ref.parameters():
            p.copy_(torch.randn_like(p) * 0.4)
    sd = ref.state_dict()
    ours = {k: tuple(v.shape) for k, v in fastai_state_dict(0).items()}
    assert {k: tuple(v.shape) for k, v in sd.items()} == ours, "our test writer must match fastai's keys"
    d = write_fastai_dir(tmp_path, dict(sd), ITOS)
    emb = embeddings.load("ulmfit", path=str(d))
    ref.eval()
    ref.reset()
    captured: list[torch.Tensor] = []
    hooks = [ref[0].encoder_dp.register_forward_hook(lambda m, i, o: captured.append(o))]
    hooks += [r.register_forward_hook(lambda m, i, o: captured.append(o[0])) for r in ref[0].rnns]
    words = ["The", "river", "bank", "was", "muddy", ".", "NASA", "raised", "its", "interest", "rates"]
    enc = encode_words(words, Vocab(ITOS))
    with torch.no_grad():
        ref(torch.as_tensor(enc.ids)[None])
    for h in hooks:
        h.remove()
    ours = emb.embed([words])[0].vectors
    for k, layer in enumerate(captured):
        theirs = layer[0, torch.as_tensor(enc.positions)].numpy()
        np.testing.assert_allclose(ours[:, k, : theirs.shape[1]], theirs, atol=1e-6, rtol=0,
                                   err_msg=f"layer {emb.layers[k]}")
    for w in ["river", "River", "NASA", "U.S.", "I", "McDonald", "O'Neill", "Déjà", "3.14", "iPhone"]:
        fastai_tokens = replace_maj(replace_all_caps(w)).lower().split()
        assert word_pieces(w) == fastai_tokens, w
