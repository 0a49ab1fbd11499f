"""Read and write ELMo weights in the official bilm-tf hdf5 layout.

The layout (one file, float32 datasets; matrices stored for ``x @ W``, TensorFlow order)::

    char_embed                      (261, char_dim)          ids 0..260; no mask row
    CNN/W_cnn_{i}, CNN/b_cnn_{i}    (1, width, char_dim, n), (n,)
    CNN_high_{k}/W_carry, b_carry, W_transform, b_transform   (d, d), (d,)
    CNN_proj/W_proj, b_proj         (d, projection_dim), (projection_dim,)   [if projecting]
    RNN_{0 forward|1 backward}/RNN/MultiRNNCell/Cell{k}/LSTMCell/
        W_0  (in + out, 4 * dim)    gates (input, candidate, forget, output); no +1 forget bias
        B    (4 * dim,)
        W_P_0 (dim, projection_dim)                          [if projecting]

:func:`load_weights` fills a :class:`~embeddings.elmo.bilm.BiLM` from such a file and
:func:`save_weights` writes one back, so the project's own trained model and the published
checkpoints share one loader.

Examples
--------
>>> import tempfile, torch
>>> from embeddings.elmo.bilm import BiLM, ElmoOptions, tiny_options_dict
>>> model = BiLM(ElmoOptions.from_dict(tiny_options_dict()))
>>> path = tempfile.mkdtemp() + "/w.hdf5"
>>> save_weights(model, path)
>>> again = load_weights(BiLM(model.opts), path)
>>> a, b = model.state_dict(), again.state_dict()
>>> all(torch.equal(a[k], b[k]) for k in a)
True
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import h5py
import numpy as np
import torch

from embeddings.elmo.bilm import BiLM
from embeddings.support.errors import FileFormatError

_DIRECTIONS = {"fw": "RNN_0", "bw": "RNN_1"}


def _cell_group(direction: str, k: int) -> str:
    return f"{_DIRECTIONS[direction]}/RNN/MultiRNNCell/Cell{k}/LSTMCell"


def _named_arrays(model: BiLM) -> dict[str, np.ndarray]:
    """The model's parameters as the file's datasets (name -> array in file orientation)."""
    cnn = model.char_cnn
    out: dict[str, np.ndarray] = {}
    emb = cnn.char_embed.weight.detach().cpu().numpy()
    out["char_embed"] = emb[1:]
    for i, conv in enumerate(cnn.conv_layers()):
        # torch Conv1d weight (n, char_dim, width) -> TF (1, width, char_dim, n)
        out[f"CNN/W_cnn_{i}"] = conv.weight.detach().cpu().numpy().transpose(2, 1, 0)[None]
        out[f"CNN/b_cnn_{i}"] = cast(torch.Tensor, conv.bias).detach().cpu().numpy()
    for k, (carry, transform) in enumerate(cnn.highways()):
        out[f"CNN_high_{k}/W_carry"] = carry.weight.detach().cpu().numpy().T
        out[f"CNN_high_{k}/b_carry"] = carry.bias.detach().cpu().numpy()
        out[f"CNN_high_{k}/W_transform"] = transform.weight.detach().cpu().numpy().T
        out[f"CNN_high_{k}/b_transform"] = transform.bias.detach().cpu().numpy()
    if cnn.proj is not None:
        out["CNN_proj/W_proj"] = cnn.proj.weight.detach().cpu().numpy().T
        out["CNN_proj/b_proj"] = cnn.proj.bias.detach().cpu().numpy()
    for direction in _DIRECTIONS:
        for k, cell in enumerate(model.cells(direction)):
            g = _cell_group(direction, k)
            out[f"{g}/W_0"] = cell.gates.weight.detach().cpu().numpy().T
            out[f"{g}/B"] = cell.gates.bias.detach().cpu().numpy()
            if cell.proj is not None:
                out[f"{g}/W_P_0"] = cell.proj.weight.detach().cpu().numpy().T
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def load_weights(model: BiLM, path: str | Path) -> BiLM:
    """Copy the datasets of the hdf5 file at ``path`` into ``model`` (in place; returned).

    Raises :class:`~embeddings.support.errors.FileFormatError` naming the file (and the
    dataset) when the file is not readable HDF5 (cut short, damaged), a dataset is missing,
    not numeric, of a shape the options do not imply, or holds NaN or infinite values.
    """
    expected = _named_arrays(model)
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as e:  # h5py reports a truncated or damaged file as OSError
        raise FileFormatError(path, None, f"not a readable HDF5 file ({e}); a cut-short download? "
                                          "fetch the ELMo weights again") from None
    with f:
        arrays = {name: _read_dataset(f, name, like.shape, path) for name, like in expected.items()}
    cnn = model.char_cnn

    def put(param: torch.Tensor, value: np.ndarray) -> None:
        with torch.no_grad():
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))

    emb = np.zeros(tuple(cnn.char_embed.weight.shape), dtype=np.float32)
    emb[1:] = arrays["char_embed"]  # prepend the zero row of the mask id 0
    put(cnn.char_embed.weight, emb)
    for i, conv in enumerate(cnn.conv_layers()):
        put(conv.weight, arrays[f"CNN/W_cnn_{i}"][0].transpose(2, 1, 0))
        put(cast(torch.Tensor, conv.bias), arrays[f"CNN/b_cnn_{i}"])
    for k, (carry, transform) in enumerate(cnn.highways()):
        put(carry.weight, arrays[f"CNN_high_{k}/W_carry"].T)
        put(carry.bias, arrays[f"CNN_high_{k}/b_carry"])
        put(transform.weight, arrays[f"CNN_high_{k}/W_transform"].T)
        put(transform.bias, arrays[f"CNN_high_{k}/b_transform"])
    if cnn.proj is not None:
        put(cnn.proj.weight, arrays["CNN_proj/W_proj"].T)
        put(cnn.proj.bias, arrays["CNN_proj/b_proj"])
    for direction in _DIRECTIONS:
        for k, cell in enumerate(model.cells(direction)):
            g = _cell_group(direction, k)
            put(cell.gates.weight, arrays[f"{g}/W_0"].T)
            put(cell.gates.bias, arrays[f"{g}/B"])
            if cell.proj is not None:
                put(cell.proj.weight, arrays[f"{g}/W_P_0"].T)
    return model


def _read_dataset(f: h5py.File, name: str, shape: tuple[int, ...], path: str | Path) -> np.ndarray:
    try:
        node = f.get(name)
        if node is None:
            raise FileFormatError(path, name, "dataset missing; is this an ELMo weights file for these options "
                                              "(n_highway, filters, n_layers, projection)?")
        if not isinstance(node, h5py.Dataset) or node.dtype.kind not in "fiu":
            what = f"a {node.dtype} dataset" if isinstance(node, h5py.Dataset) else f"a {type(node).__name__}"
            raise FileFormatError(path, name, f"{what}, expected a float array")
        if node.shape != shape:
            raise FileFormatError(path, name, f"has shape {node.shape}, the options imply {shape}; options.json "
                                              "and weights do not belong together")
        a: np.ndarray = node[...].astype(np.float32)
    except FileFormatError:
        raise
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as e:  # damaged object headers or chunks
        raise FileFormatError(path, name, f"cannot be read ({type(e).__name__}: {e}); the file is damaged") from None
    if not np.isfinite(a).all():
        raise FileFormatError(path, name, "holds NaN or infinite values")
    return a


def save_weights(model: BiLM, path: str | Path) -> None:
    """Write ``model`` as an hdf5 file in the bilm-tf layout (write to a temp path yourself
    if the target must appear atomically)."""
    with h5py.File(path, "w") as f:
        for name, a in _named_arrays(model).items():
            f.create_dataset(name, data=a)
