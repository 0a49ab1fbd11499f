"""Fuzzing the static vector parsers (embeddings/static): GloVe and word2vec text, word2vec binary,
gzip/bz2 streams and gensim pickles. A damaged file is refused with ``StaticFormatError`` naming
the file and line, or read into sound vectors; never another exception, never a hang. Binary
files are also cut at every kind of place (header, word, vector), and malicious pickles are
refused without running anything.
"""

from __future__ import annotations

import bz2
import gzip
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest
from fuzzing import FUZZ, check_refused_or_valid, damaged, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from embeddings.static import StaticFormatError, load_static_file, read_vectors, save_word2vec_binary
from embeddings.static.gensim_native import load_gensim_native

WORDS = ["the", ",", "bank", "river", "money", "Über", "naïve", "cat"]
VECTORS = np.round(np.random.default_rng(0).standard_normal((len(WORDS), 5)), 5).astype(np.float32)


def _text_lines() -> str:
    return "".join(w + " " + " ".join(f"{x:.5f}" for x in v) + "\n" for w, v in zip(WORDS, VECTORS))


GLOVE = _text_lines()
W2V_TEXT = f"{len(WORDS)} {VECTORS.shape[1]}\n" + GLOVE


def _w2v_binary(tmp: Path) -> bytes:
    save_word2vec_binary(tmp, WORDS, VECTORS)
    return tmp.read_bytes()


def _validate(result: tuple) -> None:
    words, matrix, fmt = result
    assert fmt in ("word2vec-binary", "word2vec-text", "glove-text")
    assert words and len(words) == len(set(words)) == matrix.shape[0]
    assert all(isinstance(w, str) and w and "\n" not in w for w in words)
    assert matrix.dtype == np.float32 and matrix.ndim == 2 and matrix.shape[1] >= 1
    assert np.isfinite(matrix).all()


def _validate_embedder(emb) -> None:
    assert emb.vocab_size >= 1 and emb.dim >= 1
    assert np.isfinite(emb.kv.vectors).all() and len(emb.kv.index_to_key) == emb.kv.vectors.shape[0]


# -- text formats -------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["glove", "word2vec-text"])
@FUZZ
@given(data=st.data())
def test_text_vectors(tmp_path: Path, layout: str, data: st.DataObject) -> None:
    path = tmp_path / "vectors.txt"
    path.write_bytes(data.draw(damaged(GLOVE if layout == "glove" else W2V_TEXT, sep=" ")))
    check_refused_or_valid(lambda: read_vectors(path), [path], validate=_validate)
    fmt = "glove-text" if layout == "glove" else "word2vec-text"
    check_refused_or_valid(lambda: read_vectors(path, fmt), [path], validate=_validate)


@fuzz_settings(40)
@given(data=st.data())
def test_load_static_file_on_damaged_text(tmp_path: Path, data: st.DataObject) -> None:
    """The whole loader (sniffing, the gensim branch a stray 0x80 byte opens, the embedder)."""
    path = tmp_path / "vectors.txt"
    path.write_bytes(data.draw(damaged(W2V_TEXT, sep=" ")))
    check_refused_or_valid(lambda: load_static_file(path, family="word2vec"), [path], validate=_validate_embedder)


# -- word2vec binary ----------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_binary_vectors(tmp_path: Path, data: st.DataObject) -> None:
    valid = _w2v_binary(tmp_path / "valid.bin")
    damage = data.draw(st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "delete"]),
                                          st.integers(0, len(valid) - 1), st.integers(1, 255)),
                                min_size=1, max_size=3))
    buf = bytearray(valid)
    for kind, at, value in damage:
        at = min(at, max(len(buf) - 1, 0))
        if kind == "flip" and buf:
            buf[at] ^= value
        elif kind == "cut":
            del buf[at:]
        elif kind == "insert":
            buf[at:at] = bytes([value]) * data.draw(st.integers(1, 8))
        elif kind == "delete":
            del buf[at:at + data.draw(st.integers(1, 8))]
    path = tmp_path / "vectors.bin"
    path.write_bytes(bytes(buf))
    check_refused_or_valid(lambda: read_vectors(path, "word2vec-binary"), [path], validate=_validate)
    check_refused_or_valid(lambda: read_vectors(path), [path], validate=_validate)


