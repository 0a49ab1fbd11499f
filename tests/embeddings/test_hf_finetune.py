"""Fine-tuning transformers classifiers (embeddings/hf/finetune.py) on tiny random checkpoints.

A tiny BERT (WordPiece), a tiny GPT-2 (byte-level BPE) and a tiny Llama (byte-level BPE
from a GGUF file, the layout of the SmolLM2 stand-in) learn a toy task: a sentence is a few
filler words plus one keyword from set A (label 0) or set B (label 1). The fine-tuned
model is compared with its own frozen features (mean-pooled top-layer vectors from the
adapter's ``embed()``, standardised, logistic regression), computed here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hf_tiny import CORPUS, build_tiny_bert, build_tiny_gpt2, build_tiny_llama_gguf
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from transformers import AutoTokenizer

import embeddings
from embeddings.hf.finetune import FinetuneSettings, finetune_classifier, finetune_embedder, warmup_linear

SET_A = "river rain boats muddy".split()
SET_B = "money cheque interest account".split()
FILLER = sorted({w for s in CORPUS for w in s.split()} - set(SET_A) - set(SET_B))


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    from embeddings.hf.gguf import converted_dir

    root = tmp_path_factory.mktemp("tiny-ft")
    (root / "llama").mkdir()
    gguf = build_tiny_llama_gguf(root / "llama" / "tiny-llama.Q4_1.gguf")
    return {"bert": build_tiny_bert(root / "bert"), "gpt2": build_tiny_gpt2(root / "gpt2"),
            "llama": converted_dir(gguf, "tiny-llama")}


def toy(n: int, seed: int) -> tuple[list[list[str]], list[int]]:
    rng = np.random.default_rng(seed)
    sentences, labels = [], []
    for _ in range(n):
        label = int(rng.integers(2))
        words = [str(w) for w in rng.choice(FILLER, size=int(rng.integers(4, 9)))]
        words.insert(int(rng.integers(len(words) + 1)), str(rng.choice(SET_B if label else SET_A)))
        sentences.append(words)
        labels.append(label)
    return sentences, labels


def frozen_score(emb, train, test) -> float:
    def feats(sentences):
        return np.stack([wv.vectors[:, -1].mean(axis=0) for wv in emb.embed(sentences)])

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    return float(model.fit(feats(train[0]), train[1]).score(feats(test[0]), test[1]))


@pytest.fixture(scope="module", params=["bert", "gpt2", "llama"])
def trained(request, tiny_dirs):
    """(adapter, fine-tuned classifier, train, test) for each tiny model, trained once."""
    emb = embeddings.load(f"hf:{tiny_dirs[request.param]}")
    train, test = toy(300, seed=0), toy(200, seed=1)
    # tiny random models need a larger rate and more epochs than BERT's fine-tuning defaults
    settings = FinetuneSettings(epochs=4, lr=2e-3, batch_size=16)
    clf = finetune_embedder(emb, *train, dev_sentences=test[0], dev_labels=test[1], settings=settings)
    return emb, clf, train, test


def test_finetuned_model_learns_the_toy_task_and_beats_frozen_features(trained) -> None:
    emb, clf, train, test = trained
    finetuned = float(np.mean(clf.predict(test[0]) == np.array(test[1])))
    frozen = frozen_score(emb, train, test)
    assert finetuned >= 0.95, (clf.history, frozen)
    assert finetuned > frozen + 0.05, (finetuned, frozen)
    assert [h["epoch"] for h in clf.history] == [1, 2, 3, 4]
    assert clf.history[-1]["dev_accuracy"] == pytest.approx(finetuned)
    assert clf.classes_.tolist() == [0, 1]
    proba = clf.predict_proba(test[0][:4])
    assert proba.shape == (4, 2) and np.allclose(proba.sum(axis=1), 1)


def test_prediction_reads_the_last_word_and_ignores_padding(trained) -> None:
    """Right padding is masked (encoders) or after the pooled last token (causal models)."""
    clf = trained[1]
    short = ["the", "cat", "money"]
    long = ["the", "cat", "sat", "on", "the", "mat", "and", "then", "it", "went", "to", "the", "river"]
    alone = clf.predict_proba([short])[0]
    padded = clf.predict_proba([short, long], batch_size=2)[0]
    np.testing.assert_allclose(padded, alone, rtol=0, atol=1e-5)
    assert clf.predict([short, ["the", "cat", "river"], long]).tolist() == [1, 0, 0]


def test_inputs_are_built_as_in_running_text(tiny_dirs) -> None:
    """GPT-2: BOS, then the pieces the words have mid-sentence; BERT: [CLS] ... [SEP]; both cut to max_length."""
    words = ["The", "river", "bank", "was", "muddy"]
    train = toy(20, seed=6)
    gpt = AutoTokenizer.from_pretrained(tiny_dirs["gpt2"])
    clf = finetune_classifier(tiny_dirs["gpt2"], *train, settings=FinetuneSettings(epochs=1, max_length=8))
    running = gpt(" " + " ".join(words), add_special_tokens=False)["input_ids"]
    assert clf.encode([words]) == [[gpt.bos_token_id] + running[:7]]
    bert_tok = AutoTokenizer.from_pretrained(tiny_dirs["bert"])
    clf = finetune_classifier(tiny_dirs["bert"], *train, settings=FinetuneSettings(epochs=1, max_length=6))
    full = bert_tok(" ".join(words))["input_ids"]
    assert clf.encode([words]) == [full[:5] + [bert_tok.sep_token_id]]
    assert clf.encode([[]]) == [[bert_tok.cls_token_id, bert_tok.sep_token_id]]


def test_finetune_embedder_takes_the_adapters_conventions(tiny_dirs) -> None:
    emb = embeddings.load(f"hf:{tiny_dirs['gpt2']}", lowercase=True)
    train = toy(20, seed=7)
    clf = finetune_embedder(emb, *train, settings=FinetuneSettings(epochs=1))
    assert clf.source == emb.source
    assert clf.encode([["The", "River"]]) == clf.encode([["the", "river"]])
    assert clf.encode([["The", "River"]])[0][1:] == emb.word_pieces([["The", "River"]])[0].ids


def test_same_seed_same_predictions_and_the_seed_matters(tiny_dirs) -> None:
    train, test = toy(60, seed=3), toy(30, seed=4)
    runs = [finetune_classifier(tiny_dirs["gpt2"], *train, settings=FinetuneSettings(epochs=1, lr=1e-3, seed=s))
            for s in (0, 0, 1)]
    p = [r.predict_proba(test[0]) for r in runs]
    np.testing.assert_array_equal(p[0], p[1])
    assert not np.allclose(p[0], p[2])


def test_settings_and_input_are_checked(tiny_dirs) -> None:
    train = toy(10, seed=8)
    with pytest.raises(ValueError, match="exceeds the model's maximum input"):
        finetune_classifier(tiny_dirs["bert"], *train, settings=FinetuneSettings(max_length=100))
    with pytest.raises(ValueError, match="10 sentences but labels of shape"):
        finetune_classifier(tiny_dirs["bert"], train[0], train[1][:3])
    with pytest.raises(ValueError, match="warmup_frac"):
        FinetuneSettings(warmup_frac=1.0)


def test_warmup_then_linear_decay() -> None:
    mults = [warmup_linear(t, 100, 0.1) for t in range(100)]
    assert mults[:10] == pytest.approx([(t + 1) / 10 for t in range(10)])
    assert mults[10] == pytest.approx(1.0) and mults[99] == pytest.approx(1 / 90)
    assert all(a >= b for a, b in zip(mults[10:], mults[11:]))
