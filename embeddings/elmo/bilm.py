"""The ELMo biLM in PyTorch: a character CNN, then forward and backward LSTM stacks.

Architecture and numerics follow the original TensorFlow code (bilm-tf), so that a
checkpoint in the official layout (see :mod:`embeddings.elmo.hdf5_format`) gives the same
activations as the original:

- char CNN: char embedding -> one convolution per filter width -> max over characters ->
  activation (``char_cnn.activation``: relu or tanh) -> ``n_highway`` highway layers
  (``y = g * relu(x W_t + b_t) + (1 - g) * x`` with ``g = sigmoid(x W_c + b_c)``) -> a
  linear projection to ``lstm.projection_dim`` (absent when the filters already have that
  width);
- per direction, ``lstm.n_layers`` LSTM cells with the gates packed as (input, candidate,
  forget, output), +1.0 added to the forget gate at run time, the cell state clipped to
  ``cell_clip``, the output projected to ``projection_dim`` and clipped to ``proj_clip``;
  with ``use_skip_connections`` every layer after the first adds its input to its output.
- padding: steps beyond a row's length leave its state unchanged (as TensorFlow's
  ``dynamic_rnn`` with ``sequence_length``), so the state after a batch is each row's state
  after its last real token; the backward stack reads each row reversed within its length.

Examples
--------
>>> import torch
>>> opts = ElmoOptions.from_dict(tiny_options_dict())
>>> model = BiLM(opts).eval()
>>> ids = torch.ones(2, 3, opts.max_chars, dtype=torch.long)
>>> out = model(ids, torch.tensor([3, 2]))
>>> out.token.shape, len(out.layers), out.layers[0].shape
(torch.Size([2, 3, 8]), 2, torch.Size([2, 3, 16]))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

import torch
from torch import nn

from embeddings.elmo.chars import N_CHAR_IDS
from embeddings.support.errors import FileFormatError
from embeddings.support.jsonfile import read_json

#: Added to the forget gate's pre-activation at run time (TensorFlow's LSTMCell default).
FORGET_BIAS = 1.0

_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


@dataclass(frozen=True)
class ElmoOptions:
    """The fields of an ELMo ``options.json`` that define the network.

    ``raw`` keeps the whole parsed file (training-only keys included), so a writer can save
    it back unchanged.
    """

    char_dim: int
    filters: tuple[tuple[int, int], ...]
    n_highway: int
    n_characters: int
    max_chars: int
    activation: str
    lstm_dim: int
    projection_dim: int
    n_layers: int
    cell_clip: float | None
    proj_clip: float | None
    skip_connections: bool
    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str | Path = "<options>") -> ElmoOptions:
        """The options from a parsed ``options.json``; every field is checked.

        Raises :class:`~embeddings.support.errors.FileFormatError` naming ``source`` and the
        key (``lstm.dim``) for a missing field, a wrong type (a string for a number, a float
        for a count, ``"false"`` for a boolean), a size below 1 or absurdly large, a NaN clip.
        """
        if not isinstance(d, dict):
            raise FileFormatError(source, 1, f"not an ELMo options.json (bilm-tf layout): expected a JSON object "
                                                f"with 'char_cnn' and 'lstm', got {type(d).__name__}")
        cnn, lstm = (_section(d, key, source) for key in ("char_cnn", "lstm"))
        emb = _section(cnn, "embedding", source, "char_cnn.")
        filters = cnn.get("filters")
        if not isinstance(filters, list) or not filters or not all(
                isinstance(f, list) and len(f) == 2 for f in filters):
            raise FileFormatError(source, "char_cnn.filters", f"expected a non-empty list of [width, count] "
                                                              f"pairs, got {filters!r:.60}")
        widths = tuple((_count(w, source, f"char_cnn.filters[{i}][0]"), _count(n, source, f"char_cnn.filters[{i}][1]"))
                       for i, (w, n) in enumerate(filters))
        activation = cnn.get("activation", "relu")
        if not isinstance(activation, str) or activation not in _ACTIVATIONS:
            raise FileFormatError(source, "char_cnn.activation",
                                  f"{activation!r:.40} is not one of {sorted(_ACTIVATIONS)}")
        dim = _count(lstm.get("dim"), source, "lstm.dim")
        opts = cls(
            char_dim=_count(emb.get("dim"), source, "char_cnn.embedding.dim"),
            filters=widths,
            n_highway=_count(cnn.get("n_highway", 0), source, "char_cnn.n_highway", minimum=0),
            n_characters=_count(cnn.get("n_characters", 262), source, "char_cnn.n_characters"),
            max_chars=_count(cnn.get("max_characters_per_token", 50), source, "char_cnn.max_characters_per_token"),
            activation=activation,
            lstm_dim=dim,
            projection_dim=_count(lstm.get("projection_dim", dim), source, "lstm.projection_dim"),
            n_layers=_count(lstm.get("n_layers"), source, "lstm.n_layers"),
            cell_clip=_clip(lstm.get("cell_clip"), source, "lstm.cell_clip"),
            proj_clip=_clip(lstm.get("proj_clip"), source, "lstm.proj_clip"),
            skip_connections=_flag(lstm.get("use_skip_connections", False), source, "lstm.use_skip_connections"),
            raw=d,
        )
        widest = max(w for w, _ in opts.filters)
        if widest > opts.max_chars:
            raise FileFormatError(source, "char_cnn.max_characters_per_token",
                                  f"{opts.max_chars} characters, narrower than the widest filter ({widest})")
        return opts

    @classmethod
    def from_file(cls, path: str | Path) -> ElmoOptions:
        """Read an ``options.json``; errors name the file and the line or key."""
        return cls.from_dict(read_json(path), source=path)

    @property
    def n_filters(self) -> int:
        return sum(n for _, n in self.filters)

    @property
    def use_projection(self) -> bool:
        """The char CNN has a projection layer unless the filters already give projection_dim."""
        return self.n_filters != self.projection_dim

    @property
    def lstm_projects(self) -> bool:
        """The LSTM cells have a projection (W_P_0) when projection_dim < dim."""
        return self.projection_dim < self.lstm_dim


#: the largest size any options field may ask for (a damaged file must not allocate terabytes)
MAX_SIZE = 1 << 20
_MISSING = object()


def _section(d: dict[str, Any], key: str, source: str | Path, prefix: str = "") -> dict[str, Any]:
    value = d.get(key, _MISSING)
    if not isinstance(value, dict):
        got = "missing" if value is _MISSING else f"a {type(value).__name__}"
        raise FileFormatError(source, prefix + key, f"{got}, expected an object; not an ELMo options.json "
                                                    "(bilm-tf layout: 'char_cnn' {embedding.dim, filters, n_highway, "
                                                    "...} and 'lstm' {dim, projection_dim, n_layers, ...})")
    return value


def _count(value: Any, source: str | Path, key: str, minimum: int = 1) -> int:
    """A whole number in [minimum, MAX_SIZE]; 4.0 is read as 4, 4.5, "4" and true are refused."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_SIZE:
        raise FileFormatError(source, key, f"expected a whole number from {minimum} to {MAX_SIZE}, got {value!r:.40}")
    return value