def _offsets(valid: bytes) -> dict[str, int]:
    header_end = valid.index(b"\n") + 1
    first_word_end = valid.index(b" ", header_end)
    return {"in the header": 2, "after the header": header_end, "in a word": header_end + 1,
            "in the first vector": first_word_end + 7, "in the last vector": len(valid) - 3,
            "in a later word": valid.index(b"river") + 2}


@pytest.mark.parametrize("where", ["in the header", "after the header", "in a word", "in the first vector",
                                   "in the last vector", "in a later word"])
@pytest.mark.parametrize("compression", ["none", "gzip", "bz2"])
def test_binary_cut_short_is_refused(tmp_path: Path, where: str, compression: str) -> None:
    valid = _w2v_binary(tmp_path / "valid.bin")
    cut = valid[: _offsets(valid)[where]]
    path = tmp_path / "cut.bin"
    path.write_bytes({"none": cut, "gzip": gzip.compress(cut), "bz2": bz2.compress(cut)}[compression])
    with pytest.raises(StaticFormatError, match=r"cut\.bin:\d+: ") as info:
        read_vectors(path, "word2vec-binary")
    assert "truncated" in str(info.value) or "header" in str(info.value)


@pytest.mark.parametrize("compression", ["gzip", "bz2"])
@pytest.mark.parametrize("keep", [0.3, 0.7, 0.95])
def test_compressed_stream_cut_short_is_refused(tmp_path: Path, compression: str, keep: float) -> None:
    """A .gz/.bz2 download that stopped early: the decompressor's EOFError is not the answer."""
    big = "".join(f"w{i} " + " ".join(f"{x:.5f}" for x in VECTORS[i % len(WORDS)]) + "\n" for i in range(3000))
    packed = (gzip.compress if compression == "gzip" else bz2.compress)(f"3000 5\n{big}".encode())
    path = tmp_path / "vectors.txt.gz"
    path.write_bytes(packed[: int(len(packed) * keep)])
    with pytest.raises(StaticFormatError, match=r"vectors\.txt\.gz:\d+: .*(compressed|truncated)"):
        read_vectors(path)
    with pytest.raises(StaticFormatError, match=r"vectors\.txt\.gz:\d+: "):
        load_static_file(path, family="glove")


