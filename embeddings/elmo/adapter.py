"""The ELMo adapter: words in, three layers out (token, lstm1, lstm2).

Each sentence gets the boundary tokens ``<S>`` and ``</S>`` inside the adapter (they are
removed from the output). Layer ``token`` is the char-CNN output concatenated with itself
(to the width of the LSTM layers, as in the original); ``lstmK`` is the concatenation of the
forward and backward LSTM outputs of layer K. ELMo reads characters, so no word is OOV.

By default every sentence starts from zero LSTM state (stateless: a sentence's vectors do
not depend on what was embedded before). ``stateful=True`` reproduces the original
TensorFlow behaviour, where each batch row carries its LSTM state over to the same row of
the next batch; it turns off sorting by length, so rows are the sentences' positions in
each batch of ``batch_size``.

The char CNN is the costly part for short sentences, so its outputs are cached per word
(``cache_words`` entries; the cache only stores per-word values that do not depend on
context).

The LSTMs run one time step after another with small matrix products; for small models
(LSTM dim <= 1024: the fixture, elmo-brown, elmo-small) intra-op threads only add overhead
and, on a busy machine, spin (measured 40x slower with 2 threads on 2 loaded cores), so by
default those run on one thread during the call (``threads``; the setting is restored).

Examples
--------
>>> from embeddings.elmo.bilm import BiLM, ElmoOptions, tiny_options_dict
>>> emb = ElmoEmbedder(BiLM(ElmoOptions.from_dict(tiny_options_dict())).eval(), name="tiny")
>>> emb.layers, emb.layer_dims
(['token', 'lstm1', 'lstm2'], [16, 16, 16])
>>> emb.embed([["The", "bank"]])[0].vectors.shape
(2, 3, 16)
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from embeddings.base import Embedder
from embeddings.elmo.bilm import BiLM, ElmoOptions, LSTMState
from embeddings.elmo.chars import BOS, EOS, batch_char_ids
from embeddings.elmo.hdf5_format import load_weights
from embeddings.support.threads import torch_threads

logger = logging.getLogger(__name__)


def find_weights(options: str | Path) -> Path:
    """The weights file next to ``options``: the one .hdf5/.h5 there that holds a biLM.

    Weight file names differ between checkpoints, so none is assumed: every hdf5 file in
    the directory is opened and kept if it has ``char_embed`` and ``RNN_0`` (activation
    dumps and token-embedding files beside it are skipped).
    """
    import h5py

    folder = Path(options).parent
    found = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in (".hdf5", ".h5") or not p.is_file():
            continue
        try:
            with h5py.File(p, "r") as f:
                if "char_embed" in f and "RNN_0" in f:
                    found.append(p)
        except OSError:
            continue
    if len(found) != 1:
        what = "no hdf5 file with ELMo weights" if not found else f"several: {[p.name for p in found]}"
        raise FileNotFoundError(f"looked for the ELMo weights next to {options}: {what}; pass weights=PATH")
    return found[0]


class ElmoEmbedder(Embedder):
    """An ELMo biLM behind the :class:`~embeddings.base.Embedder` interface.

    Parameters
    ----------
    model : BiLM
        A loaded biLM (see :func:`embeddings.elmo.load_elmo` to build one from files).
    name : str
        Registry name (or a label for a path-loaded model).
    checkpoint : str, optional
        Human label of the weights, shown next to results.
    stateful : bool
        Carry each batch row's LSTM state across calls (see the module docstring).
    batch_size : int
        Sentences per forward pass.
    device : str
        torch device.
    cache_words : int
        Size limit of the per-word char-CNN cache (0 turns it off).
    threads : int, optional
        torch threads during a call; default 1 for LSTM dim <= 1024, else torch's setting.
    config : dict, optional
        The options that rebuild this embedder with :func:`embeddings.load` (set by loaders).
    weights_id : str, optional
        Identity of the weights (e.g. the sha256 of the file); defaults to a hash of the
        parameters.
    """

    family = "elmo"
    contextual = True
    direction = "bi"
    #: True/False for a published checkpoint (sha256 pinned or only recorded); None otherwise
    verified: bool | None = None

    def __init__(self, model: BiLM, *, name: str = "elmo", checkpoint: str | None = None,
                 stateful: bool = False, batch_size: int = 32, device: str = "cpu",
                 cache_words: int = 200_000, threads: int | None = None,
                 config: dict[str, Any] | None = None, weights_id: str | None = None) -> None:
        self.name = name
        self.checkpoint = checkpoint or name
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.opts: ElmoOptions = model.opts
        self.stateful = bool(stateful)
        self.batch_size = int(batch_size)
        if self.stateful:
            self.sort_by_length = False  # type: ignore[misc]  # rows must keep their order
        self.cache_words = int(cache_words)
        self.threads = threads if threads is not None else (1 if self.opts.lstm_dim <= 1024 else None)
        self._token_cache: dict[str, torch.Tensor] = {}
        self._state: dict[str, list[LSTMState]] | None = None
        self._config = dict(config or {"name": name})
        self._weights_id = weights_id
        width = 2 * model.output_dim
        self.layers = ["token"] + [f"lstm{k + 1}" for k in range(self.opts.n_layers)]
        self.layer_dims = [width] * len(self.layers)
        if 2 * self.opts.projection_dim != width:
            raise ValueError(f"token layer {2 * self.opts.projection_dim} wide but LSTM layers {width}: "
                             "options with projection_dim != LSTM output width are not supported")

    # -- identity -------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {**self._config, "stateful": self.stateful, "batch_size": self.batch_size}

    def weights_identity(self) -> str:
        if self._weights_id is None:
            h = hashlib.sha256()
            for k, v in sorted(self.model.state_dict().items()):
                h.update(k.encode())
                h.update(v.detach().cpu().numpy().tobytes())
            self._weights_id = "params-sha256:" + h.hexdigest()
        return self._weights_id

    # -- state ----------------------------------------------------------------------
    def reset_state(self) -> None:
        """Forget the carried LSTM state (stateful mode); the next batch starts from zeros."""
        self._state = None

    def clear_cache(self) -> None:
        """Empty the per-word char-CNN cache."""
        self._token_cache.clear()

    def _initial_state(self, n: int) -> dict[str, list[LSTMState]] | None:
        if not self.stateful or self._state is None:
            return None
        out: dict[str, list[LSTMState]] = {}
        for d, states in self._state.items():
            rows = []
            for s in states:
                c, h = s.c[:n], s.h[:n]
                if c.shape[0] < n:  # rows never seen start from zeros
                    c = torch.cat([c, c.new_zeros(n - c.shape[0], c.shape[1])])
                    h = torch.cat([h, h.new_zeros(n - h.shape[0], h.shape[1])])
                rows.append(LSTMState(c, h))
            out[d] = rows
        return out

    def _store_state(self, new: dict[str, list[LSTMState]]) -> None:
        if self._state is None:
            self._state = new
            return
        merged: dict[str, list[LSTMState]] = {}
        for d, states in new.items():
            rows = []
            for old, s in zip(self._state[d], states, strict=True):
                n = s.c.shape[0]
                rows.append(LSTMState(torch.cat([s.c, old.c[n:]]), torch.cat([s.h, old.h[n:]])))
            merged[d] = rows
        self._state = merged

    # -- token layer ------------------------------------------------------------------
    @torch.no_grad()
    def token_vectors(self, words: list[str]) -> torch.Tensor:
        """Char-CNN outputs (len(words), projection_dim) for words, through the cache."""
        missing = list(dict.fromkeys(w for w in words if w not in self._token_cache))
        fresh: dict[str, torch.Tensor] = {}
        for k in range(0, len(missing), 512):
            chunk = missing[k : k + 512]
            ids = torch.from_numpy(batch_char_ids([chunk], self.opts.max_chars)).to(self.device)
            vecs = self.model.char_cnn(ids)[0]
            fresh.update(zip(chunk, vecs, strict=True))
        for w, v in fresh.items():
            if len(self._token_cache) >= self.cache_words:
                break
            self._token_cache[w] = v
        return torch.stack([fresh[w] if w in fresh else self._token_cache[w] for w in words])

    # -- the hook -----------------------------------------------------------------------
    def _embed(self, sentences: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        with torch_threads(self.threads):
            return self._embed_batch(sentences)

    @torch.no_grad()
    def _embed_batch(self, sentences: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        padded = [[BOS, *s, EOS] for s in sentences]
        lengths = torch.tensor([len(s) for s in padded], device=self.device)
        t_max = int(lengths.max())
        flat = [w for s in padded for w in s]
        vecs = self.token_vectors(flat)
        token = vecs.new_zeros(len(padded), t_max, vecs.shape[1])
        pos = 0
        for i, s in enumerate(padded):
            token[i, : len(s)] = vecs[pos : pos + len(s)]
            pos += len(s)
        out = self.model(None, lengths, self._initial_state(len(padded)), token=token)
        if self.stateful:
            self._store_state(out.state)
        stack = torch.stack([torch.cat([out.token, out.token], dim=-1), *out.layers], dim=2)
        stack_np = stack.float().cpu().numpy()
        return [(np.ascontiguousarray(stack_np[i, 1 : 1 + len(s)]), np.zeros(len(s), dtype=bool))
                for i, s in enumerate(sentences)]


def build_bilm(options: str | Path, weights: str | Path) -> BiLM:
    """A :class:`BiLM` with the weights of an official options.json + hdf5 pair."""
    return load_weights(BiLM(ElmoOptions.from_file(options)), weights).eval()
