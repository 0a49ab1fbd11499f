"""The AWD-LSTM language model (Merity et al. 2018) as ULMFiT uses it (Howard & Ruder 2018).

An embedding (``emb_sz``), ``n_layers`` single-layer LSTMs (``n_hid`` wide, the last one
projecting back to ``emb_sz`` so the decoder can share the embedding matrix), and a linear
decoder tied to the embedding. Training uses AWD-LSTM's regularisers with fastai's
language-model defaults (embedding dropout 0.02 of whole words, variational dropout 0.25 on
the input, 0.15 between layers, 0.1 on the output, DropConnect 0.2 on the hidden-to-hidden
matrices); ``eval()`` turns every one of them off, so inference is a plain LSTM stack.

Examples
--------
>>> import torch
>>> m = AWDLSTM(AWDConfig(vocab_size=20, emb_sz=4, n_hid=6, n_layers=3)).eval()
>>> [tuple(h.shape) for h in m.encode(torch.tensor([[2, 5, 7]]))]
[(1, 3, 4), (1, 3, 6), (1, 3, 6), (1, 3, 4)]
>>> m.layer_dims
[4, 6, 6, 4]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

Hidden = list[tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class AWDConfig:
    """Sizes and (training-only) dropout rates of an AWD-LSTM language model.

    Defaults are fastai's ``awd_lstm_lm_config`` (the WT103 model: 400 / 1152 / 3 layers).
    """

    vocab_size: int
    emb_sz: int = 400
    n_hid: int = 1152
    n_layers: int = 3
    tie_weights: bool = True
    out_bias: bool = True
    embed_p: float = 0.02
    input_p: float = 0.25
    hidden_p: float = 0.15
    weight_p: float = 0.2
    output_p: float = 0.1

    def __post_init__(self) -> None:
        if min(self.vocab_size, self.emb_sz, self.n_hid, self.n_layers) < 1:
            raise ValueError(f"sizes must be >= 1: {self}")

    def layer_sizes(self) -> list[tuple[int, int]]:
        """(input width, hidden width) of each LSTM layer."""
        outs = [self.n_hid] * (self.n_layers - 1) + [self.emb_sz]
        ins = [self.emb_sz] + outs[:-1]
        return list(zip(ins, outs, strict=True))

    def scaled(self, drop_mult: float) -> AWDConfig:
        """The same model with every dropout multiplied by ``drop_mult`` (fastai's knob)."""
        d = asdict(self)
        for k in ("embed_p", "input_p", "hidden_p", "weight_p", "output_p"):
            d[k] = d[k] * drop_mult
        return AWDConfig(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AWDConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown AWD-LSTM config keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)


def _locked_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Variational dropout: one mask per sequence, shared over time. x: (B, T, D)."""
    if not training or p == 0:
        return x
    mask = x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1 - p) / (1 - p)
    return x * mask


class AWDLSTM(nn.Module):
    """AWD-LSTM language model: ``encode`` gives every layer, ``forward`` the logits.

    Parameters are named ``encoder.weight``, ``rnns.{i}.weight_ih_l0`` / ``weight_hh_l0`` /
    ``bias_ih_l0`` / ``bias_hh_l0``, ``decoder.weight`` (the embedding, when tied) and
    ``decoder.bias``; fastai's names for the same tensors are in
    :mod:`embeddings.ulmfit.checkpoint`.
    """

    def __init__(self, config: AWDConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = nn.Embedding(config.vocab_size, config.emb_sz)
        self.rnns = nn.ModuleList(
            [nn.LSTM(n_in, n_out, num_layers=1, batch_first=True) for n_in, n_out in config.layer_sizes()]
        )
        self.decoder = nn.Linear(config.emb_sz, config.vocab_size, bias=config.out_bias)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        if config.tie_weights:
            self.decoder.weight = self.encoder.weight
        else:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        if config.out_bias:
            nn.init.zeros_(self.decoder.bias)

    @property
    def layer_dims(self) -> list[int]:
        """Widths of the embedding and each LSTM layer's output."""
        return [self.config.emb_sz] + [n_out for _, n_out in self.config.layer_sizes()]

    def _embed(self, ids: torch.Tensor) -> torch.Tensor:
        w = self.encoder.weight
        p = self.config.embed_p
        if self.training and p > 0:  # drop whole words: one mask entry per vocabulary row
            w = w * (w.new_empty(w.size(0), 1).bernoulli_(1 - p) / (1 - p))
        return F.embedding(ids, w)

    def _run_rnn(self, i: int, x: torch.Tensor, h: tuple[torch.Tensor, torch.Tensor] | None
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        rnn = self.rnns[i]
        p = self.config.weight_p
        if self.training and p > 0:  # DropConnect on the hidden-to-hidden matrix (AWD-LSTM)
            w_hh = cast(torch.Tensor, rnn.weight_hh_l0)
            dropped = {"weight_hh_l0": F.dropout(w_hh, p=p, training=True)}
            return cast(tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]],
                        functional_call(rnn, dropped, (x, h), strict=False))
        return cast(tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]], rnn(x, h))

    def encode(self, ids: torch.Tensor, hidden: Hidden | None = None, *, return_hidden: bool = False
               ) -> Any:
        """Every layer's output for token ids of shape (batch, time).

        Returns a list ``[emb, lstm1, ..., lstmN]`` of (batch, time, width) tensors (without
        dropout in eval mode); with ``return_hidden`` also the final (h, c) of each layer.
        """
        c = self.config
        x = self._embed(ids)
        outputs = [x]
        x = _locked_dropout(x, c.input_p, self.training)
        new_hidden: Hidden = []
        for i in range(c.n_layers):
            x, h = self._run_rnn(i, x, None if hidden is None else hidden[i])
            new_hidden.append(h)
            outputs.append(x)
            if i < c.n_layers - 1:
                x = _locked_dropout(x, c.hidden_p, self.training)
        return (outputs, new_hidden) if return_hidden else outputs

    def forward(self, ids: torch.Tensor, hidden: Hidden | None = None) -> tuple[torch.Tensor, Hidden]:
        """Next-token logits (batch, time, vocab) and the final hidden state of each layer."""
        outputs, new_hidden = self.encode(ids, hidden, return_hidden=True)
        top = _locked_dropout(outputs[-1], self.config.output_p, self.training)
        return self.decoder(top), new_hidden

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Parameter groups bottom to top, for discriminative learning rates.

        ``[lstm1], [lstm2], ..., [embedding + decoder]``: the tied embedding/decoder is the
        top group, as in fastai's split of the language model.
        """
        groups = [list(r.parameters()) for r in self.rnns]
        top = list(self.encoder.parameters())
        top += [p for p in self.decoder.parameters() if all(p is not q for q in top)]
        return groups + [top]
