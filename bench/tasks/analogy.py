"""Word analogy (``a : b :: c : ?``) by 3CosAdd and 3CosMul over a restricted vocabulary, per layer.

Protocol
--------
- Candidates: when the embedder exposes the optional capability ``vocabulary()`` (words in
  frequency order; :class:`~embeddings.static.StaticEmbedder` has it), the first
  ``restrict_vocab`` words (300,000 by default, the common protocol and gensim's default).
  Otherwise the candidate set is every word of the dataset (recorded in ``protocol``).
  Candidates are embedded ALONE (a lookup for static models, the decontextualized vector for
  contextual ones); words the model marks OOV, or maps to a zero vector, are dropped.
- Casing (``case_insensitive=True``, gensim's default): words are matched upper-cased; each
  key stands for its most frequent spelling among the candidates (gensim's ``ok_vocab``),
  question words are looked up under that spelling, and every candidate sharing a key with
  a, b or c is excluded from the answers. ``case_insensitive=False`` matches exactly.
- 3CosAdd: argmax cos(x, b) - cos(x, a) + cos(x, c) (Mikolov et al. 2013); 3CosMul:
  argmax cos'(x, b) cos'(x, c) / (cos'(x, a) + epsilon) with cos' = (cos + 1) / 2 (Levy &
  Goldberg 2014; epsilon 0.001 as in their paper, gensim uses 1e-6). The three question words
  are never answers. A question is right when the answer's key equals d's.
- OOV: a question with any of its four words outside the candidates is dropped
  (``oov="drop"``, gensim's default) and counted (``n`` vs ``total``); ``extra`` also gives
  the accuracy with those questions counted wrong (gensim's ``dummy4unknown``).
  ``oov="mean"`` gives an OOV a, b or c the mean candidate vector (word-embeddings-benchmarks)
  and scores every question whose answer is a candidate; others count as wrong.
- Main metric: accuracy of ``method`` (3CosAdd by default); the other method, per-section
  accuracies (and semantic / syntactic totals for the Google set) are in ``extra``. 95% CI:
  percentile bootstrap over questions.
- Coverage: ``total`` is every question of the dataset; with ``limit`` the first ``limit``
  questions are attempted (``sampled``); ``n`` are those scored.
- Layer selection: questions are split in halves by a hash of the question (the same for
  every model); the layer with the best dev-half accuracy is scored on the other half, and
  its dev-half accuracy is the selection's ``dev_value`` (a single-layer model's too).
- Vectorised: unit-normalise once; cosines of the distinct question words against blocks
  of candidates are one matrix product per block, from which both methods' argmaxes follow.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from typing import Any

import numpy as np

from bench.datasets import get_dataset
from bench.datasets.analogy import GOOGLE_SEMANTIC, Question, load_questions
from bench.result import TaskResult
from bench.stats import accuracy, bootstrap_ci
from bench.tasks.base import ItemScores, Selection, Task, TaskMeta, TaskOutput, stable_fraction
from bench.vectors import Requests, VectorSource

logger = logging.getLogger(__name__)

METHODS = ("3cosadd", "3cosmul")
#: floats per score block (question batch x candidate block)
BLOCK_ELEMENTS = 1 << 22


def embedder_vocabulary(source: VectorSource) -> list[str] | None:
    """The optional capability: the model's ``vocabulary()`` (words in frequency order), or None."""
    words = source.vocabulary()
    return list(words) if words is not None else None


