"""Character ids of the official ELMo (bilm-tf) format.

Every token becomes ``max_characters_per_token`` (50) ids: beginning-of-word 258, the
UTF-8 bytes of the token (truncated to ``max - 2``), end-of-word 259, then padding 260. The
sentence boundary tokens ``<S>`` and ``</S>`` are the single characters 256 and 257, wrapped
in beginning/end-of-word like any word. Every id is then shifted by +1 so that 0 is free for
masked (padding) tokens; the char embedding gets a zero row 0 to match.

Examples
--------
>>> ids = word_char_ids("ab", 6)
>>> ids.tolist()
[259, 98, 99, 260, 261, 261]
>>> word_char_ids(BOS, 6).tolist()
[259, 257, 260, 261, 261, 261]
>>> batch_char_ids([["a"], ["a", "bc"]], 5).shape
(2, 2, 5)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BOS = "<S>"
EOS = "</S>"

BOS_CHAR = 256
EOS_CHAR = 257
BOW_CHAR = 258
EOW_CHAR = 259
PAD_CHAR = 260
#: ids 0..260 in the file, plus the mask id 0 after the +1 shift
N_CHAR_IDS = 262


def word_char_ids(word: str, max_chars: int = 50) -> np.ndarray:
    """The (max_chars,) int64 ids of one token, already shifted by +1."""
    if max_chars < 3:
        raise ValueError(f"max_characters_per_token must be >= 3, got {max_chars}")
    out = np.full(max_chars, PAD_CHAR, dtype=np.int64)
    if word == BOS:
        body: Sequence[int] = [BOS_CHAR]
    elif word == EOS:
        body = [EOS_CHAR]
    else:
        body = list(word.encode("utf-8", "ignore")[: max_chars - 2])
    out[0] = BOW_CHAR
    out[1 : 1 + len(body)] = body
    out[1 + len(body)] = EOW_CHAR
    return out + 1


def batch_char_ids(sentences: Sequence[Sequence[str]], max_chars: int = 50) -> np.ndarray:
    """(n_sentences, max_len, max_chars) ids; padded token slots are all 0 (the mask id)."""
    n_max = max((len(s) for s in sentences), default=0)
    out = np.zeros((len(sentences), n_max, max_chars), dtype=np.int64)
    for i, sent in enumerate(sentences):
        for j, word in enumerate(sent):
            out[i, j] = word_char_ids(word, max_chars)
    return out
