"""Analogy: equal to gensim's evaluate_word_analogies / most_similar_cosmul; OOV, casing, layers."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from gensim.models import KeyedVectors

import embeddings
from bench.datasets.analogy import Question, load_questions, read_questions_words
from bench.tasks import get_task
from bench.tasks.analogy import AnalogyTask
from embeddings.base import Embedder
from embeddings.random_vectors import RandomEmbedder
from embeddings.static import StaticEmbedder


@pytest.fixture(scope="module")
def glove():
    return embeddings.load("glove-6b-50d")


@pytest.fixture(scope="module")
def google_subset(tmp_path_factory) -> tuple[list[Question], str]:
    """Every 20th question of each Google section, written back in questions-words format."""
    by_section: dict[str, list[Question]] = defaultdict(list)
    for q in load_questions("google-analogy"):
        by_section[q.section].append(q)
    subset = [q for qs in by_section.values() for q in qs[::20]]
    path = tmp_path_factory.mktemp("analogy") / "questions-subset.txt"
    lines = []
    for section, qs in by_section.items():
        lines.append(f": {section}")
        lines += [" ".join(q[:4]) for q in qs[::20]]
    path.write_text("\n".join(lines) + "\n")
    assert read_questions_words(path) == subset
    return subset, str(path)


def _task(questions: list[Question], **settings) -> AnalogyTask:
    task = get_task("analogy-google", n_boot=100, **settings)
    task.split_questions = lambda: questions  # the same scoring code, on a subset as the whole dataset
    return task


def test_3cosadd_equals_gensim_evaluate_word_analogies(glove, google_subset):
    questions, path = google_subset
    out = _task(questions, restrict_vocab=10_000).run(glove)
    (r,) = out.results
    score, sections = glove.kv.evaluate_word_analogies(path, restrict_vocab=10_000)
    total = sections[-1]
    n_gensim = len(total["correct"]) + len(total["incorrect"])
    assert r.n == n_gensim and r.total == len(questions)
    assert r.value == pytest.approx(score, abs=1e-12)
    for s in sections[:-1]:
        mine = r.extra["sections"][s["section"]]
        n = len(s["correct"]) + len(s["incorrect"])
        assert mine["n"] == n
        if n:
            assert mine["3cosadd"] * n == pytest.approx(len(s["correct"]))
    assert r.extra["accuracy_oov_as_wrong"]["3cosadd"] == pytest.approx(
        len(total["correct"]) / len(questions)
    )
    assert 0.2 < r.value < 0.9  # a real model solves many, not all
    assert r.ci_low < r.value < r.ci_high


def test_3cosmul_equals_gensim_most_similar_cosmul(glove):
    n_vocab = 5_000
    words = glove.vocabulary()[:n_vocab]
    kv = KeyedVectors(vector_size=glove.dim, count=0)
    kv.add_vectors(words, np.asarray(glove.kv.vectors[:n_vocab]))
    known = set(words)
    questions = [q for q in load_questions("google-analogy")[::20] if all(w.lower() in known for w in q[:4])][
        :120
    ]
    assert len(questions) >= 80
    expected = []
    for q in questions:
        a, b, c, d = (w.lower() for w in q[:4])
        expected.append(kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0] == d)
    small = StaticEmbedder(kv, name="glove-5k", family="glove", lowercase=True)
    (r,) = _task(questions, restrict_vocab=n_vocab, epsilon=1e-6, method="3cosmul").run(small).results
    assert r.n == len(questions)
    assert r.value == pytest.approx(np.mean(expected), abs=1e-12)


def _toy(words_vecs: dict[str, list[float]], lowercase: bool = False) -> StaticEmbedder:
    kv = KeyedVectors(vector_size=len(next(iter(words_vecs.values()))), count=0)
    kv.add_vectors(list(words_vecs), np.array(list(words_vecs.values()), dtype=np.float32))
    return StaticEmbedder(kv, name="toy", family="other", lowercase=lowercase)


TOY = {  # gender and royalty as two exact directions
    "man": [1, 0, 0, 1],
    "woman": [1, 1, 0, 1],
    "king": [1, 0, 1, 1],
    "queen": [1, 1, 1, 1],
    "boy": [1, 0, 0, 2],
    "girl": [1, 1, 0, 2],
    "Paris": [5, 0, 0, 0],
    "paris": [0, 0, 0, -5],
}


def test_toy_analogies_exclusion_and_casing():
    emb = _toy(TOY)
    qs = [
        Question("man", "woman", "king", "queen", "s"),
        Question("man", "king", "woman", "queen", "s"),
        Question("boy", "girl", "man", "woman", "s"),
        Question("man", "woman", "boy", "zebra", "s"),
        Question("MAN", "WOMAN", "KING", "QUEEN", "t"),
    ]
    (r,) = _task(qs).run(emb).results
    assert r.n == 4 and r.total == 5  # 'zebra' is not a candidate: dropped, counted
    assert r.value == 1.0 and r.extra["3cosmul"] == 1.0
    assert r.extra["sections"]["t"] == {"n": 1, "total": 1, "3cosadd": 1.0, "3cosmul": 1.0}
    assert r.extra["accuracy_oov_as_wrong"]["3cosadd"] == pytest.approx(4 / 5)
    (exact,) = _task(qs, case_insensitive=False).run(emb).results
    assert exact.n == 3  # upper-cased words do not match exactly
    # any spelling of the answer counts (gensim compares upper-cased words)
    cased = _toy({**TOY, "Queen": [1, 1, 1, 1.01], "queen": [0, 0, 0, -3]})
    (r2,) = _task(qs[:1]).run(cased).results
    assert r2.n == 1 and r2.value == 1.0  # predicts 'Queen', the key of 'queen'
    # the answer may not be a question word: b - a + c = c here, the next best is chosen
    (same,) = _task([Question("man", "man", "king", "king", "s")]).run(emb).results
    assert same.value == 0.0


def test_oov_mean_policy_scores_every_answerable_question():
    emb = _toy(TOY)
    qs = [
        Question("man", "woman", "king", "queen", "s"),
        Question("dragon", "woman", "king", "queen", "s"),
        Question("man", "woman", "king", "unicorn", "s"),
    ]
    (drop,) = _task(qs).run(emb).results
    (mean,) = _task(qs, oov="mean").run(emb).results
    assert (drop.n, drop.value) == (1, 1.0)
    assert mean.n == 3 and mean.protocol["oov"] == "mean"
    assert mean.value <= 2 / 3  # the unanswerable question counts wrong


def test_restrict_vocab_limits_candidates(glove):
    qs = [Question("athens", "greece", "baghdad", "iraq", "s")]
    (wide,) = _task(qs, restrict_vocab=50_000).run(glove).results
    assert wide.n == 1 and wide.protocol["n_candidates"] == 50_000
    with pytest.raises(ValueError, match="none of the 1 questions"):
        _task(qs, restrict_vocab=1_000).run(glove)


def test_without_vocabulary_uses_dataset_words_and_selects_layer_on_dev():
    emb = RandomEmbedder(dim=16, n_layers=3, seed=1)
    assert emb.vocabulary() is None  # the declared capability: no closed vocabulary
    out = get_task("analogy-msr", limit=300, n_boot=50).run(emb)
    assert len(out.results) == 3 and {r.layer for r in out.results} == set(emb.layers)
    r = out.results[0]
    assert "dataset's words" in r.protocol["candidates"] and r.n == 300
    assert 0.0 <= r.value <= 0.2  # random vectors solve (almost) nothing
    sel = out.selection
    assert sel.layer in emb.layers and "dev half" in sel.criterion
    assert sel.n == len(sel.items.ids) and 0 < sel.n < 300


def test_msr_sections_and_settings(glove):
    out = get_task("analogy-msr", restrict_vocab=20_000, n_boot=50, limit=1500).run(glove)
    (r,) = out.results
    assert set(r.extra["sections"]) == {q.section for q in load_questions("msr-analogy")[:1500]}
    # coverage: the whole dataset is the total, the cap is the sample, n what was scored
    assert r.n <= r.sampled == 1500 and r.total == len(load_questions("msr-analogy")) and 0.1 < r.value < 0.9
    with pytest.raises(ValueError, match="method"):
        get_task("analogy-google", method="3cosavg")


def test_closed_vocabulary_is_the_same_for_every_model_and_fallbacks_are_flagged(glove):
    from bench.tasks import get_task
    from embeddings.random_vectors import RandomEmbedder

    closed = get_task("analogy-msr-closed", limit=300, n_boot=20)
    g = closed.run(glove).results[0].protocol
    r = closed.run(RandomEmbedder(dim=8)).results[0].protocol
    assert g["comparable"] and r["comparable"] and "closed vocabulary" in g["candidates"]
    questions = closed.questions()
    n_words = len({w.lower() for q in questions for w in q[:4]})
    assert g["n_candidates"] <= n_words < 300_000
    fallback = get_task("analogy-msr", limit=300, n_boot=20).run(RandomEmbedder(dim=8)).results[0]
    assert fallback.protocol["comparable"] is False


class NoiseThenGlove(Embedder):
    """Static, 2 layers: random vectors, then GloVe's."""

    family = "other"
    contextual = False
    direction = "none"
    name = "noise-then-glove"
    layers = ["noise", "glove"]
    layer_dims = [50, 50]

    def __init__(self, glove) -> None:
        self.glove, self.noise = glove, RandomEmbedder(dim=50)

    def _embed(self, sentences):
        out = []
        for g, r in zip(self.glove.embed(sentences), self.noise.embed(sentences), strict=True):
            out.append((np.concatenate([r.vectors, g.vectors], axis=1), g.oov))
        return out


def test_dev_value_is_the_chosen_layers_accuracy_on_the_dev_half(glove):
    for emb in (NoiseThenGlove(glove), glove):
        out = get_task("analogy-msr-closed", limit=300, n_boot=20).run(emb)
        sel = out.selection
        assert sel.layer == emb.layers[-1] and sel.criterion.startswith("only" if emb is glove else "best")
        chosen = out.results[-1]
        # scored questions = dev half + test half: the dev accuracy follows from the layer's accuracy on all
        # of them and the selection's per-question test outputs
        n_dev = chosen.n - sel.n
        expected = (chosen.value * chosen.n - sum(sel.items.pred)) / n_dev
        assert n_dev > 100 and expected > 0.2 and sel.dev_value == pytest.approx(expected)
