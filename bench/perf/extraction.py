"""Word-level extraction through ``embed()`` vs the raw forward pass and vs a naive loop.

    python -m bench.perf extraction [--quick] [--repeats 3] [--sentences minilm-l6=600]

For each transformers stand-in (``minilm-l6``: 600 sentences, ``smollm2-135m``: 200 per
repeat), three sides run on the same fresh SST-2 sentences, interleaved:

- ``embed()``: every layer, word alignment, pooling, numpy arrays out: what the benchmark
  does;
- raw forward: :class:`~bench.perf.hf_baselines.RawForward`, tokenise + forward on
  length-sorted batches of the adapter's own batch size (goal: ``embed()`` at least 0.9x
  its throughput: the adapter may cost at most 10% around the model);
- naive loop: :class:`~bench.perf.hf_baselines.NaiveLoop`, one sentence per pass (goal:
  ``embed()`` at least 2.5x faster).

Every side uses the thread count ``embed()`` uses (the adapter's ``threads``, default 1).
"""

from __future__ import annotations

import logging
import sys
import time
from functools import partial
from typing import Any

from bench.perf.figures import Figure, Goal, Section
from bench.perf.hf_baselines import NaiveLoop, RawForward, checkpoint_dir, padding_cost
from bench.perf.options import PerfOptions, describe_options
from bench.perf.section_cli import section_main
from bench.perf.sentences import split_sets, sst2_pool
from bench.perf.timing import THROUGHPUT_HEADER, interleave, median_ratio, throughput_rows

logger = logging.getLogger(__name__)

MODELS = ["minilm-l6", "smollm2-135m"]
RAW_GOAL = Goal(">=", 0.9, "x")
NAIVE_GOAL = Goal(">=", 2.5, "x")


def embed_threads(emb: Any, default: int) -> int:
    """The torch thread count ``emb.embed()`` runs with (its ``threads`` option, else ``default``)."""
    threads = getattr(emb, "threads", None)
    return int(threads) if threads else int(default)


def compare(name: str, opts: PerfOptions, pool: list[list[str]], section: Section) -> None:
    """Measure one model; add its table and figures to ``section`` (a failure becomes a row)."""
    import embeddings

    model_opts = opts.model_options(name)
    label = describe_options(name, model_opts)
    try:
        emb = embeddings.load(name, **model_opts)
        directory = checkpoint_dir(name, emb)
        threads = embed_threads(emb, opts.threads)
        batch = int(emb.batch_size)
        raw = RawForward(directory, batch_size=batch, threads=threads)
        naive = NaiveLoop(directory, pooling=getattr(emb, "pooling", "mean"), threads=threads)
    except Exception as e:  # a model that cannot load is a failed row, not a failed harness
        logger.warning("%s: setup failed", name, exc_info=True)
        err = f"{type(e).__name__}: {str(e)[:200]}"
        section.figures += [Figure("embed() ÷ raw forward", label, None, RAW_GOAL, error=err),
                            Figure("embed() ÷ naive loop", label, None, NAIVE_GOAL, error=err)]
        section.add(f"### {label}", "", f"Failed to set up: {err}", "")
        return
    sets = split_sets(pool, opts.size(name), opts.repeats)
    emb.embed(sets.warmup, progress=False)  # lazy initialisation, first-call allocations
    raw(sets.warmup)
    naive(sets.warmup[:4])

    def run_embed(r: int) -> None:
        emb.embed(sets.repeats[r], progress=False)

    def run_raw(r: int) -> None:
        raw(sets.repeats[r])

    def run_naive(r: int) -> None:
        naive(sets.repeats[r])

    sides = interleave({"embed()": run_embed, "raw forward": run_raw, "naive loop": run_naive}, opts.repeats)
    words = sets.words_per_set
    lengths = raw.token_lengths(sets.repeats[0])
    sorted_pads, file_pads = padding_cost(lengths, batch, sort=True), padding_cost(lengths, batch, sort=False)
    section.add(
        f"### {label}",
        "",
        f"Checkpoint `{directory}`; {len(sets.repeats[0])} sentences ({words[0]:,} words, {sum(lengths):,} "
        f"tokens with special tokens) per repeat, {opts.repeats} repeats on "
        f"{'sets sharing sentences (the pool is too small)' if sets.reused else 'disjoint sets'}; batch size {batch}; "
        f"torch threads {threads}. Padding in length-sorted batches: {sorted_pads:,} pad tokens "
        f"({sorted_pads / max(1, sum(lengths)):.1%} of the real ones; in file order it would be {file_pads:,}).",
    )
    section.table(THROUGHPUT_HEADER, throughput_rows(sides, words, "embed()"))
    for key, comparison, goal in (("raw forward", "embed() ÷ raw forward", RAW_GOAL),
                                  ("naive loop", "embed() ÷ naive loop", NAIVE_GOAL)):
        failed = sides["embed()"].error or sides[key].error
        ratio = median_ratio(sides[key], sides["embed()"])
        section.figures.append(Figure(comparison, label, ratio, goal, error=failed))


def run(opts: PerfOptions, models: list[str] | None = None) -> Section:
    section = Section("extraction", "1-2. Word-level extraction: embed() vs the raw forward and vs a naive loop")
    t0 = time.perf_counter()
    section.add(
        "Throughput (words per second) on fresh SST-2 sentences, whitespace-tokenised. *embed()*: "
        "`embeddings.load(name).embed(sentences)` with every layer (word alignment, piece pooling, float32 "
        "arrays out). *raw forward*: the same checkpoint directory loaded with `AutoModel`, sentences sorted by "
        "length, batches of the adapter's batch size, `tokenizer(texts, padding=True)` + `model(**batch, "
        "output_hidden_states=True)`, the tokenizer call **inside** the timed region (a user must tokenise), "
        "nothing else (no BOS added for causal models: embed() feeds one token more per sentence there). "
        "*naive loop*: one sentence per forward pass (tokenise its words, forward, pool each word's pieces "
        "over every layer with the adapter's pooling into numpy). Sides alternate within each repeat on the "
        "same sentences; ratios are medians of per-repeat ratios (range in brackets). Goals: embed() at least "
        f"{RAW_GOAL.value}x the raw forward's throughput, at least {NAIVE_GOAL.value}x the naive loop's.",
        "",
    )
    pool = sst2_pool()
    for name in models or MODELS:
        section.guard(describe_options(name, opts.model_options(name)),
                      [("embed() ÷ raw forward", RAW_GOAL), ("embed() ÷ naive loop", NAIVE_GOAL)],
                      partial(compare, name, opts, pool, section))
    section.seconds = time.perf_counter() - t0
    return section


def main(argv: list[str]) -> None:
    section_main(argv, prog="extraction", doc=__doc__, models=MODELS, run=run)


if __name__ == "__main__":
    main(sys.argv[1:])
