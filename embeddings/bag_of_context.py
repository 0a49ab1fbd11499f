"""Bag of context: the fair static baseline on context tasks (``bow:<name>``).

A static model gives ``bank`` one vector in every sentence, so on a context task (WiC,
SCWS, a polysemy probe) its own vector alone scores chance by construction. The obvious
static representation of an occurrence is the word's vector plus the average of the
vectors of the words around it. :class:`BagOfContextEmbedder` builds it over any model,
from that model's CONTEXT-FREE vectors (each word embedded alone), so the result is a
static representation whatever it wraps: it never lets a model read the sentence.

Three layers, of widths ``d, d, 2d`` (``d`` the inner layer's width):

- ``word``: the word's own context-free vector;
- ``context``: the mean of the vectors of the other words within ``window`` positions on
  each side (the target excluded; OOV and all-zero vectors skipped; zeros if none is left);
- ``combined``: ``[word / |word|, context / |context|] / sqrt(2)``, so that, when both parts
  are non-zero, the cosine of two combined vectors is the mean of the word cosine and the
  context cosine (a zero part stays zero).

Examples
--------
>>> import numpy as np
>>> from gensim.models import KeyedVectors
>>> from embeddings.static import StaticEmbedder
>>> kv = KeyedVectors(vector_size=2)
>>> kv.add_vectors(["river", "bank", "money"], np.array([[1, 0], [0, 1], [3, 4]], dtype=np.float32))
>>> emb = BagOfContextEmbedder(StaticEmbedder(kv, name="toy", family="glove"), window=1)
>>> wv = emb.embed([["river", "bank", "money", "zebra"]])[0]
>>> wv.layers, emb.layer_dims
(['word', 'context', 'combined'], [2, 2, 4])
>>> wv.layer("word")[:, :2].tolist()
[[1.0, 0.0], [0.0, 1.0], [3.0, 4.0], [0.0, 0.0]]
>>> wv.layer("context")[:, :2].tolist()   # neighbours within 1 position; 'zebra' is OOV
[[0.0, 1.0], [2.0, 2.0], [0.0, 1.0], [3.0, 4.0]]
>>> wv.oov.tolist()
[False, False, False, True]
>>> emb.config()
{'name': 'bow:toy', 'window': 1, 'inner_layer': 'emb'}
>>> emb.static_source, emb.contextual, emb.family
(True, True, 'glove')
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from embeddings.base import Embedder

logger = logging.getLogger(__name__)

#: Words on each side of the target that make up its context. Fixed before any result was
#: seen, not tuned on a test set: it is the context GloVe was trained on ("ten words to the
#: left and ten words to the right", Pennington et al. 2014, section 4.2), twice word2vec's
#: default of 5, so the bag covers at least the span either static family learnt from.
DEFAULT_WINDOW = 10

_OPTIONS = ("window", "inner_layer")


class BagOfContextEmbedder(Embedder):
    """A word's context-free vector, the mean of its context's, and both, over ``inner``.

    Parameters
    ----------
    inner : Embedder
        Any stateless model. Each distinct word is embedded alone (a one-word sentence) at
        ``inner_layer``: a static model's vector, a contextual model's decontextualized one.
    window : int or None
        Context words on each side of the target; ``None`` for the whole sentence. The
        default is :data:`DEFAULT_WINDOW` (see there why).
    inner_layer : str or int
        The inner model's layer to take (name, index, or ``"mean"``); recorded by name.
    name : str, optional
        Display name; default ``"bow:" + inner.name``.

    Attributes
    ----------
    family : str
        The inner model's family.
    contextual : bool
        True: the vector of a word depends on its sentence (through its neighbours).
    static_source : bool
        True: every vector is built from context-free vectors, so comparisons count this
        model on the static side.
    memo_bytes : int
        Context-free word vectors kept in memory (the oldest are forgotten first), so a
        corpus embeds each distinct word with the inner model once.
    """

    contextual = True
    direction = "bi"
    static_source = True
    layers = ["word", "context", "combined"]
    batch_size = 256
    memo_bytes: int = 256 * 1024**2

    def __init__(self, inner: Embedder, *, window: int | None = DEFAULT_WINDOW, inner_layer: str | int = 0,
                 name: str | None = None) -> None:
        if not isinstance(inner, Embedder):
            raise TypeError(f"bag of context wraps an Embedder, got {type(inner).__name__}")
        inner_cfg = inner.config()
        if isinstance(inner, BagOfContextEmbedder) or str(inner_cfg.get("name", "")).startswith("bow:"):
            raise ValueError(f"{inner.name} is already a bag of context; bow:bow:... would average "
                             "averages. Wrap the underlying model once: bow:<name>")
        if getattr(inner, "stateful", False):
            raise ValueError(f"{inner.name} is stateful (its vectors depend on earlier calls), so a word "
                             "has no context-free vector; load it with stateful=False")
        clash = sorted(set(_OPTIONS) & set(inner_cfg))
        if clash:
            raise ValueError(f"{inner.name}'s own options {clash} clash with bag-of-context options {_OPTIONS}")
        if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
            raise ValueError(f"window must be a positive int (words on each side) or None (whole sentence), "
                             f"got {window!r}")
        self.inner = inner
        self.window = window
        if inner_layer == "mean":
            self.inner_layer: str = "mean"
            width = inner.dim
        else:
            _, names = inner._resolve_layers([inner_layer])  # raises with the valid layers
            self.inner_layer = names[0]
            width = inner.layer_dims[inner.layers.index(names[0])]
        self._width = int(width)
        self._inner_options = {k: v for k, v in inner_cfg.items() if k != "name"}
        self._inner_config_name = str(inner_cfg["name"])
        self.name = name or f"bow:{inner.name}"
        self.family = inner.family
        self.layer_dims = [self._width, self._width, 2 * self._width]
        span = "whole sentence" if window is None else f"window {window}"
        layer = f", inner layer {self.inner_layer}" if len(inner.layers) > 1 else ""
        self.checkpoint = f"bag of context ({span}{layer}) over {getattr(inner, 'checkpoint', inner.name)}"
        self._memo: OrderedDict[str, tuple[np.ndarray, bool]] = OrderedDict()
        self._memo_used = 0

    # -- identity -------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {"name": f"bow:{self._inner_config_name}", "window": self.window,
                "inner_layer": self.inner_layer, **self._inner_options}

    def weights_identity(self) -> str:
        return f"bag of context over {self.inner.fingerprint()}"

    # -- vectors ----------------------------------------------------------------------------
    def word_vectors(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Context-free vectors of distinct ``words``: float32 (n, d) and the OOV mask (n,).

        Words not yet memoised are embedded by the inner model in one call, each alone.
        """
        missing = [w for w in words if w not in self._memo]
        fresh: dict[str, tuple[np.ndarray, bool]] = {}
        if missing:
            select: Any = "mean" if self.inner_layer == "mean" else [self.inner_layer]
            out = self.inner.embed([[w] for w in missing], layers=select, progress=False)
            for w, wv in zip(missing, out):
                fresh[w] = (np.array(wv.vectors[0, 0, : self._width], dtype=np.float32), bool(wv.oov[0]))
            self._remember(fresh)
        rows = [fresh[w] if w in fresh else self._memo[w] for w in words]
        vecs = np.stack([r[0] for r in rows]) if rows else np.zeros((0, self._width), np.float32)
        return vecs, np.fromiter((r[1] for r in rows), dtype=bool, count=len(rows))

    def _remember(self, fresh: dict[str, tuple[np.ndarray, bool]]) -> None:
        for w, entry in fresh.items():
            entry[0].setflags(write=False)
            self._memo[w] = entry
            self._memo_used += entry[0].nbytes
        while self._memo_used > self.memo_bytes and self._memo:
            _, (old, _) = self._memo.popitem(last=False)
            self._memo_used -= old.nbytes

    def _embed(self, sentences: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        flat = [w for s in sentences for w in s]
        distinct = list(dict.fromkeys(flat))
        position = {w: i for i, w in enumerate(distinct)}
        table, table_oov = self.word_vectors(distinct)
        idx = np.fromiter((position[w] for w in flat), dtype=np.int64, count=len(flat))
        word, oov = table[idx], table_oov[idx]
        usable = ~oov & (word != 0).any(axis=1)
        lengths = [len(s) for s in sentences]
        context = context_means(word, usable, lengths, self.window)
        d = self._width
        out = np.zeros((len(flat), 3, 2 * d), dtype=np.float32)
        out[:, 0, :d] = word
        out[:, 1, :d] = context
        out[:, 2, :d] = unit_rows(word) / math.sqrt(2)
        out[:, 2, d:] = unit_rows(context) / math.sqrt(2)
        bounds = np.cumsum([0] + lengths)
        return [(out[a:b], oov[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def context_means(vectors: np.ndarray, usable: np.ndarray, lengths: Sequence[int], window: int | None,
                  *, max_bytes: int = 64 * 1024**2) -> np.ndarray:
    """Per word, the mean of the usable vectors within ``window`` on each side, itself excluded.

    Parameters
    ----------
    vectors : float array, shape (n_words, d)
        The words of consecutive sentences, concatenated.
    usable : bool array, shape (n_words,)
        Which words may serve as context (False: OOV or all-zero).
    lengths : sequence of int
        Sentence lengths (summing to ``n_words``); a window never crosses a sentence.
    window : int or None
        Positions on each side; ``None`` for the whole sentence.
    max_bytes : int
        Work-space bound: sentences are padded to a common length in chunks of about this size.

    Returns
    -------
    float32 array, shape (n_words, d): zeros where no usable context word is in reach.

    Every window sum is the difference of two running sums (O(n d) per sentence), taken in
    float64 along each sentence separately, so a sentence's result does not depend, even in the
    last bit, on the sentences it is batched with.

    Examples
    --------
    >>> v = np.array([[1.0], [2.0], [4.0], [8.0], [16.0]])
    >>> context_means(v, np.array([True, True, False, True, True]), [4, 1], window=1).ravel().tolist()
    [2.0, 1.0, 5.0, 0.0, 0.0]
    """
    lens = np.asarray(lengths, dtype=np.int64)
    if lens.sum() != len(vectors) or len(usable) != len(vectors) or (lens < 1).any():
        raise ValueError(f"lengths must be >= 1 and sum to the number of vectors ({len(vectors)}) and of "
                         f"flags ({len(usable)}); got {len(lens)} lengths summing to {lens.sum()}")
    out = np.zeros(vectors.shape, dtype=np.float32)
    starts = np.concatenate([[0], np.cumsum(lens)])
    row_bytes = 8 * (vectors.shape[1] + 1)
    first = 0
    while first < len(lens):  # chunks of sentences, padded to the chunk's longest
        last, longest = first + 1, int(lens[first])
        while last < len(lens) and (last + 1 - first) * max(longest, int(lens[last])) * row_bytes <= max_bytes:
            longest = max(longest, int(lens[last]))
            last += 1
        a, b = starts[first], starts[last]
        out[a:b] = _padded_context_means(vectors[a:b], usable[a:b], lens[first:last], longest, window)
        first = last
    return out


def _padded_context_means(vectors: np.ndarray, usable: np.ndarray, lengths: np.ndarray, longest: int,
                          window: int | None) -> np.ndarray:
    n_sent, d = len(lengths), vectors.shape[1]
    sent = np.repeat(np.arange(n_sent), lengths)  # each word's sentence ...
    pos = np.arange(len(vectors)) - np.repeat(np.cumsum(lengths) - lengths, lengths)  # ... and position in it
    x = vectors.astype(np.float64)
    x[~usable] = 0.0
    # running sums, position-major: row p holds every sentence's sum of its first p words
    sums = np.zeros((longest + 1, n_sent, d), dtype=np.float64)
    counts = np.zeros((longest + 1, n_sent), dtype=np.int64)
    sums[pos + 1, sent] = x
    counts[pos + 1, sent] = usable
    for p in range(1, longest + 1):  # one vector add per position (numpy's cumsum over axis 0 is slower)
        sums[p] += sums[p - 1]
        counts[p] += counts[p - 1]
    reach = longest if window is None else window
    lo, hi = np.maximum(pos - reach, 0), np.minimum(pos + reach + 1, lengths[sent])
    total: np.ndarray = sums[hi, sent] - sums[lo, sent] - x
    count = counts[hi, sent] - counts[lo, sent] - usable
    np.divide(total, np.maximum(count, 1)[:, None], out=total)
    total[count == 0] = 0.0
    return total


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; all-zero rows stay zero."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    units: np.ndarray = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    return units


def load_bow(inner_name: str = "", *, window: int | None = DEFAULT_WINDOW, inner_layer: str | int = 0,
             **inner_options: Any) -> BagOfContextEmbedder:
    """``bow:<name>``: load ``<name>`` with ``inner_options`` and wrap it in a bag of context.

    Examples
    --------
    >>> import embeddings
    >>> emb = embeddings.load("bow:random", dim=4)
    >>> emb.name, emb.layer_dims, emb.config()["window"]
    ('bow:random', [4, 4, 8], 10)
    """
    if not inner_name:
        raise ValueError("bow: needs a model name after the colon, e.g. bow:glove-6b-50d")
    if inner_name == "bow" or inner_name.startswith("bow:"):
        raise ValueError(f"bow:{inner_name} wraps a bag of context in another; bow:bow:... would average "
                         "averages. Wrap the underlying model once: bow:<name>")
    import embeddings

    inner = embeddings.load(inner_name, **inner_options)
    return BagOfContextEmbedder(inner, window=window, inner_layer=inner_layer)


def bow_identity(inner_name: str = "", *, window: int | None = DEFAULT_WINDOW, inner_layer: str | int = 0,
                 **inner_options: Any) -> str | None:
    """Identity of ``load("bow:<name>", ...)`` without loading: the wrapper's settings over the inner
    model's own identity (None when only the loaded inner model can name itself)."""
    import json

    import embeddings

    inner = embeddings.identity(inner_name, **inner_options)
    if inner is None:
        return None
    return f"bow v1;window={window};inner_layer={json.dumps(inner_layer)};over {inner_name}:{inner}"
