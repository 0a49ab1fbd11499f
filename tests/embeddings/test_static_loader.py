"""Static vector files in every format: load each, reject broken ones naming file and line."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors, Word2Vec

import embeddings
from embeddings.static import StaticFormatError, load_static_file, save_word2vec_binary, sniff_format
from embeddings.static.mmap_cache import convert_to_npy
from embeddings.testing import check_embedder

WORDS = ["the", "bank", "river", "Paris", "naïve", "e-mail"]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CTXBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def vectors() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(len(WORDS), 5)).astype(np.float32)


def _text_lines(words, vecs) -> list[str]:
    return [w + " " + " ".join(repr(float(x)) for x in v) for w, v in zip(words, vecs, strict=True)]


def write_w2v_text(path: Path, words, vecs) -> Path:
    path.write_text(
        f"{len(words)} {vecs.shape[1]}\n" + "\n".join(_text_lines(words, vecs)) + "\n", encoding="utf-8"
    )
    return path


def write_glove(path: Path, words, vecs) -> Path:
    path.write_text("\n".join(_text_lines(words, vecs)) + "\n", encoding="utf-8")
    return path


def assert_same(emb, words, vecs) -> None:
    assert emb.vocabulary() == list(words)
    got = emb.embed([list(words)])[0]
    assert not got.oov.any()
    np.testing.assert_array_equal(got.vectors[:, 0, :], vecs)


# -- each format loads, sniffed and explicit ---------------------------------------------
def test_word2vec_binary_round_trip_matches_gensim(tmp_path, vectors):
    p = tmp_path / "v.bin"
    save_word2vec_binary(p, WORDS, vectors)
    assert sniff_format(p) == "word2vec-binary"
    emb = load_static_file(p, family="word2vec")
    assert_same(emb, WORDS, vectors)
    # gensim reads the file we wrote identically, and we read gensim's own writer identically
    ref = KeyedVectors.load_word2vec_format(str(p), binary=True)
    np.testing.assert_array_equal(ref.vectors, vectors)
    q = tmp_path / "gensim.bin"
    ref.save_word2vec_format(str(q), binary=True)
    assert_same(load_static_file(q, family="word2vec"), WORDS, vectors)
    assert emb.lowercase is False  # cased words present: cased lookup inferred


def test_word2vec_text_and_gzip(tmp_path, vectors):
    p = write_w2v_text(tmp_path / "v.txt", WORDS, vectors)
    assert sniff_format(p) == "word2vec-text"
    assert_same(embeddings.load("word2vec", path=p), WORDS, vectors)
    gz = tmp_path / "v.txt.gz"
    gz.write_bytes(gzip.compress(p.read_bytes()))
    assert sniff_format(gz) == "word2vec-text"
    assert_same(load_static_file(gz, family="word2vec"), WORDS, vectors)


def test_glove_headerless_and_forced_format(tmp_path, vectors):
    p = write_glove(tmp_path / "glove.txt", WORDS, vectors)
    assert sniff_format(p) == "glove-text"
    emb = embeddings.load("glove", path=p, format="glove-text")
    assert emb.family == "glove" and emb.options["format"] == "glove-text"
    assert_same(emb, WORDS, vectors)


def test_glove_840b_tokens_with_spaces(tmp_path, vectors):
    words = ["the", ". . .", "at name@domain.com", " ", "bank", "- -"]
    p = write_glove(tmp_path / "glove.840B.txt", words, vectors)
    emb = load_static_file(p, family="glove")
    assert emb.vocabulary() == words
    np.testing.assert_array_equal(emb.kv[". . ."], vectors[1])
    np.testing.assert_array_equal(emb.kv[" "], vectors[3])


def test_gensim_native_kv_and_full_model(tmp_path, vectors):
    kv = KeyedVectors(vector_size=5)
    kv.add_vectors(WORDS, vectors)
    kv.save(str(tmp_path / "v.kv"))
    assert sniff_format(tmp_path / "v.kv") == "gensim"
    assert_same(load_static_file(tmp_path / "v.kv", family="word2vec"), WORDS, vectors)
    kv.save(str(tmp_path / "sep.kv"), separately=["vectors"])  # big arrays go to sep.kv.vectors.npy
    assert (tmp_path / "sep.kv.vectors.npy").is_file()
    mapped = load_static_file(tmp_path / "sep.kv", family="word2vec", mmap=True)
    assert isinstance(mapped.kv.vectors, np.memmap) and mapped.mmapped
    assert_same(mapped, WORDS, vectors)
    sents = [["a", "b", "c", "d"], ["b", "c", "d", "e"]] * 30
    model = Word2Vec(sents, vector_size=8, min_count=1, workers=1, seed=3, epochs=2)
    model.save(str(tmp_path / "w.model"))
    emb = load_static_file(tmp_path / "w.model", family="word2vec", mmap=True)
    np.testing.assert_array_equal(emb.kv.vectors, model.wv.vectors)
    assert emb.vocabulary() == model.wv.index_to_key


def test_gensim_pickle_with_foreign_class_is_refused(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    p = tmp_path / "evil.kv"
    p.write_bytes(pickle.dumps(Evil(), protocol=4))
    with pytest.raises(StaticFormatError, match=r"evil\.kv:1: .*refusing to unpickle .*system"):
        load_static_file(p, family="word2vec")


# -- restriction, lowercasing, memory mapping ---------------------------------------------
@pytest.mark.parametrize("writer", ["binary", "text", "glove"])
def test_max_vocab_and_vocab_restriction(tmp_path, vectors, writer):
    p = tmp_path / "v"
    if writer == "binary":
        save_word2vec_binary(p, WORDS, vectors)
    elif writer == "text":
        write_w2v_text(p, WORDS, vectors)
    else:
        write_glove(p, WORDS, vectors)
    first = load_static_file(p, family="word2vec", max_vocab=3)
    assert first.vocabulary() == WORDS[:3]
    only = load_static_file(p, family="word2vec", vocab={"river", "paris", "zebra"})
    assert only.vocabulary() == ["river", "Paris"]  # exact or lower-cased match, file order kept
    np.testing.assert_array_equal(only.kv["Paris"], vectors[3])
    assert only.config()["vocab"] == ["paris", "river", "zebra"]  # what was asked for, sorted
    again = embeddings.load(**only.config())  # the config rebuilds the model (issue 13)
    assert again.vocabulary() == only.vocabulary() and again.fingerprint() == only.fingerprint()
    assert embeddings.load(**first.config()).vocabulary() == WORDS[:3]


def test_lowercase_rule_inferred_and_declared(tmp_path, vectors):
    lower = [w.lower() for w in WORDS]
    p = write_glove(tmp_path / "uncased.txt", lower, vectors)
    emb = load_static_file(p, family="glove")
    assert emb.lowercase is True
    assert not emb.embed([["PARIS"]])[0].oov[0]
    cased = load_static_file(p, family="glove", lowercase=False)
    assert cased.embed([["PARIS"]])[0].oov[0]


def test_mmap_converts_once_and_maps(tmp_path, vectors):
    p = tmp_path / "v.bin"
    save_word2vec_binary(p, WORDS + ["bank"], np.vstack([vectors, vectors[:1] + 1]))  # a duplicate word
    emb = load_static_file(p, family="word2vec", mmap=True)
    assert isinstance(emb.kv.vectors, np.memmap) and emb.mmapped is True
    assert_same(emb, WORDS, vectors)  # duplicate dropped, first kept
    d = convert_to_npy(p)
    stamp = (d / "vectors.npy").stat().st_mtime_ns
    again = load_static_file(p, family="word2vec")  # mmap=None: an existing conversion is used
    assert isinstance(again.kv.vectors, np.memmap)
    assert (d / "vectors.npy").stat().st_mtime_ns == stamp
    restricted = load_static_file(p, family="word2vec", mmap=True, max_vocab=2)
    assert restricted.vocabulary() == WORDS[:2]


def test_conformance_on_path_loaded_models(tmp_path, vectors):
    words = WORDS + ["The", ".", ",", "river", "was", "muddy", "I", "sat", "by", "of", "cat"]
    words = list(dict.fromkeys(words))
    vecs = np.random.default_rng(1).normal(size=(len(words), 7)).astype(np.float32)
    p = tmp_path / "v.bin"
    save_word2vec_binary(p, words, vecs)
    check_embedder(load_static_file(p, family="word2vec"))
    check_embedder(load_static_file(write_glove(tmp_path / "g.txt", words, vecs), family="glove", mmap=True))


def test_fingerprint_follows_content_and_options(tmp_path, vectors):
    a = write_glove(tmp_path / "a.txt", WORDS, vectors)
    b = write_glove(tmp_path / "b.txt", WORDS, vectors + 1)
    fa = load_static_file(a, family="glove").fingerprint()
    assert fa == load_static_file(a, family="glove").fingerprint()
    assert fa != load_static_file(b, family="glove").fingerprint()
    assert fa != load_static_file(a, family="glove", max_vocab=2).fingerprint()


# -- broken files: a clear error naming file and line --------------------------------------
def _error(path: Path, **kw) -> StaticFormatError:
    with pytest.raises(StaticFormatError) as info:
        load_static_file(path, family="word2vec", **kw)
    err = info.value
    assert str(err).startswith(f"{path}:{err.line}: ")
    return err


def test_text_wrong_dimension_names_line(tmp_path, vectors):
    lines = _text_lines(WORDS, vectors)
    lines[3] = lines[3].rsplit(" ", 1)[0]  # line 5 of the file (after the header): 4 values
    p = tmp_path / "w2v.txt"
    p.write_text("6 5\n" + "\n".join(lines) + "\n")
    err = _error(p)
    assert err.line == 5 and "expected a word and 5 values, got 4 values" in err.problem
    lines[3] = lines[3] + " 0.5 0.25"  # now 6 values
    p.write_text("6 5\n" + "\n".join(lines) + "\n")
    err = _error(p)
    assert err.line == 5 and "got 6 values" in err.problem
    g = tmp_path / "glove.txt"
    g.write_text("\n".join(lines) + "\n")  # headerless: one value too many is not a spaced token
    err = _error(g)
    assert err.line == 4 and "got 6 values" in err.problem and "lenient_tokens=True" in err.problem
    lenient = load_static_file(g, family="glove", lenient_tokens=True)  # the user says: a spaced token
    assert lenient.vocabulary()[3] == lines[3].split(" ")[0] + " " + lines[3].split(" ")[1]


def test_text_non_numeric_and_non_finite(tmp_path, vectors):
    lines = _text_lines(WORDS, vectors)
    fields = lines[2].split(" ")
    fields[3] = "0.1x"
    lines[2] = " ".join(fields)
    p = write_glove(tmp_path / "g.txt", [], np.zeros((0, 5)))
    p.write_text("\n".join(lines) + "\n")
    err = _error(p)
    assert err.line == 3 and "value 3 of 5 ('0.1x') is not a number" in err.problem
    fields[3] = "nan"
    lines[2] = " ".join(fields)
    p.write_text("\n".join(lines) + "\n")
    err = _error(p)
    assert err.line == 3 and "not finite" in err.problem


def test_text_truncated_file(tmp_path, vectors):
    p = write_w2v_text(tmp_path / "v.txt", WORDS, vectors)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 20])  # cut inside the last line
    err = _error(p)
    assert err.line == 7 and "truncated" in err.problem
    g = write_glove(tmp_path / "g.txt", WORDS, vectors)
    data = g.read_bytes()
    g.write_bytes(data[: len(data) - 20])
    err = _error(g)
    assert err.line == 6 and "truncated" in err.problem


def test_text_header_count_mismatch(tmp_path, vectors):
    p = tmp_path / "v.txt"
    p.write_text("9 5\n" + "\n".join(_text_lines(WORDS, vectors)) + "\n")
    err = _error(p)
    assert "declares 9 vectors but the file ends after 6" in err.problem
    p.write_text("4 5\n" + "\n".join(_text_lines(WORDS, vectors)) + "\n")
    err = _error(p)
    assert err.line == 6 and "declares 4 vectors but the file has more" in err.problem


def test_binary_truncated_mid_vector(tmp_path, vectors):
    p = tmp_path / "v.bin"
    save_word2vec_binary(p, WORDS, vectors)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 9])  # last record: 12 of its 20 bytes remain
    err = _error(p)
    assert (
        err.line == 7
        and "record 6 of 6" in err.problem
        and "ends after 12 of the vector's 20 bytes" in err.problem
    )
    assert "'e-mail'" in err.problem


def test_binary_header_count_mismatch(tmp_path, vectors):
    p = tmp_path / "v.bin"
    save_word2vec_binary(p, WORDS, vectors)
    body = p.read_bytes().split(b"\n", 1)[1]
    p.write_bytes(b"8 5\n" + body)
    err = _error(p)
    assert err.line == 8 and "declares 8 vectors but the file ends after 6" in err.problem
    p.write_bytes(b"5 5\n" + body)
    err = _error(p)
    assert err.line == 7 and "more data follows" in err.problem


def test_bad_header_and_empty_and_unknown_format(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    assert "empty" in _error(p).problem
    q = tmp_path / "junk.bin"
    q.write_bytes(bytes(range(256)) * 4)
    assert "not a word-vector file" in _error(q).problem
    with pytest.raises(ValueError, match="known formats"):
        load_static_file(q, family="word2vec", format="fasttext")
