"""Fuzzing the checkpoint readers: ELMo options.json and hdf5 weights, the ULMFiT vocabulary
(pickled itos, vocab.json), config.json, model.safetensors and the fastai .pth, and GGUF.

Text and JSON inputs are fuzzed from a valid file; the binary formats (hdf5, safetensors, .pth,
GGUF) are cut short at several offsets. Each damaged input is refused with the project's error
naming the file (and the line or key where the format has them), never a bare h5py, struct,
numpy, safetensors, torch or json exception.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from fuzzing import check_refused_or_valid, damaged, damaged_json, fuzz_settings, json_has_duplicate_keys
from hypothesis import given
from hypothesis import strategies as st

from embeddings.elmo.bilm import MAX_SIZE, BiLM, ElmoOptions
from embeddings.elmo.hdf5_format import load_weights
from embeddings.hf.gguf import converted_dir, load_gguf
from embeddings.support.errors import CtxbenchError, FileFormatError
from embeddings.ulmfit.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from embeddings.ulmfit.model import AWDLSTM, AWDConfig
from embeddings.ulmfit.vocab import SPECIAL_TOKENS, UnsafeVocabulary, read_itos_pickle, read_vocab_json

ITOS = list(SPECIAL_TOKENS) + "the river bank was muddy . she deposited cheque at the yesterday".split()
CUTS = (0.0, 0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.99, 0.9999)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def elmo_fixture() -> Path:
    path = Path(os.environ["CTXBENCH_FIXTURES"]) / "allennlp-elmo"
    if not (path / "lm_weights.hdf5").is_file():
        pytest.fail(f"ELMo reference fixture missing at {path}; set CTXBENCH_FIXTURES to shared/fixtures")
    return path


def _cut(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


# -- ELMo options.json -------------------------------------------------------------------------
@fuzz_settings(100)
@given(data=st.data(), structural=st.booleans())
def test_elmo_options(tmp_path: Path, elmo_fixture: Path, data: st.DataObject, structural: bool) -> None:
    valid = json.loads((elmo_fixture / "options.json").read_text())
    path = tmp_path / "options.json"
    path.write_bytes(data.draw(damaged_json(valid) if structural else damaged(json.dumps(valid, indent=2), sep=" ")))

    def validate(opts: ElmoOptions) -> None:
        sizes = [opts.char_dim, opts.n_characters, opts.max_chars, opts.lstm_dim, opts.projection_dim,
                 opts.n_layers] + [x for f in opts.filters for x in f]
        assert all(type(x) is int and 1 <= x <= MAX_SIZE for x in sizes) and type(opts.n_highway) is int
        assert opts.filters and max(w for w, _ in opts.filters) <= opts.max_chars
        assert all(c is None or (type(c) is float and 0 < c < float("inf")) for c in (opts.cell_clip, opts.proj_clip))
        assert type(opts.skip_connections) is bool and opts.activation in ("relu", "tanh")
        # every field is what the file says, not a coercion of it ("64" -> 64, 1.5 -> 1, true -> 1)
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
        cnn, lstm = raw["char_cnn"], raw["lstm"]
        for got, want in [(opts.char_dim, cnn["embedding"]["dim"]), (opts.lstm_dim, lstm["dim"]),
                          (opts.n_layers, lstm["n_layers"]), (opts.n_highway, cnn.get("n_highway", 0)),
                          (opts.projection_dim, lstm.get("projection_dim", lstm["dim"])),
                          (opts.max_chars, cnn.get("max_characters_per_token", 50)),
                          (opts.skip_connections, lstm.get("use_skip_connections", False)),
                          (opts.cell_clip, lstm.get("cell_clip")), (opts.proj_clip, lstm.get("proj_clip"))]:
            assert got == want and isinstance(want, bool) == isinstance(got, bool), (got, want)
        assert opts.filters == tuple(tuple(f) for f in cnn["filters"])
        assert not json_has_duplicate_keys(path.read_bytes()), "a key given twice was accepted"

    check_refused_or_valid(lambda: ElmoOptions.from_file(path), [path], validate=validate, where="line-or-key")


@pytest.mark.parametrize("change, key", [
    (lambda o: o["lstm"].update(dim="64"), "lstm.dim"),
    (lambda o: o["lstm"].update(n_layers=1.5), "lstm.n_layers"),
    (lambda o: o["lstm"].update(use_skip_connections="false"), "lstm.use_skip_connections"),
    (lambda o: o["lstm"].update(cell_clip=float("nan")), None),  # json.dumps writes NaN: not JSON
    (lambda o: o["lstm"].update(proj_clip=-3), "lstm.proj_clip"),
    (lambda o: o["char_cnn"].update(filters=[[1, 4], [60, 8]]), "char_cnn.max_characters_per_token"),
    (lambda o: o["char_cnn"].update(filters="[[1, 4]]"), "char_cnn.filters"),
    (lambda o: o.pop("lstm"), "lstm"),
    (lambda o: o["lstm"].update(projection_dim=10**12), "lstm.projection_dim"),
])
def test_elmo_options_holes(tmp_path: Path, elmo_fixture: Path, change, key: str | None) -> None:
    opts = json.loads((elmo_fixture / "options.json").read_text())
    change(opts)
    path = tmp_path / "options.json"
    path.write_text(json.dumps(opts))
    with pytest.raises(FileFormatError, match=rf"options\.json: key '{key}'" if key else r"options\.json:1: NaN"):
        ElmoOptions.from_file(path)


def test_elmo_options_duplicate_key_and_bad_utf8(tmp_path: Path) -> None:
    path = tmp_path / "options.json"
    path.write_text('{"lstm": {"dim": 64,\n "dim": 32}}')
    with pytest.raises(FileFormatError, match=r"options\.json:2: the key 'dim' appears twice"):
        ElmoOptions.from_file(path)
    path.write_bytes(b'{"lstm":\n {"dim": "\xe9"}}')
    with pytest.raises(FileFormatError, match=r"options\.json:2: not UTF-8"):
        ElmoOptions.from_file(path)


# -- ELMo hdf5 weights, cut short ---------------------------------------------------------------------
@pytest.mark.parametrize("fraction", CUTS)
def test_elmo_weights_cut_short_are_refused(tmp_path: Path, elmo_fixture: Path, fraction: float) -> None:
    opts = ElmoOptions.from_file(elmo_fixture / "options.json")
    path = _cut(elmo_fixture / "lm_weights.hdf5", tmp_path / "lm_weights.hdf5", fraction)
    with pytest.raises(FileFormatError, match=r"lm_weights\.hdf5: "):
        load_weights(BiLM(opts), path)


def test_elmo_weights_with_nan_or_the_wrong_dtype_are_refused(tmp_path: Path, elmo_fixture: Path) -> None:
    import h5py

    opts = ElmoOptions.from_file(elmo_fixture / "options.json")
    path = tmp_path / "w.hdf5"
    shutil.copy(elmo_fixture / "lm_weights.hdf5", path)
    path.chmod(0o644)
    with h5py.File(path, "r+") as f:
        f["CNN/b_cnn_0"][0] = np.nan
    with pytest.raises(FileFormatError, match=r"w\.hdf5: key 'CNN/b_cnn_0': holds NaN"):
        load_weights(BiLM(opts), path)
    with h5py.File(path, "r+") as f:
        del f["CNN/b_cnn_0"]
        f["CNN/b_cnn_0"] = np.array(["x"] * 4, dtype="S1")
    with pytest.raises(FileFormatError, match=r"w\.hdf5: key 'CNN/b_cnn_0': a \|S1 dataset"):
        load_weights(BiLM(opts), path)
    with h5py.File(path, "r+") as f:
        del f["CNN/b_cnn_0"]
    with pytest.raises(FileFormatError, match=r"w\.hdf5: key 'CNN/b_cnn_0': dataset missing"):
        load_weights(BiLM(opts), path)


# -- ULMFiT vocabulary ----------------------------------------------------------------------------------
@fuzz_settings(100)
@given(data=st.data(), protocol=st.sampled_from([0, 2, 4, 5]))
def test_itos_pickle(tmp_path: Path, data: st.DataObject, protocol: int) -> None:
    buf = bytearray(pickle.dumps(ITOS, protocol=protocol))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(buf) - 1))
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if kind == "flip":
            buf[at] ^= data.draw(st.integers(1, 255))
        elif kind == "cut":
            del buf[at:]
            if not buf:
                break
        else:
            buf[at:at] = data.draw(st.binary(min_size=1, max_size=6))
    path = tmp_path / "itos.pkl"
    path.write_bytes(bytes(buf))

    def validate(itos: list) -> None:
        assert isinstance(itos, list) and itos and all(isinstance(t, str) for t in itos)

    check_refused_or_valid(lambda: read_itos_pickle(path), [path], errors=UnsafeVocabulary, validate=validate,
                           where=None)


@fuzz_settings(100)
@given(data=st.data())
def test_vocab_json(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "vocab.json"
    path.write_bytes(data.draw(damaged_json(ITOS)))

    def validate(itos: list) -> None:
        assert isinstance(itos, list) and itos and all(isinstance(t, str) for t in itos)

    check_refused_or_valid(lambda: read_vocab_json(path), [path], errors=(FileFormatError, UnsafeVocabulary),
                           validate=validate, where=None)


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("attack", ["os.system", "inside-a-list", "popen-dotted-name", "persistent-id"])
def test_malicious_itos_pickles_are_refused_without_running(tmp_path: Path, attack: str) -> None:
    marker = tmp_path / "pwned"
    arg = str(marker).encode()
    payload = {
        "os.system": lambda: pickle.dumps(_Exploit(marker)),
        "inside-a-list": lambda: pickle.dumps(["xxunk", _Exploit(marker)]),
        "popen-dotted-name": lambda: (
            b"\x80\x04\x8c\x0bgensim.utils\x8c\x10subprocess.Popen\x93(\x8c\x05touch\x8c" + bytes([len(arg)]) + arg
            + b"l\x85R."),
        "persistent-id": lambda: b"\x80\x04\x8c\x03abc\x94Q.",
    }[attack]()
    path = tmp_path / "itos.pkl"
    path.write_bytes(payload)
    with pytest.raises(UnsafeVocabulary, match=r"itos\.pkl: "):
        read_itos_pickle(path)
    assert not marker.exists(), "the pickle's code ran"


# -- ULMFiT checkpoints ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def own_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = AWDLSTM(AWDConfig(vocab_size=len(ITOS), emb_sz=6, n_hid=10, n_layers=3))
    return save_checkpoint(model, ITOS, tmp_path_factory.mktemp("own") / "ckpt", meta={"perplexity": 12.5})


def _copy_checkpoint(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@fuzz_settings(100)
@given(data=st.data())
def test_own_checkpoint_config(tmp_path_factory: pytest.TempPathFactory, own_checkpoint: Path,
                               data: st.DataObject) -> None:
    d = _copy_checkpoint(own_checkpoint, tmp_path_factory.mktemp("fuzz") / "ckpt")
    valid = json.loads((d / "config.json").read_text())
    (d / "config.json").write_bytes(data.draw(damaged_json(valid)))

    def validate(lm) -> None:
        assert lm.layout == "ctxbench" and len(lm.vocab) == len(ITOS)
        assert not json_has_duplicate_keys((d / "config.json").read_bytes()), "a key given twice was accepted"
        assert all(torch.isfinite(p).all() for p in lm.model.parameters())

    check_refused_or_valid(lambda: load_checkpoint(d), [d / "config.json", d / "model.safetensors"],
                           errors=(CheckpointError, FileFormatError), validate=validate, where="line-or-key")


@pytest.mark.parametrize("fraction", CUTS)
def test_own_checkpoint_safetensors_cut_short(tmp_path: Path, own_checkpoint: Path, fraction: float) -> None:
    d = _copy_checkpoint(own_checkpoint, tmp_path / "ckpt")
    _cut(own_checkpoint / "model.safetensors", d / "model.safetensors", fraction)
    with pytest.raises(CheckpointError, match=r"model\.safetensors: "):
        load_checkpoint(d)


def test_own_checkpoint_config_holes(tmp_path: Path, own_checkpoint: Path) -> None:
    d = _copy_checkpoint(own_checkpoint, tmp_path / "ckpt")
    cfg = json.loads((d / "config.json").read_text())
    for change, match in [
        (lambda c: c["model"].update(vocab_size="20"), r"config\.json: key 'model\.vocab_size': expected a whole"),
        (lambda c: c["model"].update(emb_sz=7), r"model\.safetensors: key 'encoder\.weight': shape \(21, 6\), "
                                                r"the configured model .* has \(21, 7\)"),
        (lambda c: c["model"].pop("n_hid"), r"config\.json: key 'model\.n_hid': missing"),
        (lambda c: c["model"].update(tie_weights=1), r"config\.json: key 'model\.tie_weights': expected true"),
        (lambda c: c["model"].update(n_layers=10**9), r"config\.json: key 'model\.n_layers'"),
        (lambda c: c.update(model=[1]), r"config\.json: key 'model': expected an object"),
        (lambda c: c.update(format="bert"), r"config\.json: key 'format'"),
    ]:
        bad = json.loads(json.dumps(cfg))
        change(bad)
        (d / "config.json").write_text(json.dumps(bad))
        with pytest.raises(CheckpointError, match=match):
            load_checkpoint(d)
    (d / "config.json").write_text(json.dumps(cfg)[:-5])
    with pytest.raises(FileFormatError, match=r"config\.json:1: not valid JSON"):
        load_checkpoint(d)


@pytest.mark.parametrize("fraction", CUTS)
def test_fastai_pth_cut_short(tmp_path: Path, own_checkpoint: Path, fraction: float) -> None:
    sd = {"0.encoder.weight": torch.zeros(len(ITOS), 4)}
    d = tmp_path / "fastai"
    d.mkdir()
    torch.save(sd, d / "lm.pth")
    _cut(d / "lm.pth", d / "lm.pth", fraction)
    (d / "itos.pkl").write_bytes(pickle.dumps(ITOS))
    with pytest.raises(CheckpointError, match=r"lm\.pth: "):
        load_checkpoint(d)


def test_fastai_tensors_of_the_wrong_rank_are_refused(tmp_path: Path) -> None:
    d = tmp_path / "fastai"
    d.mkdir()
    torch.save({"0.encoder.weight": torch.zeros(len(ITOS)), "0.rnns.0.weight_hh_l0_raw": torch.zeros(4)}, d / "lm.pth")
    (d / "itos.pkl").write_bytes(pickle.dumps(ITOS))
    with pytest.raises(CheckpointError, match=r"lm\.pth: key '0\.encoder\.weight': shape"):
        load_checkpoint(d)


# -- GGUF, cut short -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def toy_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hf_tiny import build_tiny_llama_gguf

    return build_tiny_llama_gguf(tmp_path_factory.mktemp("gguf") / "tiny-llama.Q4_1.gguf")


@pytest.mark.parametrize("fraction", CUTS)
def test_gguf_cut_short_is_refused(tmp_path: Path, toy_gguf: Path, fraction: float, monkeypatch) -> None:
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))
    path = _cut(toy_gguf, tmp_path / "tiny.gguf", fraction)
    with pytest.raises(FileFormatError, match=r"tiny\.gguf: "):
        load_gguf(path)
    with pytest.raises(FileFormatError, match=r"tiny\.gguf: "):
        converted_dir(path, "tiny")
    assert not any((tmp_path / "cache" / "models").iterdir()), "a failed conversion leaves nothing behind"


def test_gguf_with_a_damaged_architecture_is_refused(tmp_path: Path, toy_gguf: Path) -> None:
    data = toy_gguf.read_bytes()
    path = tmp_path / "tiny.gguf"
    path.write_bytes(data.replace(b"llama", b"llamx"))
    with pytest.raises(FileFormatError, match=r"tiny\.gguf: transformers cannot load") as info:
        load_gguf(path)
    assert isinstance(info.value, CtxbenchError)
