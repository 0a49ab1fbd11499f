"""ULMFiT (Howard & Ruder 2018): the AWD-LSTM language model as a word embedder.

The project's own PyTorch AWD-LSTM reads fastai's published checkpoint layout (a ``.pth``
state dict + a pickled vocabulary list, read safely) and its own format (safetensors +
JSON), and exposes the embedding and each LSTM layer as word vectors, with fastai's
tokenization conventions applied inside. Modules, one idea each:

- :mod:`~embeddings.ulmfit.model`: the AWD-LSTM;
- :mod:`~embeddings.ulmfit.vocab`: vocabulary, restricted unpickling;
- :mod:`~embeddings.ulmfit.tokens`: fastai's case markers, ``xxbos``, ``xxunk``, alignment;
- :mod:`~embeddings.ulmfit.checkpoint`: the two checkpoint layouts;
- :mod:`~embeddings.ulmfit.embedder`: the :class:`~embeddings.base.Embedder` adapter;
- :mod:`~embeddings.ulmfit.training`: LM batching, perplexity, training from scratch;
- :mod:`~embeddings.ulmfit.finetune`: the FiT step (LM fine-tuning on target text);
- :mod:`~embeddings.ulmfit.classifier`: the ULMFiT classifier (concat pooling, gradual unfreezing);
- :mod:`~embeddings.ulmfit.published`: downloading ``ulmfit-wt103``.

Registry targets (see :mod:`embeddings.catalog`): ``load_ulmfit`` (``ulmfit``, ``path=``),
``load_published`` (``ulmfit-wt103``). The benchmark's ``ulmfit-brown`` stand-in is a recipe
in ``bench.standins`` built on :func:`~embeddings.ulmfit.training.train_language_model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embeddings.ulmfit.checkpoint import load_checkpoint, save_checkpoint
from embeddings.ulmfit.embedder import UlmfitEmbedder
from embeddings.ulmfit.model import AWDLSTM, AWDConfig
from embeddings.ulmfit.published import load_published

__all__ = ["AWDConfig", "AWDLSTM", "UlmfitEmbedder", "load_checkpoint", "load_published", "load_ulmfit",
           "save_checkpoint"]


def load_ulmfit(path: str | Path, *, backward: bool = False, backward_path: str | Path | None = None,
                markers: bool = True, device: str = "cpu", batch_size: int = 32,
                name: str = "ulmfit") -> UlmfitEmbedder:
    """An embedder from a checkpoint directory (fastai's layout or ctxbench's own).

    Parameters
    ----------
    path : directory of the forward language model.
    backward : add a backward model (direction "bi"); it is read from ``backward_path``.
    backward_path : directory of the backward language model (required with ``backward``).
    markers : insert fastai's ``xxmaj``/``xxup`` case markers.
    """
    if backward and backward_path is None:
        raise ValueError("backward=True needs backward_path= the directory of a backward model "
                         "(for fastai: the files of wt103-bwd.tgz)")
    fwd = load_checkpoint(path)
    bwd = load_checkpoint(backward_path) if backward and backward_path is not None else None
    options: dict[str, Any] = {"path": str(path)}
    if bwd is not None:
        options["backward_path"] = str(backward_path)
    label = f"{fwd.layout} AWD-LSTM checkpoint at {path}"
    return UlmfitEmbedder(fwd, bwd, name=name, checkpoint=label, options=options, markers=markers,
                          device=device, batch_size=batch_size)
