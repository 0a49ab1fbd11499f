"""The transformers adapter (embeddings/hf.py) on tiny random BERT / GPT-2 checkpoints.

Expected values come from running the model and tokenizer directly (running-text
tokenization, the model's own hidden_states), never from the adapter's helpers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hf_tiny import CORPUS, build_tiny_bert, build_tiny_gpt2
from transformers import (
    AutoModel,
    AutoTokenizer,
    BertConfig,
    LlamaConfig,
    OpenAIGPTConfig,
    RobertaConfig,
    T5Config,
)

import embeddings
from embeddings.hf import detect_direction
from embeddings.testing import check_embedder


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models on 2 shared cores: more threads only spin (20x slower under load)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-hf")
    return {
        "bert": build_tiny_bert(root / "bert"),
        "gpt2": build_tiny_gpt2(root / "gpt2"),
        # long position tables: windowing is forced with max_length, the unwindowed run still fits
        "bert-long": build_tiny_bert(root / "bert-long", max_positions=4096),
        "gpt2-long": build_tiny_gpt2(root / "gpt2-long", max_positions=4096),
    }


@pytest.fixture(scope="module")
def bert(tiny_dirs):
    return embeddings.load(f"hf:{tiny_dirs['bert']}")


@pytest.fixture(scope="module")
def gpt2(tiny_dirs):
    return embeddings.load(f"hf:{tiny_dirs['gpt2']}")


def hidden_states(directory, ids: list[int]) -> np.ndarray:
    """The model's own hidden states for one input, (n_positions, n_layers, dim)."""
    model = AutoModel.from_pretrained(directory).eval()
    with torch.inference_mode():
        hs = model(input_ids=torch.tensor([ids]), output_hidden_states=True).hidden_states
    return torch.stack([h[0] for h in hs], dim=1).numpy()


# -- family and direction ---------------------------------------------------------------
def test_loaded_families_and_layers(bert, gpt2):
    assert (bert.family, bert.direction, bert.contextual) == ("bert", "bi", True)
    assert (gpt2.family, gpt2.direction, gpt2.contextual) == ("gpt", "left", True)
    assert bert.layers == gpt2.layers == ["emb", "1", "2"]
    assert bert.layer_dims == gpt2.layer_dims == [32, 32, 32]
    assert bert.pooling == "mean" and gpt2.pooling == "last"
    assert bert.name.startswith("hf:")


@pytest.mark.parametrize(
    "config, expected",
    [
        (BertConfig(), "bi"),
        (RobertaConfig(), "bi"),
        (BertConfig(is_decoder=True), "left"),
        (LlamaConfig(), "left"),
        (OpenAIGPTConfig(), "left"),
        (BertConfig(architectures=["BertForMaskedLM"]), "bi"),
    ],
)
def test_detect_direction(config, expected):
    assert detect_direction(config) == expected


def test_encoder_decoder_refused():
    with pytest.raises(ValueError, match="encoder-decoder"):
        detect_direction(T5Config())


def test_missing_directory_says_what_loads_offline(tmp_path):
    with pytest.raises(OSError, match="minilm-l6"):
        embeddings.load(f"hf:{tmp_path / 'nothing-here'}")


# -- vectors equal the model's own hidden states ------------------------------------------
def test_single_piece_words_equal_hidden_states_bert(bert, tiny_dirs):
    words = ["the", "river", "bank", "was", "muddy"][:3] + ["the", "cat"]
    tok = AutoTokenizer.from_pretrained(tiny_dirs["bert"])
    enc = tok(" ".join(words))  # running text: [CLS] the river bank the cat [SEP]
    assert len(enc["input_ids"]) == len(words) + 2, "test words must be single pieces"
    expected = hidden_states(tiny_dirs["bert"], enc["input_ids"])[1:-1]
    got = bert.embed([words])[0].vectors
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_single_piece_words_equal_hidden_states_gpt2(gpt2, tiny_dirs):
    words = ["the", "river", "bank", "the", "cat"]
    tok = AutoTokenizer.from_pretrained(tiny_dirs["gpt2"])
    ids = tok(" " + " ".join(words))["input_ids"]  # mid-sentence form of every word
    assert len(ids) == len(words), "test words must be single pieces"
    bos = tok.convert_tokens_to_ids("<|endoftext|>")
    expected = hidden_states(tiny_dirs["gpt2"], [bos] + ids)[1:]
    np.testing.assert_allclose(gpt2.embed([words])[0].vectors, expected, atol=1e-5)


