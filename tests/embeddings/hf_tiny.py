"""Tiny randomly initialised BERT and GPT-2 checkpoints, saved like real ones.

The tokenizers are trained here with the ``tokenizers`` library on a few sentences (a
WordPiece one for BERT, a byte-level BPE one for GPT-2), so the adapters' tests go through
the real ``from_pretrained`` path offline, in well under a second per model.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertModel, BertTokenizerFast, GPT2Config, GPT2Model, GPT2TokenizerFast

CORPUS = [
    "the river bank was muddy after the rain",
    "she deposited the cheque at the bank yesterday",
    "the cat sat on the mat and then it went to the bank of the river",
    "a quick brown fox jumps over the lazy dog",
    "money in the bank account earns interest every month",
    "they walked along the river and watched the boats",
] * 3


def build_tiny_bert(directory: Path, *, max_positions: int = 64, seed: int = 0) -> Path:
    """A 2-layer, 32-wide BERT with a ~120-piece uncased WordPiece vocabulary."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(CORPUS, trainers.WordPieceTrainer(vocab_size=120, special_tokens=specials))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    fast = BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                             pad_token="[PAD]", mask_token="[MASK]", do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=max_positions,
                        architectures=["BertForMaskedLM"])
    BertModel(config).save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


def build_tiny_gpt2(directory: Path, *, max_positions: int = 64, seed: int = 0) -> Path:
    """A 2-layer, 32-wide GPT-2 with a byte-level BPE vocabulary (256 bytes + ~100 merges)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=360, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    fast = GPT2TokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                             unk_token="<|endoftext|>")
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=tok.get_vocab_size(), n_embd=32, n_layer=2, n_head=2,
                        n_positions=max_positions, architectures=["GPT2LMHeadModel"],
                        bos_token_id=tok.token_to_id("<|endoftext|>"), eos_token_id=tok.token_to_id("<|endoftext|>"))
    GPT2Model(config).save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory
