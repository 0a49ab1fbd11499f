"""The tokenization report (embeddings/hf_tokenization.py), counted against the tokenizer itself."""

from __future__ import annotations

import pytest
import torch
from hf_tiny import build_tiny_bert, build_tiny_gpt2

import embeddings
from embeddings.hf.tokenization import STAT_KEYS, tokenization_stats


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("tok")
    yield (
        embeddings.load(f"hf:{build_tiny_bert(root / 'bert')}"),
        embeddings.load(f"hf:{build_tiny_gpt2(root / 'gpt2')}"),
    )
    torch.set_num_threads(old)


def test_counts_match_the_tokenizer(tiny):
    bert, gpt2 = tiny
    sentences = [["the", "muddy", "✓", ""], ["bank", "unbelievably"]]
    for emb, prefix in ((bert, ""), (gpt2, " ")):
        tok = emb.tokenizer
        pieces = [
            tok.convert_ids_to_tokens(tok(prefix + w, add_special_tokens=False)["input_ids"]) if w else []
            for s in sentences
            for w in s
        ]
        n_pieces = sum(len(p) for p in pieces)
        unk = sum(p.count(tok.unk_token) for p in pieces)
        stats = tokenization_stats(emb, sentences)
        assert set(STAT_KEYS) <= set(stats)
        assert stats["n_words"] == 6 and stats["n_sentences"] == 2
        assert stats["n_pieces"] == n_pieces
        assert stats["pieces_per_word"] == pytest.approx(n_pieces / 5)  # over the 5 words with pieces
        assert stats["share_split"] == pytest.approx(sum(len(p) > 1 for p in pieces) / 6)
        assert stats["share_unknown_pieces"] == pytest.approx(unk / n_pieces)
        assert stats["share_no_pieces"] == pytest.approx(1 / 6)
        assert stats["max_pieces_per_word"] == max(len(p) for p in pieces)
    assert tokenization_stats(bert, sentences)["share_unknown_pieces"] > 0  # WordPiece: [UNK] for ✓
    assert tokenization_stats(gpt2, sentences)["share_unknown_pieces"] == 0  # bytes: never unknown
    assert tokenization_stats(gpt2, sentences)["tokenizer"] == "byte-level BPE"
    assert tokenization_stats(bert, sentences)["tokenizer"] == "WordPiece"
    assert bert.tokenization_stats(sentences) == tokenization_stats(bert, sentences)


def test_empty_input(tiny):
    stats = tokenization_stats(tiny[0], [[], []])
    assert stats["n_words"] == 0 and stats["pieces_per_word"] == 0.0
