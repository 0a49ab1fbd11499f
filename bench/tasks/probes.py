"""The authored probes: can a model's vector of an ambiguous word tell its senses apart?

Polysemy probe (``polysemy-probe``)
    Each ambiguous word has 2-4 senses and several sentences per sense
    (``bench/probes/polysemy.tsv``). Per layer, every sentence's target vector is compared
    (cosine) with the other sentences of the SAME word: leave-one-out 1-nearest-neighbour
    sense accuracy (correct when the nearest other sentence has the same sense; a tie among
    several nearest sentences scores the share of them with the same sense, i.e. the expected
    accuracy of a random tie-break). Chance is, per item, (same-sense sentences - 1) /
    (sentences of the word - 1), reported in ``extra``. Separation, per word, is the mean
    cosine over same-sense pairs minus the mean cosine over different-sense pairs (higher =
    better separated; 0 for a static model), averaged over words.

Direction probe (``direction-probe``)
    The same words, but the disambiguating cue is only BEFORE the target or only AFTER it
    (``bench/probes/direction.tsv``). The sentences are matched sets: the two senses' cue-after
    sentences share every word up to the target (and cue-before ones every word after it),
    so a leave-one-out 1-NN within the direction probe would find the other-sense "twin"
    first (a left-to-right model gives twins identical vectors: accuracy 0, not chance; see
    ``bench/probes/README.md``). Each direction item is therefore classified by the nearest
    sense CENTROID (cosine) of the same word's polysemy-probe sentences, restricted to the
    senses the direction probe tests (ties shared: chance is 1 / senses = 0.5). Reported per
    layer: the accuracy over all items (main), the accuracy for cue-before and cue-after
    items, and their difference before - after with a CI. The expectation (left-only models
    gain only from cues before, bidirectional ones from both) is measured, not assumed.

Both: items whose target vector is all zeros (static OOV) are dropped and counted (as are
direction items whose word lacks polysemy sentences for a tested sense). The WORD is the
unit: the sentences of one word share its senses and are scored against each other, so they
are not independent, and the dev/test split below is made by word. Every 95% CI is therefore
a percentile cluster bootstrap over words (``TaskMeta.resample_unit = "word"``): a replicate
draws words with replacement and keeps all their sentences (bench.stats, scheme "cluster";
the direction probe's before - after difference draws the same words for both conditions).
Resampling sentences instead would give intervals that are too narrow. Layer selection on a
hash split of the WORDS: the layer with the best accuracy on the dev half of the words
(:attr:`Selection.dev_value`) is scored on the other half; its per-item outputs carry each
item's word (``ItemScores.groups``, scheme ``"cluster"``) so paired comparisons resample words
too. ``limit`` keeps the sentences of ``limit`` hash-chosen words (``sampled`` counts them).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from bench.probes import ProbeItem, load_direction_probe, load_polysemy_probe
from bench.stats import accuracy, bootstrap_ci
from bench.tasks.base import ItemScores, Selection, Task, TaskMeta, TaskOutput, stable_fraction
from bench.tasks.context_vectors import cosine_matrix, normalize, target_vectors
from bench.vectors import Requests, VectorSource

__all__ = [
    "PolysemyProbeTask",
    "DirectionProbeTask",
    "centroid_correct",
    "loo_nn_correct",
    "separation",
    "chance_level",
    "word_ci",
    "word_diff_ci",
]

TIE_TOL = 1e-6
_CITATION = (
    "ctxbench authored probe (bench/probes/README.md); protocol after Wiedemann et al. 2019, "
    "Does BERT Make Any Sense? Interpretable Word Sense Disambiguation with Contextualized "
    "Embeddings, KONVENS 2019"
)


def loo_nn_correct(x: np.ndarray, senses: list[str]) -> np.ndarray:
    """Leave-one-out 1-NN sense correctness of each row of ``x`` (n, d), ties shared.

    >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> loo_nn_correct(x, ["a", "a", "b", "b"]).tolist()
    [1.0, 1.0, 1.0, 1.0]
    >>> loo_nn_correct(np.ones((3, 2)), ["a", "a", "b"]).tolist()  # all tied: chance
    [0.5, 0.5, 0.0]
    """
    n = len(senses)
    if n < 2:
        return np.full(n, np.nan)
    cos = cosine_matrix(x)
    np.fill_diagonal(cos, -np.inf)
    same = np.array(senses)[:, None] == np.array(senses)[None, :]
    nearest = cos >= cos.max(axis=1, keepdims=True) - TIE_TOL
    right: np.ndarray = (nearest & same).sum(1) / nearest.sum(1)
    return right


def chance_level(senses: list[str]) -> np.ndarray:
    """Per item: the LOO 1-NN accuracy of a random guess, (same-sense others) / (others)."""
    s = np.array(senses)
    n = len(s)
    return np.array([((s == v).sum() - 1) / (n - 1) if n > 1 else np.nan for v in s])


def separation(x: np.ndarray, senses: list[str]) -> float:
    """Mean within-sense cosine minus mean between-sense cosine over distinct pairs.

    >>> x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> separation(x, ["a", "a", "b", "b"])
    1.0
    """
    cos = cosine_matrix(x)
    s = np.array(senses)
    same = s[:, None] == s[None, :]
    off = ~np.eye(len(s), dtype=bool)
    within, between = cos[same & off], cos[~same]
    if not len(within) or not len(between):
        return float("nan")
    return float(within.mean() - between.mean())


def centroid_correct(x: np.ndarray, centroids: np.ndarray, gold: list[int]) -> np.ndarray:
    """Per row of ``x``: credit for the nearest centroid by cosine, ties shared (1/ties if gold is tied).

    >>> cents = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> centroid_correct(np.array([[0.9, 0.1], [0.9, 0.1], [1.0, 1.0]]), cents, [0, 1, 0]).tolist()
    [1.0, 0.0, 0.5]
    """
    sims = normalize(np.asarray(x, np.float64)) @ normalize(np.asarray(centroids, np.float64)).T
    nearest = sims >= sims.max(axis=1, keepdims=True) - TIE_TOL
    g = np.asarray(gold)
    right: np.ndarray = nearest[np.arange(len(g)), g] / nearest.sum(1)
    return right


def _groups(items: list[ProbeItem]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        groups[it.word].append(i)
    return groups


def _item_id(it: ProbeItem) -> str:
    return f"{it.word}|{it.sense}|{it.cue or ''}|{' '.join(it.sentence)}"


def word_ci(correct: np.ndarray, words: list[str] | np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    """Percentile CI of the accuracy, resampling whole words (all sentences of a drawn word)."""
    return bootstrap_ci(accuracy, correct, n_boot=n_boot, seed=seed, groups=np.asarray(words), scheme="cluster")


def word_diff_ci(correct: np.ndarray, words: np.ndarray, first: np.ndarray, second: np.ndarray, *,
                 n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """CI of accuracy(first items) - accuracy(second items), drawing the SAME words for both.

    ``first`` and ``second`` are boolean masks over the items (e.g. cue before / cue after);
    each replicate draws words with replacement and takes, per condition, the ratio of the
    drawn words' correct counts to their item counts.

    >>> words = np.repeat(["a", "b", "c", "d"], 2); first = np.tile([True, False], 4)
    >>> word_diff_ci(np.tile([1.0, 0.0], 4), words, first, ~first, n_boot=50)
    (1.0, 1.0)
    """
    correct, words = np.asarray(correct, float), np.asarray(words)
    if first.sum() < 3 or second.sum() < 3:
        return float("nan"), float("nan")
    units, inverse = np.unique(words, return_inverse=True)
    if len(units) < 2:
        return float("nan"), float("nan")
    picks = np.random.default_rng(seed).integers(0, len(units), size=(n_boot, len(units)))
    draws = np.zeros((n_boot, len(units)))
    np.add.at(draws, (np.arange(n_boot)[:, None], picks), 1.0)

    def acc(mask: np.ndarray) -> np.ndarray:
        right = np.bincount(inverse[mask], weights=correct[mask], minlength=len(units))
        count = np.bincount(inverse[mask], minlength=len(units)).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share: np.ndarray = (draws @ right) / (draws @ count)
            return share

    diffs = acc(first) - acc(second)
    diffs = diffs[np.isfinite(diffs)]  # a replicate without any item of one condition
    return float(np.quantile(diffs, alpha / 2)), float(np.quantile(diffs, 1 - alpha / 2))


class _ProbeTask(Task):
    def items(self) -> list[ProbeItem]:
        raise NotImplementedError

    def coverage(self) -> tuple[int, int]:
        """``total`` (every item of the probe) and ``sampled`` (the items of the ``limit`` words; 0: no limit)."""
        n_all, n_selected = len(self.items()), len(self.selected_items())
        return n_all, n_selected if n_selected < n_all else 0

    def selected_items(self) -> list[ProbeItem]:
        """The items scored: all, or those of ``limit`` words chosen by a hash."""
        items = self.items()
        if self.settings["limit"]:
            words = sorted({it.word for it in items}, key=lambda w: stable_fraction(w, self.name))
            keep_words = set(words[: int(self.settings["limit"])])
            items = [it for it in items if it.word in keep_words]
        return items

    def embedded_items(self) -> list[ProbeItem]:
        """Every sentence whose target vector the task reads."""
        return self.selected_items()

    def inputs(self) -> Requests:
        both = self.embedded_items()
        req = Requests()
        req.add_targets([it.sentence for it in both], [it.target_index for it in both])
        return req

    def _score(self, embedder: VectorSource) -> tuple[list[ProbeItem], np.ndarray, np.ndarray, np.ndarray]:
        """Items kept, correctness (n, L), separation per (group, layer), group of each item."""
        items = self.selected_items()
        vecs, missing = target_vectors(
            embedder, [it.sentence for it in items], [it.target_index for it in items]
        )
        items = [it for it, m in zip(items, missing, strict=True) if not m]
        vecs = vecs[~missing]
        groups = _groups(items)
        L = len(embedder.layers)
        correct = np.full((len(items), L), np.nan)
        seps = np.full((len(groups), L), np.nan)
        group_of = np.zeros(len(items), int)
        for g, idx in enumerate(groups.values()):
            senses = [items[i].sense for i in idx]
            group_of[idx] = g
            for k in range(L):
                correct[idx, k] = loo_nn_correct(vecs[idx, k], senses)
                seps[g, k] = separation(vecs[idx, k], senses)
        ok = ~np.isnan(correct[:, 0])  # a word left with one sentence has no neighbour
        return [it for it, o in zip(items, ok, strict=True) if o], correct[ok], seps, group_of[ok]

    def _chance(self, items: list[ProbeItem]) -> np.ndarray:
        out = np.zeros(len(items))
        for idx in _groups(items).values():
            out[idx] = chance_level([items[i].sense for i in idx])
        return out

    def _selection(self, embedder: VectorSource, items: list[ProbeItem], correct: np.ndarray) -> Selection:
        dev = np.array([stable_fraction(it.word, f"{self.name}-dev") < 0.5 for it in items])
        if len(embedder.layers) == 1 or not dev.any() or dev.all():
            best = 0
            criterion = "only layer" if len(embedder.layers) == 1 else "first layer (no dev words)"
        else:
            best = int(np.argmax(correct[dev].mean(0)))
            criterion = "best accuracy on the dev half of the words (hash split)"
        test = ~dev if (~dev).any() else dev
        pred = correct[test, best]
        words = [it.word for it, t in zip(items, test, strict=True) if t]
        ci = word_ci(pred, words, self.settings["n_boot"], self.settings["seed"])
        ids = tuple(_item_id(it) for it, t in zip(items, test, strict=True) if t)
        return Selection(
            embedder.layers[best],
            criterion,
            accuracy(pred),
            ci[0],
            ci[1],
            int(test.sum()),
            "test half of the words",
            ItemScores(ids, tuple(map(float, pred)), (), "accuracy", tuple(words), "cluster"),
            dev_value=accuracy(correct[dev, best]) if dev.any() else float("nan"),
        )


def _word_bootstrap_ci(values: np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if len(values) < 3:
        return float("nan"), float("nan")
    idx = np.random.default_rng(seed).integers(0, len(values), size=(n_boot, len(values)))
    stats = values[idx].mean(1)
    return float(np.quantile(stats, 0.025)), float(np.quantile(stats, 0.975))


class PolysemyProbeTask(_ProbeTask):
    """Leave-one-out sense 1-NN accuracy and sense separation on the authored polysemy probe."""

    meta = TaskMeta(
        name="polysemy-probe",
        kind="context",
        description="Authored polysemy probe: leave-one-out 1-nearest-neighbour sense accuracy of the "
        "target's in-context vector among the sentences of the same word (separation in extra)",
        metric="accuracy",
        datasets=(),
        license="Apache-2.0 (ctxbench authored text, see bench/probes/README.md)",
        citation=_CITATION,
        version="2",
        resample_unit="word",
    )

    def items(self) -> list[ProbeItem]:
        return load_polysemy_probe()

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        items, correct, seps, _ = self._score(embedder)
        total, sampled = self.coverage()
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        chance = float(self._chance(items).mean())
        protocol = {
            "similarity": "cosine",
            "classifier": "leave-one-out 1-NN within word, ties shared",
            "ci": f"percentile cluster bootstrap over words ({n_boot}); separation over words",
        }
        words = [it.word for it in items]
        results = []
        for k, layer in enumerate(embedder.layers):
            ci = word_ci(correct[:, k], words, n_boot, seed)
            results.append(
                self.result(
                    embedder,
                    layer,
                    accuracy(correct[:, k]),
                    ci,
                    len(items),
                    total,
                    protocol=protocol,
                    sampled=sampled,
                    extra={
                        "chance_accuracy": chance,
                        "separation": float(np.nanmean(seps[:, k])),
                        "separation_ci": list(_word_bootstrap_ci(seps[:, k], n_boot, seed)),
                        "n_words": int(len(seps)),
                    },
                )
            )
        return TaskOutput(results, self._selection(embedder, items, correct))


class DirectionProbeTask(_ProbeTask):
    """Sense accuracy with the cue only before vs only after the target (polysemy-probe centroids)."""

    meta = TaskMeta(
        name="direction-probe",
        kind="context",
        description="Authored direction probe: sense of the target by its nearest sense centroid (from the "
        "polysemy probe sentences of the same word); cue only before vs only after the target, and their "
        "difference (in extra)",
        metric="accuracy",
        datasets=(),
        license="Apache-2.0 (ctxbench authored text, see bench/probes/README.md)",
        citation=_CITATION,
        version="2",
        resample_unit="word",
    )

    def items(self) -> list[ProbeItem]:
        return load_direction_probe()

    def references(self) -> list[ProbeItem]:
        """Sentences whose sense centroids classify the direction items: the polysemy probe."""
        return load_polysemy_probe()

    def embedded_items(self) -> list[ProbeItem]:
        items = self.selected_items()
        senses_of: dict[str, set[str]] = defaultdict(set)
        for it in items:
            senses_of[it.word].add(it.sense)
        return items + [r for r in self.references() if r.sense in senses_of.get(r.word, ())]

    def evaluate(self, embedder: VectorSource) -> TaskOutput:
        items = self.selected_items()
        total, sampled = self.coverage()
        senses_of: dict[str, set[str]] = defaultdict(set)
        for it in items:
            senses_of[it.word].add(it.sense)
        refs = [r for r in self.references() if r.sense in senses_of.get(r.word, ())]
        both = items + refs
        vecs, missing = target_vectors(
            embedder, [it.sentence for it in both], [it.target_index for it in both]
        )
        ivec, imiss = vecs[: len(items)], missing[: len(items)]
        rvec, rmiss = vecs[len(items) :], missing[len(items) :]
        ref_by_word: dict[str, list[int]] = defaultdict(list)
        for j, r in enumerate(refs):
            if not rmiss[j]:
                ref_by_word[r.word].append(j)
        # an item is scored when its word has reference sentences for every sense it is tested on
        scorable = [
            i
            for i, it in enumerate(items)
            if not imiss[i] and senses_of[it.word] <= {refs[j].sense for j in ref_by_word[it.word]}
        ]
        if not scorable:
            raise ValueError(f"direction-probe: no item has vectors and reference senses for {embedder.name}")
        kept = [items[i] for i in scorable]
        L = len(embedder.layers)
        correct = np.zeros((len(kept), L))
        for w in sorted({it.word for it in kept}):
            rows = [k for k, it in enumerate(kept) if it.word == w]
            labels = sorted(senses_of[w])
            ref_rows = ref_by_word[w]
            for k in range(L):
                cents = np.stack(
                    [rvec[[j for j in ref_rows if refs[j].sense == lab], k].mean(0) for lab in labels]
                )
                correct[rows, k] = centroid_correct(
                    ivec[[scorable[r] for r in rows], k], cents, [labels.index(kept[r].sense) for r in rows]
                )
        seed, n_boot = self.settings["seed"], self.settings["n_boot"]
        cue = np.array([it.cue for it in kept])
        before, after = cue == "before", cue == "after"
        words = np.array([it.word for it in kept])
        chance = np.array([1 / len(senses_of[it.word]) for it in kept])
        protocol = {
            "similarity": "cosine",
            "classifier": "nearest sense centroid of the same word's polysemy-probe sentences",
            "ci": f"percentile cluster bootstrap over words ({n_boot}); difference: the same words drawn for "
            "both conditions",
        }
        results = []
        for k, layer in enumerate(embedder.layers):
            c = correct[:, k]
            b, a = c[before], c[after]
            extra = {
                "accuracy_before": accuracy(b),
                "ci_before": list(word_ci(b, words[before], n_boot, seed)),
                "accuracy_after": accuracy(a),
                "ci_after": list(word_ci(a, words[after], n_boot, seed)),
                "before_minus_after": accuracy(b) - accuracy(a),
                "diff_ci": list(word_diff_ci(c, words, before, after, n_boot=n_boot, seed=seed + 1)),
                "chance_accuracy": float(chance.mean()),
                "n_before": int(before.sum()),
                "n_after": int(after.sum()),
                "n_reference_sentences": int(sum(len(v) for v in ref_by_word.values())),
            }
            ci = word_ci(c, words, n_boot, seed)
            results.append(self.result(embedder, layer, accuracy(c), ci, len(kept), total, protocol=protocol,
                                       extra=extra, sampled=sampled))
        return TaskOutput(results, self._selection(embedder, kept, correct))
