"""The one interface every embedding model implements.

Static and contextual models answer the same call: tokenized words in, one vector per
word per layer out. The difference between GloVe and BERT is in the data (one layer vs
many, identical vs context-dependent vectors), never in the API.

Examples
--------
>>> from embeddings.random_vectors import RandomEmbedder
>>> emb = RandomEmbedder(dim=4, n_layers=2)
>>> out = emb.embed([["the", "river", "bank"], []])
>>> out[0].vectors.shape, out[1].vectors.shape
((3, 2, 4), (0, 2, 4))
>>> out[0].layers
['emb', '1']
>>> emb.embed([["bank"]], layers="mean")[0].layers
['mean']
"""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, Union, runtime_checkable

import numpy as np

from embeddings.progress import progress_bar

logger = logging.getLogger(__name__)

FAMILIES = ("word2vec", "glove", "elmo", "ulmfit", "gpt", "bert", "other")
#: the families whose models give a word one vector whatever its context
STATIC_FAMILIES = ("word2vec", "glove")
DIRECTIONS = ("none", "left", "bi")

LayerSpec = Union[None, str, int, Sequence[str | int]]


@dataclass(frozen=True, eq=False)
class WordVectors:
    """Vectors for one sentence: one row per input word, one slice per layer.

    Attributes
    ----------
    vectors : float32 array, shape (n_words, n_layers, dim)
        Aligned 1:1 with the input words; always finite. Layers narrower than ``dim`` are
        zero-padded on the right.
    oov : bool array, shape (n_words,)
        True where the model had nothing for the word (its vector is then all zeros for a
        static model; for a contextual model the word became the unknown token).
    layers : list of str
        Layer names, one per slice of axis 1.
    words : tuple of str
        The input words, for reference.
    """

    vectors: np.ndarray
    oov: np.ndarray
    layers: list[str]
    words: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        v, o = self.vectors, self.oov
        if v.ndim != 3:
            raise ValueError(f"vectors must be (n_words, n_layers, dim), got shape {v.shape}")
        if v.dtype != np.float32:
            raise TypeError(f"vectors must be float32, got {v.dtype}")
        if o.shape != (v.shape[0],) or o.dtype != np.bool_:
            raise ValueError(f"oov must be bool of shape ({v.shape[0]},), got {o.dtype} {o.shape}")
        if len(self.layers) != v.shape[1]:
            raise ValueError(f"{len(self.layers)} layer names for {v.shape[1]} layers")
        if self.words and len(self.words) != v.shape[0]:
            raise ValueError(f"{len(self.words)} words for {v.shape[0]} vectors")
        if not np.isfinite(v).all():
            raise ValueError("vectors contain NaN or inf")

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def layer(self, name: str | int) -> np.ndarray:
        """The (n_words, dim) slice of one layer, by name or index."""
        if isinstance(name, int):
            return self.vectors[:, name, :]
        return self.vectors[:, self.layers.index(name), :]