def embed_alone(source: VectorSource, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(n, n_layers, dim) vectors of each word embedded alone, and the OOV mask (incl. zero vectors).

    A static model's words are looked up in long chunks (its vectors do not depend on the
    sentence: the conformance kit checks it); a contextual one gets one-word sentences.
    """
    if not words:
        return np.zeros((0, len(source.layers), source.dim), np.float32), np.zeros(0, bool)
    vecs, oov = source.words_alone(words)
    zero = ~vecs.reshape(len(words), -1).any(axis=1)
    return vecs, oov | zero


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    units: np.ndarray = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    return units


class AnalogyTask(Task):
    """Accuracy on an analogy dataset by 3CosAdd (main) and 3CosMul, per layer."""

    defaults: dict[str, Any] = {
        "dataset": "google-analogy",
        "method": "3cosadd",
        "restrict_vocab": 300_000,
        "case_insensitive": True,
        "oov": "drop",
        "epsilon": 1e-3,
        "dev_fraction": 0.5,
        # "vocab": the model's own vocabulary (first restrict_vocab words), the literature's
        # protocol; models without a vocabulary fall back to the dataset's words, and their
        # results are marked not comparable. "dataset": every model ranks the dataset's own
        # words (a closed vocabulary): like-for-like across static and contextual models.
        "candidates": "vocab",
    }
    choices = {"method": METHODS, "oov": ("drop", "mean"), "case_insensitive": (True, False),
               "candidates": ("vocab", "dataset")}

    def __init__(self, **settings: Any) -> None:
        dataset = settings.get("dataset", self.defaults["dataset"])
        ds = get_dataset(dataset)
        method = settings.get("method", self.defaults["method"])
        self.meta = TaskMeta(
            name=settings.pop("task_name", dataset),
            kind="analogy",
            description=f"{method} accuracy on {ds.title}",
            metric="accuracy",
            datasets=(dataset,),
            license=ds.license,
            citation=ds.citation,
            # 2: dev_value, total = every question of the dataset, sampled under a cap
            version="2",
        )
        super().__init__(**settings)
        if int(self.settings["restrict_vocab"]) < 1:
            raise ValueError(f"task {self.name}: restrict_vocab must be a positive integer")

    def split_questions(self) -> list[Question]:
        """Every question of the dataset (``total``)."""
        return load_questions(self.settings["dataset"])

    def questions(self) -> list[Question]:
        """The questions attempted: the first ``limit`` when capped."""
        qs = self.split_questions()
        limit = self.settings["limit"]
        return qs[: int(limit)] if limit else qs

    def key(self, word: str) -> str:
        return word.upper() if self.settings["case_insensitive"] else word

    # -- candidates ---------------------------------------------------------------------
    def candidates(self, embedder: VectorSource, questions: list[Question]) -> tuple[list[str], np.ndarray, str]:
        """Candidate words (deduplicated, most frequent spelling first), their vectors, and provenance."""
        vocab = embedder_vocabulary(embedder) if self.settings["candidates"] == "vocab" else None
        if vocab is not None:
            words = vocab[: int(self.settings["restrict_vocab"])]
            limit = self.settings["restrict_vocab"]
            source = f"model vocabulary, first {len(words)} words (restrict_vocab={limit})"
        else:
            words = sorted({w for q in questions for w in q[:4]})
            source = ("the dataset's words (closed vocabulary, same for every model)"
                      if self.settings["candidates"] == "dataset"
                      else "the dataset's words (the model exposes no vocabulary())")
        vecs, oov = embed_alone(embedder, words)
        keep = np.flatnonzero(~oov)
        return [words[i] for i in keep], vecs[keep], source

    # -- evaluation -----------------------------------------------------------------------
    def inputs(self) -> Requests:
        """The dataset's words alone: the candidates of a model without a vocabulary (every
        contextual model; a static model's own vocabulary is looked up when it is asked for)."""
        req = Requests()
        req.add_words(sorted({w for q in self.questions() for w in q[:4]}))
        return req

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        questions = self.questions()
        total = len(questions)  # attempted (the first ``limit`` when capped)
        cand_words, cand_vecs, source = self.candidates(embedder, questions)
        if not cand_words:
            raise ValueError(f"{self.name}: {embedder.name} has no usable candidate words")
        canon: dict[str, int] = {}
        groups: dict[str, list[int]] = defaultdict(list)
        for i, w in enumerate(cand_words):
            k = self.key(w)
            canon.setdefault(k, i)
            groups[k].append(i)

        # question words -> rows of a small "query" matrix: candidates (by canonical index) or the mean
        mean_policy = self.settings["oov"] == "mean"
        scored: list[int] = []
        rows: list[tuple[int, int, int]] = []  # per scored question: query rows of a, b, c
        answers: list[int] = []  # canonical candidate index of d, or -1 (unanswerable)
        q_rows: dict[int, int] = {}  # candidate index -> query row
        MEAN = -1

        def row(ci: int) -> int:
            return q_rows.setdefault(ci, len(q_rows))

        for qi, q in enumerate(questions):
            idx = [canon.get(self.key(w), MEAN) for w in q[:4]]
            if MEAN in idx and not mean_policy:
                continue
            scored.append(qi)
            rows.append(tuple(row(ci) for ci in idx[:3]))  # type: ignore[arg-type]
            answers.append(idx[3])
        n = len(scored)
        if n == 0:
            raise ValueError(
                f"{self.name}: none of the {total} questions is in the candidate vocabulary of "
                f"{embedder.name} ({source})"
            )
        order = sorted(q_rows, key=q_rows.get)  # type: ignore[arg-type]
        exclude = [
            sorted({c for w in questions[qi][:3] for c in groups.get(self.key(w), ())}) for qi in scored
        ]

        canon_of = np.array([canon[self.key(w)] for w in cand_words], dtype=np.int64)
        answer_arr = np.array(answers, dtype=np.int64)  # -1 (unanswerable) never matches
        correct = {m: np.zeros((len(embedder.layers), n), bool) for m in METHODS}
        for layer_i in range(len(embedder.layers)):
            units = _unit(cand_vecs[:, layer_i, :].astype(np.float32))
            mean = _unit(cand_vecs[:, layer_i, :].mean(axis=0, dtype=np.float64).astype(np.float32))
            query = np.stack([units[ci] if ci != MEAN else mean for ci in order])
            best = self._argmax(query, units, np.array(rows, dtype=np.int64), exclude)
            for m in METHODS:  # right when the answer's key is d's (any spelling of it)
                found = best[m] >= 0
                correct[m][layer_i] = found & (canon_of[np.where(found, best[m], 0)] == answer_arr)

        results = self._results(embedder, questions, scored, correct, total, source, len(cand_words))
        return TaskOutput(
            results, self._select(embedder, questions, scored, correct[self.settings["method"]])
        )

    def _argmax(
        self, query: np.ndarray, units: np.ndarray, rows: np.ndarray, exclude: list[list[int]]
    ) -> dict[str, np.ndarray]:
        """Best candidate per question for both methods, over candidate blocks."""
        n_q, n_c = len(rows), len(units)
        eps = float(self.settings["epsilon"])
        block = max(256, min(n_c, BLOCK_ELEMENTS // max(1, min(n_q, 2048))))
        best = {m: np.full(n_q, -1, np.int64) for m in METHODS}
        top = {m: np.full(n_q, -np.inf, np.float64) for m in METHODS}
        ex_q = np.repeat(np.arange(n_q), [len(e) for e in exclude])
        ex_c = np.fromiter((c for e in exclude for c in e), dtype=np.int64, count=len(ex_q))
        for start in range(0, n_c, block):
            stop = min(n_c, start + block)
            sims = query @ units[start:stop].T  # (distinct question words, block)
            shifted = (sims + 1.0) / 2.0
            sel = (ex_c >= start) & (ex_c < stop)
            for q0 in range(0, n_q, 2048):
                r = rows[q0 : q0 + 2048]
                a, b, c = r[:, 0], r[:, 1], r[:, 2]
                scores = {
                    "3cosadd": sims[b] - sims[a] + sims[c],
                    "3cosmul": shifted[b] * shifted[c] / (shifted[a] + eps),
                }
                in_batch = sel & (ex_q >= q0) & (ex_q < q0 + len(r))
                for m, s in scores.items():
                    s[ex_q[in_batch] - q0, ex_c[in_batch] - start] = -np.inf
                    arg = s.argmax(axis=1)
                    val = s[np.arange(len(r)), arg]
                    better = val > top[m][q0 : q0 + len(r)]
                    top[m][q0 : q0 + len(r)][better] = val[better]
                    best[m][q0 : q0 + len(r)][better] = arg[better] + start
        return best

    def _results(
        self,
        embedder: VectorSource,
        questions: list[Question],
        scored: list[int],
        correct: dict[str, np.ndarray],
        total: int,
        source: str,
        n_cand: int,
    ) -> list[TaskResult]:
        main = self.settings["method"]
        other = next(m for m in METHODS if m != main)
        dataset_total = len(self.split_questions())
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        sections = [questions[qi].section for qi in scored]
        all_sections = list(dict.fromkeys(q.section for q in questions))
        section_total: defaultdict[str, int] = defaultdict(int)
        for q in questions:
            section_total[q.section] += 1
        protocol = {
            "candidates": source,
            # a fallback to the dataset's words is not the protocol the other rows ran
            "comparable": self.settings["candidates"] == "dataset" or "no vocabulary" not in source,
            "n_candidates": n_cand,
            "casing": "upper-cased match, most frequent spelling"
            if self.settings["case_insensitive"]
            else "exact match",
            "excluded": "the question words a, b, c (all spellings with their key)",
            "ci": f"percentile bootstrap over questions, {n_boot} resamples",
        }
        groups = {"all": list(range(len(scored)))}
        if self.settings["dataset"] == "google-analogy":
            groups["semantic"] = [i for i, s in enumerate(sections) if s in GOOGLE_SEMANTIC]
            groups["syntactic"] = [i for i, s in enumerate(sections) if s not in GOOGLE_SEMANTIC]
        results = []
        for k, layer in enumerate(embedder.layers):
            per_section: dict[str, dict[str, Any]] = {}
            for name in all_sections:
                idx = [i for i, s in enumerate(sections) if s == name]
                per_section[name] = {
                    "n": len(idx),
                    "total": section_total[name],
                    **{m: float(correct[m][k][idx].mean()) if idx else float("nan") for m in METHODS},
                }
            totals = {}
            for g, idx in groups.items():
                if g == "all":
                    continue
                g_total = sum(
                    section_total[s] for s in all_sections if (s in GOOGLE_SEMANTIC) == (g == "semantic")
                )
                totals[g] = {
                    "n": len(idx),
                    "total": g_total,
                    **{m: float(correct[m][k][idx].mean()) if idx else float("nan") for m in METHODS},
                }
            extra = {
                other: float(correct[other][k].mean()),
                f"{other}_ci": list(
                    bootstrap_ci(accuracy, correct[other][k].astype(float), n_boot=n_boot, seed=seed)
                ),
                "accuracy_oov_as_wrong": {m: float(correct[m][k].sum() / total) for m in METHODS},  # of attempted
                "sections": per_section,
                **totals,
            }
            value = float(correct[main][k].mean())
            ci = bootstrap_ci(accuracy, correct[main][k].astype(float), n_boot=n_boot, seed=seed)
            r = self.result(embedder, layer, value, ci, len(scored), dataset_total, protocol=protocol, extra=extra)
            results.append(replace(r, sampled=total if total < dataset_total else 0))
        return results

    def _select(
        self, embedder: VectorSource, questions: list[Question], scored: list[int], correct: np.ndarray
    ) -> Selection:
        ids = ["|".join(questions[qi][:4]) for qi in scored]
        dev = np.array([stable_fraction(x, self.name) < self.settings["dev_fraction"] for x in ids], dtype=bool)
        dev_acc = correct[:, dev].mean(axis=1) if dev.sum() >= 3 else np.full(len(correct), np.nan)
        if len(embedder.layers) == 1 or dev.sum() < 3:
            best, criterion = 0, "only layer" if len(embedder.layers) == 1 else "first layer (dev too small)"
        else:
            best = int(np.argmax(dev_acc))
            criterion = (
                f"best {self.settings['method']} accuracy on the dev half of the questions (hash split)"
            )
        test = ~dev
        pred = correct[best, test].astype(float)
        ci = bootstrap_ci(accuracy, pred, n_boot=self.settings["n_boot"], seed=self.settings["seed"])
        items = ItemScores(tuple(np.array(ids)[test]), tuple(map(float, pred)), (), "accuracy")
        return Selection(
            embedder.layers[best],
            criterion,
            accuracy(pred, None),
            ci[0],
            ci[1],
            int(test.sum()),
            "test half of the questions",
            items,
            dev_value=float(dev_acc[best]),
        )
