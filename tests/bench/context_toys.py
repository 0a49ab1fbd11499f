"""Tiny embedders with known geometry, for the context-task tests.

``CueEmbedder`` encodes a word's sense from cue words in its sentence, with two layers:
``emb`` (the word's own one-hot: static) and ``ctx`` (the sum of the one-hot sense vectors
of the cue words it can see; its own one-hot when it sees none). ``direction`` says which
cues it sees: ``"bi"`` (all), ``"left"`` (only cues before the word) or ``"none"`` (static:
both layers are the word's one-hot).
"""

from __future__ import annotations

import numpy as np

from bench.probes import ProbeItem
from embeddings.base import Embedder

SENSES = {"river": 0, "money": 1, "fish": 2, "music": 3}
CUES = {
    "river": "river",
    "water": "river",
    "money": "money",
    "loan": "money",
    "trout": "fish",
    "caught": "fish",
    "guitar": "music",
    "played": "music",
}
TARGETS = {"bank": 4, "bass": 5}
OTHER = 6
DIM = 8


def onehot(i: int) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    v[i] = 1.0
    return v


class CueEmbedder(Embedder):
    def __init__(self, direction: str = "bi") -> None:
        self.direction = direction
        self.contextual = direction != "none"
        self.name = f"cue-{direction}"
        self.layers = ["emb", "ctx"]
        self.layer_dims = [DIM, DIM]

    def _own(self, word: str) -> np.ndarray:
        w = word.lower()
        if w in TARGETS:
            return onehot(TARGETS[w])
        if w in CUES:
            return onehot(SENSES[CUES[w]])
        return onehot(OTHER)

    def _embed(self, sentences):
        out = []
        for s in sentences:
            vecs = np.zeros((len(s), 2, DIM), np.float32)
            for i, w in enumerate(s):
                vecs[i, 0] = self._own(w)
                visible = (
                    []
                    if self.direction == "none"
                    else (s[:i] if self.direction == "left" else s[:i] + s[i + 1 :])
                )
                cue = sum(
                    (onehot(SENSES[CUES[c.lower()]]) for c in visible if c.lower() in CUES),
                    np.zeros(DIM, np.float32),
                )
                vecs[i, 1] = cue if w.lower() in TARGETS and cue.any() else self._own(w)
            out.append((vecs, np.zeros(len(s), bool)))
        return out


class OneHotStatic(Embedder):
    """Static: every word type its own orthogonal one-hot vector (dimension = vocabulary size)."""

    name = "onehot-static"
    contextual = False
    direction = "none"

    def __init__(self, vocab: list[str]) -> None:
        self.vocab = {w: i for i, w in enumerate(sorted(set(vocab)))}
        self.layers = ["emb"]
        self.layer_dims = [len(self.vocab)]

    def _embed(self, sentences):
        out = []
        for s in sentences:
            v = np.zeros((len(s), 1, self.dim), np.float32)
            for i, w in enumerate(s):
                v[i, 0, self.vocab[w.lower()]] = 1.0
            out.append((v, np.zeros(len(s), bool)))
        return out


class WordPlusSentence(Embedder):
    """Contextual: one-hot of the word type plus one-hot of the sentence (its first word's slot)."""

    name = "word-plus-sentence"
    contextual = True
    direction = "bi"

    def __init__(self, vocab: list[str], sentence_ids: dict[tuple[str, ...], int]) -> None:
        self.vocab = {w: i for i, w in enumerate(sorted(set(vocab)))}
        self.sentence_ids = sentence_ids
        self.layers = ["emb"]
        self.layer_dims = [len(self.vocab) + len(sentence_ids)]

    def _embed(self, sentences):
        out = []
        for s in sentences:
            v = np.zeros((len(s), 1, self.dim), np.float32)
            for i, w in enumerate(s):
                v[i, 0, self.vocab[w.lower()]] = 1.0
                v[i, 0, len(self.vocab) + self.sentence_ids[tuple(s)]] = 1.0
            out.append((v, np.zeros(len(s), bool)))
        return out


# sentences with the cue before / after the target, per (word, sense)
BEFORE = {
    ("bank", "river"): [
        ["the", "river", "bank"],
        ["water", "near", "the", "bank"],
        ["by", "river", "and", "bank"],
    ],
    ("bank", "money"): [
        ["the", "money", "bank"],
        ["a", "loan", "from", "the", "bank"],
        ["money", "in", "the", "bank"],
    ],
    ("bass", "fish"): [["trout", "and", "bass"], ["he", "caught", "a", "bass"], ["caught", "one", "bass"]],
    ("bass", "music"): [["guitar", "and", "bass"], ["she", "played", "bass"], ["played", "the", "bass"]],
}
AFTER = {k: [list(reversed(s)) for s in v] for k, v in BEFORE.items()}


def probe_items(cue: str | None = None) -> list[ProbeItem]:
    """3 sentences per sense, 2 senses per word, 2 words; cue before (or after) the target."""
    table = AFTER if cue == "after" else BEFORE
    items = []
    for (word, sense), sents in table.items():
        for s in sents:
            items.append(ProbeItem(word, f"{word}.{sense}", tuple(s), s.index(word), cue))
    return items


class TableEmbedder(Embedder):
    """Static in form, contextual in effect: every word of a sentence gets the vector the table gives
    that SENTENCE (one layer, ``emb``); sentences not in the table get zeros (OOV)."""

    name = "table"
    contextual = True
    direction = "bi"
    layers = ["emb"]

    def __init__(self, table: dict[tuple[str, ...], np.ndarray]) -> None:
        self.table = {k: np.asarray(v, np.float32) for k, v in table.items()}
        self.layer_dims = [len(next(iter(self.table.values())))]

    def _embed(self, sentences):
        out = []
        for s in sentences:
            v = self.table.get(tuple(s), np.zeros(self.dim, np.float32))
            out.append((np.tile(v, (len(s), 1, 1)), np.zeros(len(s), bool)))
        return out


def correlated_probe(n_words: int = 20, per_sense: int = 3) -> tuple[list[ProbeItem], TableEmbedder, list[float]]:
    """A polysemy probe whose items are right or wrong together, word by word.

    Words ``w0 ... w{n-1}``, two senses each, ``per_sense`` sentences per sense. The first half
    of the words get their sense's one-hot (every sentence's nearest other sentence has its
    sense: all right); the other half pair sentence i of sense a with sentence i of sense b
    (identical vectors: every nearest neighbour is the other sense: all wrong). Returns the
    items, the embedder and each item's leave-one-out correctness worked out by hand.
    """
    items, table, correct = [], {}, []
    for w in range(n_words):
        good = w < n_words // 2
        for sense in ("a", "b"):
            for i in range(per_sense):
                sent = (f"w{w}", f"{sense}{i}", "end")
                items.append(ProbeItem(f"w{w}", f"w{w}.{sense}", sent, 0, None))
                table[sent] = onehot(0 if sense == "a" else 1) if good else onehot(2 + i)
                correct.append(1.0 if good else 0.0)
    return items, TableEmbedder(table), correct
