"""The raw forward passes of the ELMo biLM and the ULMFiT AWD-LSTM: the baselines of ``rnn``.

Each takes the embedder's own network (the module its ``embed()`` calls) and runs just what
the network needs, on length-sorted, right-padded batches of the adapter's batch size: the
model's input ids (ELMo: characters of ``<S> words </S>``; ULMFiT: fastai tokens with
``xxbos``), built inside the timed region as a user must, then the forward pass (ELMo:
``BiLM.forward``, char CNN included; ULMFiT: ``AWDLSTM.encode``, every layer, no decoder;
both directions when the embedder has two). Nothing is copied out, aligned or padded to
the output width.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.perf.hf_baselines import length_batches
from embeddings.support.threads import torch_threads


class ElmoRawForward:
    """``BiLM.forward(char_ids, lengths)`` per length-sorted batch."""

    def __init__(self, embedder: Any, *, threads: int | None) -> None:
        self.model = embedder.model
        self.max_chars = int(embedder.opts.max_chars)
        self.batch_size = int(embedder.batch_size)
        self.threads = threads

    def __call__(self, sentences: Sequence[Sequence[str]]) -> None:
        import torch

        from embeddings.elmo.chars import BOS, EOS, batch_char_ids

        with torch_threads(self.threads), torch.no_grad():
            for batch in length_batches(sentences, self.batch_size):
                padded = [[BOS, *sentences[i], EOS] for i in batch]
                ids = torch.from_numpy(batch_char_ids(padded, self.max_chars))
                self.model(ids, torch.tensor([len(p) for p in padded]))


class UlmfitRawForward:
    """``AWDLSTM.encode(ids)`` per length-sorted batch, for each language model (fwd, bwd)."""

    def __init__(self, embedder: Any, *, threads: int | None) -> None:
        self.lms = list(embedder.lms)
        self.markers = bool(getattr(embedder, "markers", True))
        self.batch_size = int(embedder.batch_size)
        self.threads = threads

    def __call__(self, sentences: Sequence[Sequence[str]]) -> None:
        import torch

        from embeddings.ulmfit.tokens import encode_words
        from embeddings.ulmfit.vocab import PAD

        with torch_threads(self.threads), torch.no_grad():
            for k, lm in enumerate(self.lms):
                pad = lm.vocab.index(PAD) if PAD in lm.vocab else 0
                for batch in length_batches(sentences, self.batch_size):
                    seqs = [encode_words(sentences[i], lm.vocab, backward=k == 1, markers=self.markers).ids
                            for i in batch]
                    ids = torch.full((len(seqs), max(len(s) for s in seqs)), pad, dtype=torch.long)
                    for b, s in enumerate(seqs):
                        ids[b, : len(s)] = torch.from_numpy(s)
                    lm.model.encode(ids)