@pytest.mark.parametrize("header", [b"99999999999 5\n", b"2 99999999999\n", b"20000000 5\n", b"100000 200\n"])
def test_header_larger_than_the_file_is_refused_before_allocating(tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "vectors.txt"
    path.write_bytes(header + GLOVE.encode())
    refused = r"vectors\.txt:1: (the header declares|header dimension \d+ is implausibly large)"
    with pytest.raises(StaticFormatError, match=refused):
        read_vectors(path, "word2vec-text")
    binary = _w2v_binary(tmp_path / "valid.bin")
    path.write_bytes(header + binary[binary.index(b"\n") + 1:])
    with pytest.raises(StaticFormatError, match=refused):
        read_vectors(path, "word2vec-binary")


def test_valid_files_still_read_exactly(tmp_path: Path) -> None:
    binary = _w2v_binary(tmp_path / "v.bin")
    for name, data in [("g.txt", GLOVE.encode()), ("w.txt", W2V_TEXT.encode()), ("w.bin", binary),
                       ("w.bin.gz", gzip.compress(binary)), ("w.bin.bz2", bz2.compress(binary))]:
        (tmp_path / name).write_bytes(data)
        words, matrix, _ = read_vectors(tmp_path / name)
        assert words == WORDS
        np.testing.assert_array_equal(matrix, VECTORS)


# -- gensim pickles ---------------------------------------------------------------------------------------
def _gensim_kv(tmp: Path) -> bytes:
    from gensim.models import KeyedVectors

    kv = KeyedVectors(VECTORS.shape[1])
    kv.add_vectors(WORDS, VECTORS)
    kv.save(str(tmp))
    return tmp.read_bytes()


@fuzz_settings(60)
@given(data=st.data())
def test_gensim_pickle(tmp_path: Path, data: st.DataObject) -> None:
    valid = _gensim_kv(tmp_path / "valid.kv")
    buf = bytearray(valid)
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
    path = tmp_path / "vectors.kv"
    path.write_bytes(bytes(buf))

    def validate(kv) -> None:
        assert len(kv.index_to_key) == kv.vectors.shape[0] and np.isfinite(kv.vectors).all()
        assert all(isinstance(w, str) for w in kv.index_to_key)

    check_refused_or_valid(lambda: load_gensim_native(path), [path], validate=validate)


def test_gensim_pickle_cut_short_is_refused(tmp_path: Path) -> None:
    valid = _gensim_kv(tmp_path / "valid.kv")
    path = tmp_path / "cut.kv"
    for keep in (2, 10, len(valid) // 3, len(valid) // 2, len(valid) - 1):
        path.write_bytes(valid[:keep])
        with pytest.raises(StaticFormatError, match=r"cut\.kv:1: "):
            load_static_file(path, family="word2vec")


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _stack_global(module: str, name: str) -> bytes:
    m, n = module.encode(), name.encode()
    return pickle.SHORT_BINUNICODE + bytes([len(m)]) + m + pickle.SHORT_BINUNICODE + bytes([len(n)]) + n \
        + pickle.STACK_GLOBAL


def _popen_via_a_dotted_name(marker: Path) -> bytes:
    """subprocess.Popen reached through gensim.utils' namespace (protocol 4 resolves dotted names)."""
    arg = str(marker).encode()
    return (b"\x80\x04" + _stack_global("gensim.utils", "subprocess.Popen") + pickle.MARK + pickle.MARK
            + pickle.SHORT_BINUNICODE + b"\x05touch" + pickle.SHORT_BINUNICODE + bytes([len(arg)]) + arg
            + pickle.LIST + pickle.TUPLE + pickle.REDUCE + pickle.STOP)


def _gensim_class_called(marker: Path) -> bytes:
    """REDUCE on a gensim class runs its __init__: here Word2Vec(corpus) trains a model."""
    return (b"\x80\x04" + _stack_global("gensim.models.word2vec", "Word2Vec")
            + pickle.dumps(([["a", "b", "c"]] * 10,), protocol=4)[2:-1] + pickle.REDUCE + pickle.STOP)


@pytest.mark.parametrize("attack", ["os.system", "popen-dotted-name", "gensim-init", "scipy-sibling-pickle"])
def test_malicious_gensim_pickles_are_refused_without_running(tmp_path: Path, attack: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.kv"
    if attack == "os.system":
        path.write_bytes(pickle.dumps(_Exploit(marker)))
    elif attack == "popen-dotted-name":
        path.write_bytes(_popen_via_a_dotted_name(marker))
    elif attack == "gensim-init":
        path.write_bytes(_gensim_class_called(marker))
    else:  # a sound .kv that points gensim's own (unrestricted) unpickler at a file beside it
        from gensim.models import KeyedVectors

        kv = KeyedVectors(VECTORS.shape[1])
        kv.add_vectors(WORDS, VECTORS)
        kv.__dict__["__scipys"] = ["payload"]
        with open(path, "wb") as f:
            pickle.dump(kv, f, protocol=4)
        (tmp_path / "evil.kv.payload.npy").write_bytes(pickle.dumps(_Exploit(marker)))
    with pytest.raises(StaticFormatError, match=r"evil\.kv:1: "):
        load_static_file(path, family="word2vec")
    subprocess.run(["sync"], check=False)  # a Popen'd child would have had time to run
    assert not marker.exists(), "the pickle's code ran"


def test_sound_gensim_files_still_load(tmp_path: Path) -> None:
    from gensim.models import Word2Vec

    _gensim_kv(tmp_path / "v.kv")
    kv = load_gensim_native(tmp_path / "v.kv")
    assert kv.index_to_key == WORDS and np.array_equal(kv.vectors, VECTORS)
    model = Word2Vec([["a", "b", "c"]] * 10, vector_size=4, min_count=1, epochs=1, workers=1, seed=1)
    for protocol in (0, 2, 4):
        path = tmp_path / f"w{protocol}.model"
        model.save(str(path), pickle_protocol=protocol)
        wv = load_gensim_native(path)
        assert wv.index_to_key == model.wv.index_to_key and np.array_equal(wv.vectors, model.wv.vectors)