@pytest.mark.parametrize("pooling", ["first", "mean", "last"])
def test_multi_piece_words_pool_their_pieces_gpt2(tiny_dirs, pooling):
    emb = embeddings.load(f"hf:{tiny_dirs['gpt2']}", pooling=pooling)
    words = ["the", "unbelievably", "muddy", "bank", "!"]
    tok = AutoTokenizer.from_pretrained(tiny_dirs["gpt2"])
    per_word = [tok(" " + w)["input_ids"] for w in words]
    running = tok(" " + " ".join(words))["input_ids"]
    assert sum(per_word, []) == running, "byte-level pieces of a word do not depend on neighbours"
    assert len(per_word[1]) > 2 and len(per_word[2]) > 1
    bos = tok.convert_tokens_to_ids("<|endoftext|>")
    hs = hidden_states(tiny_dirs["gpt2"], [bos] + running)
    got = emb.embed([words])[0].vectors
    pos = 1
    for i, ids in enumerate(per_word):
        block = hs[pos : pos + len(ids)]
        want = {"first": block[0], "last": block[-1], "mean": block.mean(axis=0)}[pooling]
        np.testing.assert_allclose(got[i], want, atol=1e-5, err_msg=f"word {words[i]!r}")
        pos += len(ids)


@pytest.mark.parametrize("pooling", ["first", "mean", "last"])
def test_multi_piece_words_pool_their_pieces_bert(tiny_dirs, pooling):
    emb = embeddings.load(f"hf:{tiny_dirs['bert']}", pooling=pooling)
    words = ["The", "muddy", "bank", "deposited", "cheque"]
    tok = AutoTokenizer.from_pretrained(tiny_dirs["bert"])
    enc = tok(" ".join(words), return_offsets_mapping=True)
    # map running-text pieces to words by character offsets
    starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
    owner = [
        None if a == b else int(np.searchsorted(starts, a, side="right") - 1)
        for a, b in enc["offset_mapping"]
    ]
    sizes = [owner.count(i) for i in range(len(words))]
    assert max(sizes) > 1, f"need a multi-piece word, got {tok.convert_ids_to_tokens(enc['input_ids'])}"
    hs = hidden_states(tiny_dirs["bert"], enc["input_ids"])
    got = emb.embed([words])[0].vectors
    for i in range(len(words)):
        block = hs[[k for k, o in enumerate(owner) if o == i]]
        want = {"first": block[0], "last": block[-1], "mean": block.mean(axis=0)}[pooling]
        np.testing.assert_allclose(got[i], want, atol=1e-5, err_msg=f"word {words[i]!r}")


# -- direction shows in behaviour ----------------------------------------------------------
def test_left_context_only_for_causal_models(bert, gpt2):
    a = ["the", "river", "bank", "was", "muddy", "after", "the", "rain"]
    b = a[:4] + ["a", "lazy", "fox", "jumps", "over"]
    i = 3
    ga, gb = gpt2.embed([a, b])
    assert np.abs(ga.vectors[: i + 1] - gb.vectors[: i + 1]).max() <= 1e-6
    assert np.abs(ga.vectors[i + 1] - gb.vectors[i + 1]).max() > 1e-3
    ba, bb = bert.embed([a, b])
    assert np.abs(ba.vectors[1 : i + 1, 1:] - bb.vectors[1 : i + 1, 1:]).max() > 1e-3, (
        "encoder sees the right"
    )


