"""What a task needs embedded, declared before anything is embedded.

A task lists its inputs (:meth:`bench.tasks.base.Task.inputs`): the word positions whose
vectors it will read (``targets``) and the sentences whose pooled vectors it will read
(``pooled``). The runner merges the requests of every task a model runs, embeds each
distinct sentence ONCE in one canonical order, and keeps only what was asked for (not
every token of every layer).

Examples
--------
>>> r = Requests()
>>> r.add_targets([["the", "bank"], ["the", "bank"]], [1, 0])
>>> r.add_words(["bank"])
>>> r.add_pooled([["a", "b"]])
>>> sorted(r.targets[("the", "bank")]), sorted(r.targets[("bank",)]), r.n_vectors
([0, 1], [0], 4)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Sentence = tuple[str, ...]
POOLINGS = ("mean", "max")


@dataclass
class Requests:
    """Word positions and pooled sentences one or more tasks will read."""

    #: sentence -> positions whose vectors are needed
    targets: dict[Sentence, set[int]] = field(default_factory=dict)
    #: sentence -> poolings ("mean", "max") of its word vectors that are needed
    pooled: dict[Sentence, set[str]] = field(default_factory=dict)

    def add_targets(self, sentences: Iterable[Sequence[str]], indices: Iterable[int]) -> None:
        for sent, idx in zip(sentences, indices, strict=True):
            s = tuple(sent)
            if not 0 <= idx < len(s):
                raise IndexError(f"target index {idx} outside a sentence of {len(s)} words")
            self.targets.setdefault(s, set()).add(int(idx))

    def add_words(self, words: Iterable[str]) -> None:
        """Each word alone, as a one-word sentence (decontextualized vectors)."""
        for w in words:
            self.targets.setdefault((w,), set()).add(0)

    def add_sentences(self, sentences: Iterable[Sequence[str]]) -> None:
        """Every position of each sentence."""
        for sent in sentences:
            s = tuple(sent)
            self.targets.setdefault(s, set()).update(range(len(s)))

    def add_pooled(self, sentences: Iterable[Sequence[str]], pooling: str = "mean") -> None:
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        for sent in sentences:
            self.pooled.setdefault(tuple(sent), set()).add(pooling)

    def merge(self, other: Requests) -> Requests:
        for s, pos in other.targets.items():
            self.targets.setdefault(s, set()).update(pos)
        for s, pools in other.pooled.items():
            self.pooled.setdefault(s, set()).update(pools)
        return self

    def sentences(self) -> list[Sentence]:
        """Every distinct sentence, in the canonical order (length, then the words)."""
        return sorted(set(self.targets) | set(self.pooled), key=lambda s: (len(s), s))

    @property
    def n_vectors(self) -> int:
        return sum(map(len, self.targets.values())) + sum(map(len, self.pooled.values()))

    def __bool__(self) -> bool:
        return bool(self.targets or self.pooled)