class Embedder(ABC):
    """Base class of all adapters.

    A subclass sets the class attributes (or instance attributes in ``__init__``) and
    implements one hook, :meth:`_embed`, which receives a batch of non-empty sentences and
    returns, for each, an array of ALL layers, shape (n_words, n_layers, dim), float32, plus
    the OOV mask. Everything else — input validation, empty sentences, batching sorted by
    length, progress bars, layer selection and the layer mean — lives here, so every adapter
    behaves the same at the edges.

    Attributes
    ----------
    name : str
        Registry name (or a descriptive name for a path-loaded model).
    family : {'word2vec', 'glove', 'elmo', 'ulmfit', 'gpt', 'bert', 'other'}
    contextual : bool
        True when a word's vector depends on the other words of its sentence.
    direction : {'none', 'left', 'bi'}
        Which context the model sees: none (static), left only (causal LMs), both.
    layers : list of str
    layer_dims : list of int
        True width of each layer; ``dim`` is the widest, and narrower layers are zero-padded.
    static_source : bool
        True when every vector is built from context-free (static) word vectors, even if the
        sentence changes it (a bag of context over GloVe: ``contextual`` True, yet no model
        read the sentence). Comparisons of static against contextual models count such an
        embedder on the STATIC side.
    """

    name: str = "embedder"
    family: str = "other"
    contextual: bool = False
    direction: str = "none"
    static_source: bool = False
    layers: list[str] = ["emb"]
    layer_dims: list[int] = [0]
    #: human label of the weights, shown next to every result ("" means: the name)
    checkpoint: str = ""
    #: True when a call's vectors depend on earlier calls (ELMo's original carried LSTM state):
    #: such a model cannot be cached per sentence and must see sentences in order
    stateful: bool = False
    #: sentences per call to :meth:`_embed`
    batch_size: int = 32
    #: sort sentences by length before batching (turned off by stateful models)
    sort_by_length: ClassVar[bool] = True

    @property
    def dim(self) -> int:
        """Width of the widest layer (the last axis of every vectors array)."""
        return int(max(self.layer_dims))

    # -- identity -------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The options that rebuild this embedder with :func:`embeddings.load`.

        Subclasses extend it with their options; the runner records it next to results.
        """
        return {"name": self.name}

    def vocabulary(self) -> list[str] | None:
        """The model's own words in frequency order, or None when it has no closed vocabulary.

        An optional capability: static models have one (analogy ranks candidates over it);
        sub-word and character models return None.
        """
        return None

    def weights_identity(self) -> str:
        """A string naming the weights (a checksum, a package version, a path + size).

        Part of :meth:`fingerprint`. Subclasses override it.
        """
        return self.name

    def fingerprint(self) -> str:
        """Stable hash of the weights' identity plus the options (16 hex digits)."""
        payload = json.dumps(
            {"config": self.config(), "weights": self.weights_identity(), "layers": self.layers},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        """Metadata for result labels: name, family, checkpoint note, fingerprint."""
        return {
            "name": self.name,
            "family": self.family,
            "contextual": self.contextual,
            "direction": self.direction,
            "static_source": self.static_source,
            "layers": list(self.layers),
            "layer_dims": list(self.layer_dims),
            "checkpoint": self.checkpoint or self.name,
            "fingerprint": self.fingerprint(),
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, family={self.family!r}, "
            f"layers={len(self.layers)}, dim={self.dim})"
        )

    # -- the public call --------------------------------------------------------------
    def embed(
        self,
        sentences: Sequence[Sequence[str]],
        layers: LayerSpec = None,
        *,
        progress: bool | None = None,
    ) -> list[WordVectors]:
        """Embed pre-tokenized sentences.

        Parameters
        ----------
        sentences : sequence of sequences of str
            Each sentence is a list of words. ``[]`` gives ``[]``; an empty sentence gives
            an array of shape (0, n_layers, dim).
        layers : None, str, int, or a sequence of them
            Layer names or integer indices (negative allowed); ``None`` for all layers;
            ``"mean"`` for the equal-weight average of all layers (one layer named "mean").
        progress : bool, optional
            Show a progress bar; by default only when there is more than one batch.

        Returns
        -------
        list of WordVectors, one per sentence, in input order.
        """
        sents = _validate_sentences(sentences)
        select, names = self._resolve_layers(layers)
        out: list[WordVectors | None] = [None] * len(sents)
        todo = [i for i, s in enumerate(sents) if len(s) > 0]
        for i, s in enumerate(sents):
            if not s:
                out[i] = WordVectors(
                    np.zeros((0, len(names), self.dim), np.float32), np.zeros(0, bool), names, ()
                )
        if self.sort_by_length:
            todo.sort(key=lambda i: len(sents[i]))
        batches = [todo[k : k + self.batch_size] for k in range(0, len(todo), self.batch_size)]
        show = progress if progress is not None else len(batches) > 1
        for batch in progress_bar(batches, desc=f"embed {self.name}", disable=not show):
            results = self._embed([sents[i] for i in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{type(self).__name__}._embed returned {len(results)} for {len(batch)}")
            for i, (vecs, oov) in zip(batch, results):
                out[i] = self._finish(sents[i], vecs, oov, select, names)
        return out  # type: ignore[return-value]

    def _finish(
        self, words: list[str], vecs: np.ndarray, oov: np.ndarray, select: list[int] | str, names: list[str]
    ) -> WordVectors:
        expected = (len(words), len(self.layers), self.dim)
        if vecs.shape != expected:
            raise RuntimeError(f"{type(self).__name__}._embed gave shape {vecs.shape}, expected {expected}")
        vecs = np.asarray(vecs, dtype=np.float32)
        if select == "mean":
            vecs = self._layer_mean(vecs)
        else:
            assert not isinstance(select, str)
            if select != list(range(len(self.layers))):  # all layers in order: no copy
                vecs = vecs[:, select, :]
        if not np.isfinite(vecs).all():  # the contract says finite; say so loudly, then zero them
            logger.warning("%s produced non-finite values for %r; set to 0", self.name, words[:5])
            vecs = np.nan_to_num(vecs, nan=0.0, posinf=0.0, neginf=0.0)
        return WordVectors(np.ascontiguousarray(vecs), np.asarray(oov, dtype=bool), names, tuple(words))

    def _layer_mean(self, vecs: np.ndarray) -> np.ndarray:
        """Equal-weight mean over layers. Layers are padded with zeros, so narrower layers
        contribute zeros in the padded coordinates (documented; ELMo/transformers are equal
        width)."""
        mean: np.ndarray = vecs.mean(axis=1, keepdims=True, dtype=np.float32)
        return mean

    def _resolve_layers(self, layers: LayerSpec) -> tuple[list[int] | str, list[str]]:
        n = len(self.layers)
        if layers is None:
            return list(range(n)), list(self.layers)
        if isinstance(layers, str) and layers == "mean":
            return "mean", ["mean"]
        items = [layers] if isinstance(layers, (str, int)) else list(layers)
        idx: list[int] = []
        for item in items:
            if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                if not -n <= item < n:
                    raise IndexError(f"layer index {item} out of range for {n} layers {self.layers}")
                idx.append(int(item) % n)
            elif isinstance(item, str) and item in self.layers:
                idx.append(self.layers.index(item))
            else:
                from embeddings.registries import suggest

                raise ValueError(
                    f"unknown layer {item!r} for {self.name}; {suggest(str(item), self.layers)}"
                    f"layers are {self.layers}, integer indices, or 'mean'"
                )
        return idx, [self.layers[i] for i in idx]

    @abstractmethod
    def _embed(self, sentences: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Embed a batch of non-empty sentences.

        Returns, per sentence, ``(vectors, oov)``: vectors float32 of shape
        (n_words, len(self.layers), self.dim), every layer, zero-padded to ``dim``; oov bool
        of shape (n_words,).
        """


def pad_layers(arrays: Sequence[np.ndarray], dim: int) -> np.ndarray:
    """Stack per-layer (n_words, d_l) arrays into (n_words, n_layers, dim), zero-padding."""
    n = arrays[0].shape[0]
    out = np.zeros((n, len(arrays), dim), dtype=np.float32)
    for k, a in enumerate(arrays):
        out[:, k, : a.shape[1]] = a
    return out


def _validate_sentences(sentences: Sequence[Sequence[str]]) -> list[list[str]]:
    if isinstance(sentences, str):
        raise TypeError("embed() takes a list of sentences, each a list of words; got a str")
    out = []
    for i, s in enumerate(sentences):
        if isinstance(s, str):
            raise TypeError(
                f"sentence {i} is a str ({s[:30]!r}); pass a list of words, e.g. {s.split()[:3]!r}"
            )
        words = list(s)
        for j, w in enumerate(words):
            if not isinstance(w, str):
                raise TypeError(f"sentence {i}, word {j} is {type(w).__name__}, expected str")
        out.append(words)
    return out


Direction = Literal["none", "left", "bi"]


@runtime_checkable
class SubwordTokenizing(Protocol):
    """An optional capability: a model that cuts words into sub-word pieces and reports how.

    The benchmark's tokenization report (WordPiece vs byte-level BPE) uses it; models that
    read whole words or characters do not implement it.
    """

    def tokenization_stats(self, sentences: Sequence[Sequence[str]]) -> dict[str, Any]:
        """Pieces per word, share of words split, share of unknown pieces, max pieces per word."""
        ...

    def tokenizer_kind(self) -> str:
        """The tokenizer's algorithm, e.g. ``"WordPiece"`` or ``"BPE (byte-level)"``."""
        ...


@runtime_checkable
class FineTunable(Protocol):
    """An optional capability: a model that can be fine-tuned end to end as a sentence classifier.

    ULMFiT (the AWD-LSTM with gradual unfreezing) and transformers (a classification head)
    implement it; the benchmark's fine-tuning task uses it, so it needs no family branch.
    """

    def finetune_classifier(self, sentences: Sequence[Sequence[str]], labels: Sequence[Any], *,
                            dev_sentences: Sequence[Sequence[str]] | None = None,
                            dev_labels: Sequence[Any] | None = None, seed: int = 0,
                            **settings: Any) -> Any:
        """Fine-tune a copy of the model on labelled sentences; the result has ``predict(sentences)``."""
        ...