# -- byte-level leading-space convention ---------------------------------------------------
def test_byte_level_words_get_their_running_text_pieces(gpt2, tiny_dirs):
    words = ["The", "river", "bank", ",", "muddy", "!", "naïve", "O'Neill", "x2"]
    tok = AutoTokenizer.from_pretrained(tiny_dirs["gpt2"])
    text = " ".join(words)
    enc = tok(text, return_offsets_mapping=True)
    starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
    running: list[list[str]] = [[] for _ in words]
    tokens = tok.convert_ids_to_tokens(enc["input_ids"])
    for piece, (a, _b) in zip(tokens, enc["offset_mapping"], strict=True):
        running[int(np.searchsorted(starts, a + 1, side="right") - 1)].append(
            piece
        )  # a+1: offsets include the space
    wp = gpt2.word_pieces([words])[0]
    ours = [tok.convert_ids_to_tokens(wp.ids[s:e]) for s, e in wp.spans]
    assert ours[1:] == running[1:]
    assert ours[0] == tok.convert_ids_to_tokens(tok(" " + words[0])["input_ids"]), (
        "first word: mid-sentence form"
    )
    assert all(p[0].startswith("Ġ") for p in ours)


def test_gpt2_gets_bos_bert_gets_cls_sep(bert, gpt2):
    assert gpt2.prefix == [gpt2.tokenizer.convert_tokens_to_ids("<|endoftext|>")] and gpt2.suffix == []
    assert bert.prefix == [bert.tokenizer.cls_token_id] and bert.suffix == [bert.tokenizer.sep_token_id]


def test_bos_false_changes_first_word(tiny_dirs, gpt2):
    nobos = embeddings.load(f"hf:{tiny_dirs['gpt2']}", bos=False)
    assert nobos.prefix == []
    words = ["the", "river"]
    a, b = gpt2.embed([words])[0].vectors, nobos.embed([words])[0].vectors
    assert not np.allclose(a[0, 1:], b[0, 1:], atol=1e-3)


# -- blank words, unknown words, lower-casing ---------------------------------------------
def test_blank_and_unknown_words(bert, gpt2):
    words = ["the", "", "bank", "  ", "✓", "river"]
    for emb in (bert, gpt2):
        wv = emb.embed([words])[0]
        assert wv.vectors.shape == (6, 3, 32)
        assert wv.oov[1] and wv.oov[3]
        assert not np.any(wv.vectors[[1, 3]])
        assert not wv.oov[[0, 2, 5]].any()
    # WordPiece has no piece for a dingbat: [UNK] -> oov, but the vector is the model's
    wv = bert.embed([words])[0]
    assert wv.oov[4] and np.abs(wv.vectors[4]).max() > 0
    # byte-level BPE always has pieces (bytes): never unknown
    assert not gpt2.embed([words])[0].oov[4]
    # the blank words do not disturb their neighbours
    clean = bert.embed([["the", "bank", "✓", "river"]])[0].vectors
    np.testing.assert_allclose(bert.embed([words])[0].vectors[[0, 2, 4, 5]], clean, atol=1e-5)


def test_lowercase_option(tiny_dirs, gpt2):
    with pytest.raises(ValueError, match="lower-cases"):
        embeddings.load(f"hf:{tiny_dirs['bert']}", lowercase=False)
    low = embeddings.load(f"hf:{tiny_dirs['gpt2']}", lowercase=True)
    assert low.config()["lowercase"] is True and gpt2.config()["lowercase"] is False
    np.testing.assert_array_equal(
        low.embed([["The", "RIVER"]])[0].vectors, gpt2.embed([["the", "river"]])[0].vectors
    )
    assert not np.allclose(gpt2.embed([["The"]])[0].vectors, gpt2.embed([["the"]])[0].vectors)


# -- batching --------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["bert", "gpt2"])
def test_padded_batches_equal_single_sentences(tiny_dirs, which):
    batched = embeddings.load(f"hf:{tiny_dirs[which]}", forward_batch=8, batch_size=8)
    sents = [s.split() for s in CORPUS[:6]] + [["bank"], ["the", "unbelievably", "muddy", "river"]]
    together = batched.embed(sents)
    for s, wv in zip(sents, together, strict=True):
        alone = batched.embed([s])[0]
        np.testing.assert_allclose(wv.vectors, alone.vectors, atol=1e-5)


def test_one_window_per_pass_is_bitwise_batch_invariant(tiny_dirs):
    gpt2 = embeddings.load(f"hf:{tiny_dirs['gpt2']}", forward_batch=1)
    assert gpt2.forward_batch == 1
    sents = [s.split() for s in CORPUS[:5]]
    together = gpt2.embed(sents)
    for s, wv in zip(sents, together, strict=True):
        np.testing.assert_array_equal(wv.vectors, gpt2.embed([s])[0].vectors)


