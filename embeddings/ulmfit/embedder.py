"""The ULMFiT adapter: an AWD-LSTM language model's layers as word vectors.

Layers are ``emb`` (the input embedding of the word's token), then ``lstm1`` ...
``lstmN`` (each LSTM layer's output at the word's token). Widths differ (WT103:
400 / 1152 / 1152 / 400), so narrower layers are zero-padded to the widest and the true
widths are in ``layer_dims``. Words are turned into fastai tokens inside the adapter (see
:mod:`embeddings.ulmfit.tokens`: ``xxbos`` first, lower-casing with ``xxmaj``/``xxup``
markers, ``xxunk`` for unknown words, which are flagged ``oov``); the ``xxbos`` output and
the markers' outputs are not returned. Each sentence is read on its own from a zero state.

With a backward model (``backward=True``, the paper's bidirectional variant) every layer is
the concatenation [forward, backward] and ``direction`` is ``"bi"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from embeddings.base import Embedder
from embeddings.ulmfit.checkpoint import LoadedLM
from embeddings.ulmfit.tokens import encode_words
from embeddings.ulmfit.vocab import PAD


class UlmfitEmbedder(Embedder):
    """Word vectors from one AWD-LSTM language model (or a forward + backward pair).

    Parameters
    ----------
    forward_lm : LoadedLM
        The left-to-right language model.
    backward_lm : LoadedLM, optional
        A right-to-left model over the same kind of tokens; its layers are concatenated.
    name : str
        Registry name (or "ulmfit" for a path-loaded model).
    checkpoint : str
        Human label of the weights, shown next to results.
    options : dict
        The options that rebuild this embedder through :func:`embeddings.load`
        (returned by :meth:`config`).
    markers : bool
        Insert fastai's ``xxmaj``/``xxup`` case markers (when the vocabulary has them).
    device : str
    batch_size : int
    """

    family = "ulmfit"
    contextual = True

    def __init__(self, forward_lm: LoadedLM, backward_lm: LoadedLM | None = None, *, name: str = "ulmfit",
                 checkpoint: str = "", options: dict[str, Any] | None = None, markers: bool = True,
                 device: str = "cpu", batch_size: int = 32) -> None:
        self.name = name
        self.checkpoint = checkpoint or name
        self._options = dict(options or {})
        self.markers = markers
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.lms = [forward_lm] + ([backward_lm] if backward_lm is not None else [])
        for lm in self.lms:
            lm.model.to(self.device).eval()
        dims = [lm.model.layer_dims for lm in self.lms]
        if len(dims) == 2 and len(dims[0]) != len(dims[1]):
            raise ValueError(f"forward and backward models have different depths: {dims}")
        self.direction = "bi" if backward_lm is not None else "left"
        self.layers = ["emb"] + [f"lstm{i}" for i in range(1, len(dims[0]))]
        self.layer_dims = [sum(d[k] for d in dims) for k in range(len(dims[0]))]
        self._identity: str | None = None

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self._options, "markers": self.markers,
                "backward": self.direction == "bi"}

    def finetune_classifier(self, sentences: Sequence[Sequence[str]], labels: Sequence[Any], *,
                            dev_sentences: Sequence[Sequence[str]] | None = None,
                            dev_labels: Sequence[Any] | None = None, seed: int = 0, **settings: Any) -> Any:
        """ULMFiT's recipe on the forward LM: LM fine-tuning on the task text, then the classifier with
        gradual unfreezing (:mod:`embeddings.ulmfit.classifier`)."""
        from embeddings.ulmfit.classifier import ClassifierSettings, train_ulmfit_classifier

        return train_ulmfit_classifier(self, sentences, labels, dev_sentences=dev_sentences, dev_labels=dev_labels,
                                       settings=ClassifierSettings(**{**settings, "seed": seed}))

    def weights_identity(self) -> str:
        if self._identity is None:
            self._identity = "+".join(lm.weights_sha256()[:16] for lm in self.lms)
        return self._identity

    @torch.no_grad()
    def _run(self, lm: LoadedLM, sentences: list[list[str]], backward: bool) -> tuple[np.ndarray, np.ndarray]:
        """Every word of the batch through one LM: vectors (total words, n_layers, width of this LM's
        widest layer) in sentence order, and the OOV mask; one gather per layer, no loop per word."""
        encoded = [encode_words(s, lm.vocab, backward=backward, markers=self.markers) for s in sentences]
        lengths = np.array([len(e.ids) for e in encoded])
        pad = lm.vocab.index(PAD) if PAD in lm.vocab else 0
        ids = torch.full((len(encoded), int(lengths.max())), pad, dtype=torch.long)
        mask = torch.arange(ids.shape[1])[None, :] < torch.from_numpy(lengths)[:, None]
        ids[mask] = torch.from_numpy(np.concatenate([e.ids for e in encoded]))  # right padding: never read
        outputs = lm.model.encode(ids.to(self.device))
        rows = torch.from_numpy(np.repeat(np.arange(len(encoded)), [len(e.positions) for e in encoded]))
        cols = torch.from_numpy(np.concatenate([e.positions for e in encoded]))
        width = max(int(o.shape[-1]) for o in outputs)
        out = np.zeros((len(cols), len(outputs), width), dtype=np.float32)
        for k, o in enumerate(outputs):
            out[:, k, : o.shape[-1]] = o[rows, cols].float().cpu().numpy()
        return out, np.concatenate([e.oov for e in encoded])

    def _embed(self, sentences: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        runs = [self._run(lm, sentences, backward=(k == 1)) for k, lm in enumerate(self.lms)]
        bounds = np.cumsum([0] + [len(s) for s in sentences])
        if len(runs) == 1:  # one LM: its run already is (words, layers, widest layer = dim)
            vecs, oov = runs[0]
            return [(vecs[bounds[i] : bounds[i + 1]], oov[bounds[i] : bounds[i + 1]]) for i in range(len(sentences))]
        total = sum(len(s) for s in sentences)
        vecs = np.zeros((total, len(self.layers), self.dim), dtype=np.float32)
        oov = np.zeros(total, dtype=bool)
        for k in range(len(self.layers)):  # forward | backward, each at its own width
            start = 0
            for (run, _), lm in zip(runs, self.lms, strict=True):
                width = lm.model.layer_dims[k]
                vecs[:, k, start : start + width] = run[:, k, :width]
                start += width
        for _, run_oov in runs:
            oov |= run_oov
        return [(vecs[bounds[i] : bounds[i + 1]], oov[bounds[i] : bounds[i + 1]]) for i in range(len(sentences))]