def _clip(value: Any, source: str | Path, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise FileFormatError(source, key, f"expected a positive number or null, got {value!r:.40}")
    return float(value)


def _flag(value: Any, source: str | Path, key: str) -> bool:
    if not isinstance(value, bool):
        raise FileFormatError(source, key, f"expected true or false, got {value!r:.40}")
    return value


def tiny_options_dict(**overrides: Any) -> dict[str, Any]:
    """A small options dict (for doctests and tests); keyword overrides replace top-level keys."""
    d: dict[str, Any] = {
        "lstm": {"cell_clip": 3, "use_skip_connections": True, "n_layers": 2, "proj_clip": 3,
                 "projection_dim": 8, "dim": 16},
        "char_cnn": {"embedding": {"dim": 4}, "filters": [[1, 4], [2, 4]], "n_highway": 1,
                     "n_characters": 262, "max_characters_per_token": 50, "activation": "relu"},
    }
    d.update(overrides)
    return d


class CharCNN(nn.Module):
    """Token ids (batch, n_tokens, max_chars) -> context-independent vectors (batch, n_tokens, proj)."""

    def __init__(self, opts: ElmoOptions) -> None:
        super().__init__()
        self.opts = opts
        # row 0 is the mask id; rows 1..261 are the file's char_embed rows (ids 0..260)
        self.char_embed = nn.Embedding(N_CHAR_IDS, opts.char_dim, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(opts.char_dim, n, w) for w, n in opts.filters)
        d = opts.n_filters
        self.highway_carry = nn.ModuleList(nn.Linear(d, d) for _ in range(opts.n_highway))
        self.highway_transform = nn.ModuleList(nn.Linear(d, d) for _ in range(opts.n_highway))
        self.proj = nn.Linear(d, opts.projection_dim) if opts.use_projection else None
        self.activation = _ACTIVATIONS[opts.activation]

    def conv_layers(self) -> list[nn.Conv1d]:
        """One Conv1d per filter width, in the options' order."""
        return [cast(nn.Conv1d, c) for c in self.convs]

    def highways(self) -> list[tuple[nn.Linear, nn.Linear]]:
        """(carry, transform) Linear pairs; "carry" is the gate on the transform (file naming)."""
        return [(cast(nn.Linear, c), cast(nn.Linear, t))
                for c, t in zip(self.highway_carry, self.highway_transform, strict=True)]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        b, t, c = ids.shape
        x = self.char_embed(ids.reshape(b * t, c)).transpose(1, 2)  # (b*t, char_dim, c)
        pooled = [self.activation(conv(x).max(dim=2).values) for conv in self.convs]
        h = torch.cat(pooled, dim=1)
        for carry, transform in self.highways():
            g = torch.sigmoid(carry(h))
            h = g * torch.relu(transform(h)) + (1.0 - g) * h
        if self.proj is not None:
            h = self.proj(h)
        return h.reshape(b, t, -1)


class LSTMState(NamedTuple):
    """One cell's state: c (batch, lstm_dim) and h (batch, projection_dim)."""

    c: torch.Tensor
    h: torch.Tensor


class ProjectedLSTM(nn.Module):
    """One LSTM layer with cell/projection clipping, run over a padded batch.

    ``gates`` holds TensorFlow's W_0 (as a torch Linear on [input; h_prev]) and B; gates are
    kept in the file's order (input, candidate, forget, output).
    """

    def __init__(self, in_dim: int, opts: ElmoOptions, residual: bool) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.cell_dim = opts.lstm_dim
        self.out_dim = opts.projection_dim if opts.lstm_projects else opts.lstm_dim
        self.gates = nn.Linear(in_dim + self.out_dim, 4 * self.cell_dim)
        self.proj = nn.Linear(self.cell_dim, self.out_dim, bias=False) if opts.lstm_projects else None
        self.cell_clip = opts.cell_clip
        self.proj_clip = opts.proj_clip
        self.residual = residual

    def zero_state(self, batch: int, like: torch.Tensor) -> LSTMState:
        return LSTMState(like.new_zeros(batch, self.cell_dim), like.new_zeros(batch, self.out_dim))


def run_cells(cells: list[ProjectedLSTM], x: torch.Tensor, lengths: torch.Tensor,
              state: list[LSTMState] | None = None, track_state: bool = True
              ) -> tuple[torch.Tensor, list[LSTMState]]:
    """Run several same-shaped LSTM layers (one per direction) side by side.

    ``x`` is (n_cells, batch, n, in_dim), each cell's input already in its reading order;
    returns the outputs (n_cells, batch, n, out_dim), zero beyond each row's length, and
    each cell's state after the row's last real step (``track_state=False`` skips keeping
    the state still over padding: outputs are the same, the returned state is not; for
    training). The directions share one time loop (batched matmuls), which halves the
    Python overhead.
    """
    first = cells[0]
    d, b, t, _ = x.shape
    w = torch.stack([c.gates.weight for c in cells])  # (d, 4c, in + out)
    bias = torch.stack([c.gates.bias for c in cells])  # (d, 4c)
    forget = torch.zeros_like(bias[0])
    forget[2 * first.cell_dim : 3 * first.cell_dim] = FORGET_BIAS
    # the input part of every step at once; the +1.0 forget bias folded in
    w_x = w[:, :, : first.in_dim].transpose(1, 2)  # (d, in, 4c)
    x_part = torch.baddbmm((bias + forget)[:, None], x.reshape(d, b * t, -1), w_x)
    # one tensor per step: unbind (not indexing in the loop, whose backward is O(n^2))
    x_steps = x_part.reshape(d, b, t, -1).unbind(2)
    w_h = w[:, :, first.in_dim :].transpose(1, 2)  # (d, out, 4c)
    w_p = None  # (d, cell, out)
    if first.proj is not None:
        w_p = torch.stack([cast(nn.Linear, c.proj).weight.t() for c in cells])
    if state is None:
        c = x.new_zeros(d, b, first.cell_dim)
        h = x.new_zeros(d, b, first.out_dim)
    else:
        c = torch.stack([s.c for s in state])
        h = torch.stack([s.h for s in state])
    valid = (torch.arange(t, device=x.device)[None, :] < lengths[:, None]).unsqueeze(-1)  # (b, t, 1)
    valid_steps = valid.unbind(1)
    n = first.cell_dim
    outs = []
    for k in range(t):
        z = torch.baddbmm(x_steps[k], h, w_h)
        gates = torch.sigmoid(z)
        c_new = torch.addcmul(gates[..., 2 * n : 3 * n] * c, gates[..., :n], torch.tanh(z[..., n : 2 * n]))
        if first.cell_clip is not None:
            c_new = c_new.clamp(-first.cell_clip, first.cell_clip)
        h_new = gates[..., 3 * n :] * torch.tanh(c_new)
        if w_p is not None:
            h_new = torch.bmm(h_new, w_p)
        if first.proj_clip is not None:
            h_new = h_new.clamp(-first.proj_clip, first.proj_clip)
        if track_state:
            m = valid_steps[k]
            c = torch.where(m, c_new, c)
            h = torch.where(m, h_new, h)
        else:
            c, h = c_new, h_new
        outs.append(h_new)
    out = torch.stack(outs, dim=2) if outs else x.new_zeros(d, b, 0, first.out_dim)
    if first.residual:
        out = out + x
    return out * valid, [LSTMState(c[i], h[i]) for i in range(d)]


class BiLMOutput(NamedTuple):
    """token: (batch, n, proj); layers: per LSTM layer (batch, n, 2*proj) = [forward; backward]."""

    token: torch.Tensor
    layers: list[torch.Tensor]
    state: dict[str, list[LSTMState]]  # {"fw": [...], "bw": [...]}, one per layer


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row of (batch, n, ...) within its length (TensorFlow's reverse_sequence)."""
    b, t = x.shape[:2]
    steps = torch.arange(t, device=x.device).expand(b, t)
    idx = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    idx = idx.reshape(b, t, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, idx)


class BiLM(nn.Module):
    """Char CNN + forward and backward LSTM stacks; see the module docstring."""

    def __init__(self, opts: ElmoOptions) -> None:
        super().__init__()
        self.opts = opts
        self.char_cnn = CharCNN(opts)
        dim = opts.projection_dim
        self.directions = nn.ModuleDict()
        for name in ("fw", "bw"):
            cells = []
            in_dim = dim
            for k in range(opts.n_layers):
                cell = ProjectedLSTM(in_dim, opts, residual=opts.skip_connections and k > 0)
                cells.append(cell)
                in_dim = cell.out_dim
            self.directions[name] = nn.ModuleList(cells)

    @property
    def output_dim(self) -> int:
        """Width of one direction's LSTM output (projection_dim, or dim without projection)."""
        return int(self.cells("fw")[0].out_dim)

    def cells(self, direction: str) -> list[ProjectedLSTM]:
        """The LSTM layers of one direction ("fw" or "bw"), bottom first."""
        return [cast(ProjectedLSTM, c) for c in cast(nn.ModuleList, self.directions[direction])]

    def run_lstms(self, token: torch.Tensor, lengths: torch.Tensor,
                  state: dict[str, list[LSTMState]] | None = None, track_state: bool = True
                  ) -> tuple[dict[str, list[torch.Tensor]], dict[str, list[LSTMState]]]:
        """Both LSTM stacks over token vectors (batch, n, proj); outputs in reading order.

        Returns ``({"fw": [per layer (batch, n, out)], "bw": [...]}, final states)``.
        """
        x = torch.stack([token, reverse_padded(token, lengths)])
        outputs: dict[str, list[torch.Tensor]] = {"fw": [], "bw": []}
        new_state: dict[str, list[LSTMState]] = {"fw": [], "bw": []}
        for k in range(self.opts.n_layers):
            cells = [self.cells("fw")[k], self.cells("bw")[k]]
            init = None if state is None else [state["fw"][k], state["bw"][k]]
            x, (s_fw, s_bw) = run_cells(cells, x, lengths, init, track_state)
            outputs["fw"].append(x[0])
            outputs["bw"].append(reverse_padded(x[1], lengths))
            new_state["fw"].append(s_fw)
            new_state["bw"].append(s_bw)
        return outputs, new_state

    def forward(self, char_ids: torch.Tensor, lengths: torch.Tensor,
                state: dict[str, list[LSTMState]] | None = None,
                token: torch.Tensor | None = None) -> BiLMOutput:
        """Run the biLM.

        Parameters
        ----------
        char_ids : long tensor (batch, n, max_chars)
            From :func:`embeddings.elmo.chars.batch_char_ids` (boundary tokens included).
        lengths : long tensor (batch,)
        state : optional initial states per direction and layer (zeros when None).
        token : optional precomputed char-CNN output (batch, n, proj); skips the CNN.
        """
        if token is None:
            token = self.char_cnn(char_ids)
        outputs, new_state = self.run_lstms(token, lengths, state)
        layers = [torch.cat([f, b], dim=-1) for f, b in zip(outputs["fw"], outputs["bw"], strict=True)]
        return BiLMOutput(token, layers, new_state)
