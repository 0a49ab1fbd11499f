"""fastai's text conventions, applied to words the caller already tokenized.

fastai (v2, ``fastai.text.core``) lower-cases text and marks case with a token placed
BEFORE the word, then puts ``xxbos`` at the start of every text:

- a word of two or more characters in Sentence case (``[A-Z][^A-Z\\s]*``: "Bank",
  "O'neill") becomes ``xxmaj bank``;
- a word of two or more characters in all caps (``[A-Z]+[^a-z\\s]*``: "NASA", "U.S.")
  becomes ``xxup nasa``;
- any other word is lower-cased ("I" -> "i", "McDonald" -> "mcdonald", no marker);
- a token not in the vocabulary becomes ``xxunk``.

The rules are fastai's regular expressions applied to one word at a time (the caller's
tokenization is kept: fastai's own spaCy tokenizer and its character-repetition rules
``xxrep``/``xxwrep`` are not applied, since the benchmark's words are given).

Alignment back to the caller's words: a word is represented by the position of its OWN
token (the lower-cased word), never by its marker. Reading left to right the word's token
comes after its marker, so the forward state there has seen the case. A backward model
reads the reversed sequence (``xxbos`` first, then the last word, ...), where each word's
marker comes after the word: its state at the word has not seen the word's own marker (it
has seen the markers of the words to its right).

Examples
--------
>>> word_pieces("Bank"), word_pieces("NASA"), word_pieces("I"), word_pieces("river")
(['xxmaj', 'bank'], ['xxup', 'nasa'], ['i'], ['river'])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embeddings.ulmfit.vocab import BOS, TK_MAJ, TK_UP, Vocab

_ALL_CAPS = re.compile(r"[A-Z]+[^a-z\s]*")
_MAJ = re.compile(r"[A-Z][^A-Z\s]*")


def word_pieces(word: str, *, markers: bool = True) -> list[str]:
    """The fastai tokens of one word: an optional case marker, then the lower-cased word."""
    low = word.lower()
    if markers and len(word) > 1:
        # fastai applies replace_all_caps before replace_maj; a word matching the first
        # is already lower-case when the second runs
        if _ALL_CAPS.fullmatch(word):
            return [TK_UP, low]
        if _MAJ.fullmatch(word):
            return [TK_MAJ, low]
    return [low]


@dataclass(frozen=True)
class Encoded:
    """One sentence as model input.

    Attributes
    ----------
    ids : int64 array (n_tokens,)
        Token ids, starting with ``xxbos``; reversed word order when ``backward``.
    positions : int64 array (n_words,)
        For each caller word (in the caller's order), the index in ``ids`` of its own token.
    oov : bool array (n_words,)
        True where the word became ``xxunk``.
    """

    ids: np.ndarray
    positions: np.ndarray
    oov: np.ndarray


def encode_words(words: Sequence[str], vocab: Vocab, *, backward: bool = False,
                 markers: bool = True) -> Encoded:
    """Turn caller words into fastai token ids and the position of each word's token.

    Markers are inserted only when the vocabulary has them (a vocabulary without
    ``xxmaj``/``xxup`` was trained without case marking); ``xxbos`` likewise.

    Examples
    --------
    >>> v = Vocab(["xxunk", "xxpad", "xxbos", "xxmaj", "the", "bank"])
    >>> e = encode_words(["The", "bank", "Zorg"], v)
    >>> [v.itos[i] for i in e.ids], e.positions.tolist(), e.oov.tolist()
    (['xxbos', 'xxmaj', 'the', 'bank', 'xxmaj', 'xxunk'], [2, 3, 5], [False, False, True])
    >>> e = encode_words(["The", "bank"], v, backward=True)
    >>> [v.itos[i] for i in e.ids], e.positions.tolist()
    (['xxbos', 'bank', 'the', 'xxmaj'], [2, 1])
    """
    use_markers = markers and (TK_MAJ in vocab or TK_UP in vocab)
    per_word: list[list[str]] = []
    for w in words:
        pieces = word_pieces(w, markers=use_markers)
        if len(pieces) == 2 and pieces[0] not in vocab:
            pieces = pieces[1:]
        per_word.append(pieces)
    ids: list[int] = [vocab.index(BOS)] if BOS in vocab else []
    positions = np.zeros(len(words), dtype=np.int64)
    oov = np.zeros(len(words), dtype=bool)
    order = range(len(words) - 1, -1, -1) if backward else range(len(words))
    for i in order:
        pieces = per_word[i]
        own = len(pieces) - 1  # the word's own token is the last piece (after any marker)
        for k in (range(own, -1, -1) if backward else range(own + 1)):
            if k == own:
                positions[i] = len(ids)
                oov[i] = pieces[k] not in vocab
            ids.append(vocab.index(pieces[k]))
    return Encoded(np.asarray(ids, dtype=np.int64), positions, oov)


def text_to_ids(sentences: Sequence[Sequence[str]], vocab: Vocab, *, markers: bool = True,
                backward: bool = False) -> np.ndarray:
    """A language-model token stream: each sentence as ``xxbos`` + its fastai tokens, concatenated.

    This is how fastai builds a language-model corpus (texts joined, each opened by
    ``xxbos``); the stand-in and fine-tuning train on it. ``backward``: each sentence's
    tokens reversed after its ``xxbos`` (what a backward model reads, see :func:`encode_words`).
    """
    chunks = [encode_words(s, vocab, markers=markers, backward=backward).ids for s in sentences if len(s)]
    if not chunks:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(chunks)


def build_vocab(sentences: Sequence[Sequence[str]], *, min_freq: int = 3, max_vocab: int = 60000,
                markers: bool = True) -> list[str]:
    """A fastai-style vocabulary (``itos``) of a corpus of words.

    fastai's special tokens come first, in fastai's order; then the lower-cased tokens seen
    at least ``min_freq`` times, most frequent first (ties by the token, for determinism),
    up to ``max_vocab`` entries in all.

    Examples
    --------
    >>> build_vocab([["The", "bank"], ["the", "river", "bank"]], min_freq=2)[-2:]
    ['bank', 'the']
    """
    from collections import Counter

    from embeddings.ulmfit.vocab import SPECIAL_TOKENS

    counts: Counter[str] = Counter()
    for s in sentences:
        for w in s:
            counts.update(word_pieces(w, markers=markers))
    itos = list(SPECIAL_TOKENS)
    special = set(itos)
    ranked = sorted((t for t, c in counts.items() if c >= min_freq and t not in special),
                    key=lambda t: (-counts[t], t))
    return itos + ranked[: max(0, max_vocab - len(itos))]