# -- windows ---------------------------------------------------------------------------------
def long_sentence(n: int) -> list[str]:
    words = " ".join(CORPUS).split()
    return (words * (n // len(words) + 1))[:n]


@pytest.mark.parametrize("which", ["bert-long", "gpt2-long"])
def test_2000_words_windowed_match_direct_runs(tiny_dirs, which):
    full = embeddings.load(f"hf:{tiny_dirs[which]}")
    win = embeddings.load(f"hf:{tiny_dirs[which]}", max_length=32, forward_batch=16)
    words = long_sentence(2000)
    got = win.embed([words])[0]
    assert got.vectors.shape == (2000, 3, 32) and np.isfinite(got.vectors).all()
    assert not got.oov.any()
    # a sentence that fits is untouched by the window setting
    short = words[:12]
    np.testing.assert_allclose(win.embed([short])[0].vectors, full.embed([short])[0].vectors, atol=1e-5)
    # each word equals the model run on one window (a word-aligned slice of the sentence,
    # within max_length pieces); find the slice: the vector must match one of the windows
    # that contain it, and no window may exceed 32 positions
    if win.direction == "left":
        unwindowed = full.embed([words])[0].vectors
        # the first 16 words only ever sit in the first window: same left context as unwindowed
        np.testing.assert_allclose(got.vectors[:16], unwindowed[:16], atol=1e-5)
        assert not np.allclose(got.vectors[-10:], unwindowed[-10:], atol=1e-3)  # windows did cut context


@pytest.mark.parametrize("which", ["bert-long", "gpt2-long"])
def test_windowed_word_takes_vector_from_its_best_window(tiny_dirs, which):
    win = embeddings.load(f"hf:{tiny_dirs[which]}", max_length=12, window_overlap=4)
    vocab = sorted(set(" ".join(CORPUS).split()))
    tok = AutoTokenizer.from_pretrained(tiny_dirs[which])
    prefix = " " if win.byte_level else ""
    single = [w for w in vocab if len(tok(prefix + w, add_special_tokens=False)["input_ids"]) == 1]
    assert len(single) > 10
    words = (single * 10)[:60]
    wp = win.word_pieces([words])[0]
    assert all(e - s == 1 for s, e in wp.spans), "the test words are single pieces"
    # with one-piece words, windows are a regular grid of word slices: B words, step B - overlap
    budget = 12 - len(win.prefix) - len(win.suffix)
    step = budget - 4
    starts = [0]
    while starts[-1] + budget < len(words):
        starts.append(starts[-1] + step)
    windows = [(s, min(s + budget, len(words))) for s in starts]
    got = win.embed([words])[0].vectors
    direct = [win.embed([words[s:e]])[0].vectors for s, e in windows]
    for i in range(len(words)):
        holding = [j for j, (s, e) in enumerate(windows) if s <= i < e]
        if win.direction == "left":  # most left context
            score = [i - windows[j][0] for j in holding]
        else:  # most centred
            score = [min(i - windows[j][0], windows[j][1] - 1 - i) for j in holding]
        best = holding[int(np.argmax(score))]
        np.testing.assert_allclose(got[i], direct[best][i - windows[best][0]], atol=1e-5, err_msg=f"word {i}")


# -- the conformance kit -------------------------------------------------------------------
@pytest.mark.parametrize("which", ["bert", "gpt2"])
def test_conformance_tiny(tiny_dirs, which):
    check_embedder(embeddings.load(f"hf:{tiny_dirs[which]}"))


def test_config_rebuilds_and_fingerprint_tracks_options(tiny_dirs, bert):
    again = embeddings.load(bert.config()["name"], **{k: v for k, v in bert.config().items() if k != "name"})
    assert again.fingerprint() == bert.fingerprint()
    assert embeddings.load(bert.name, pooling="first").fingerprint() != bert.fingerprint()
    other = embeddings.load(f"hf:{tiny_dirs['bert-long']}")
    assert other.weights_identity() != bert.weights_identity()
