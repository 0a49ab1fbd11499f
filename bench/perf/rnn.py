"""ELMo and ULMFiT: ``embed()`` vs the network's own forward pass on the same batches.

    python -m bench.perf rnn [--quick] [--option elmo-brown:tiny=true]

``elmo-brown`` and ``ulmfit-brown`` (500 sentences per repeat, at least 5 repeats: a repeat
takes about a second, so more of them steady the median; the full stand-ins unless
options say otherwise, e.g. ``tiny=true``, which the rows then name). The baseline is
:mod:`bench.perf.rnn_baselines`. Goal: embed() at least 0.9x the raw forward's throughput.
"""

from __future__ import annotations

import logging
import sys
import time
from functools import partial
from typing import Any

from bench.perf.extraction import embed_threads
from bench.perf.figures import Figure, Goal, Section
from bench.perf.options import PerfOptions, describe_options
from bench.perf.rnn_baselines import ElmoRawForward, UlmfitRawForward
from bench.perf.section_cli import section_main
from bench.perf.sentences import split_sets, sst2_pool
from bench.perf.timing import THROUGHPUT_HEADER, interleave, median_ratio, throughput_rows

logger = logging.getLogger(__name__)

MODELS = ["elmo-brown", "ulmfit-brown"]
GOAL = Goal(">=", 0.9, "x")
#: repeats of a full run (a repeat is short, so its noise is large)
MIN_REPEATS = 5
BASELINES: dict[str, Any] = {"elmo": ElmoRawForward, "ulmfit": UlmfitRawForward}


def compare(name: str, opts: PerfOptions, pool: list[list[str]], section: Section) -> None:
    import embeddings

    model_opts = opts.model_options(name)
    label = describe_options(name, model_opts)
    try:
        emb = embeddings.load(name, **model_opts)
        threads = embed_threads(emb, opts.threads)
        if emb.family not in BASELINES:
            raise ValueError(f"no raw-forward baseline for family {emb.family!r}")
        raw = BASELINES[emb.family](emb, threads=threads)
    except Exception as e:
        logger.warning("%s: setup failed", name, exc_info=True)
        err = f"{type(e).__name__}: {str(e)[:200]}"
        section.figures.append(Figure("embed() ÷ raw forward", label, None, GOAL, error=err))
        section.add(f"### {label}", "", f"Failed to set up: {err}", "")
        return
    repeats = opts.repeats if opts.quick else max(opts.repeats, MIN_REPEATS)
    sets = split_sets(pool, opts.size(name), repeats)
    emb.embed(sets.warmup, progress=False)
    raw(sets.warmup)

    def run_embed(r: int) -> None:
        emb.embed(sets.repeats[r], progress=False)

    def run_raw(r: int) -> None:
        raw(sets.repeats[r])

    sides = interleave({"embed()": run_embed, "raw forward": run_raw}, repeats)
    words = sets.words_per_set
    section.add(
        f"### {label}",
        "",
        f"{getattr(emb, 'checkpoint', name)}. {len(sets.repeats[0])} sentences ({words[0]:,} words) per repeat, "
        f"{repeats} repeats{' (sentences reused: the pool is too small)' if sets.reused else ''}; "
        f"batch size {emb.batch_size}; torch threads {threads}; layers {emb.layers}.",
    )
    section.table(THROUGHPUT_HEADER, throughput_rows(sides, words, "embed()"))
    failed = sides["embed()"].error or sides["raw forward"].error
    section.figures.append(Figure("embed() ÷ raw forward", label, median_ratio(sides["raw forward"],
                                                                               sides["embed()"]), GOAL, error=failed))


def run(opts: PerfOptions, models: list[str] | None = None) -> Section:
    section = Section("rnn", "4. ELMo and ULMFiT: embed() vs their own forward")
    t0 = time.perf_counter()
    section.add(
        "*raw forward*: the embedder's own network on length-sorted, right-padded batches of its batch size; "
        "the model inputs (ELMo: character ids of `<S> words </S>`; ULMFiT: fastai token ids with `xxbos` and "
        "case markers) built inside the timed region; ELMo `BiLM.forward` (char CNN included: embed() may cache "
        "per-word CNN outputs, the raw pass does not), ULMFiT `AWDLSTM.encode` (every layer, no decoder). "
        "Goal: embed() at least 0.9x the raw forward's throughput. The full stand-ins are the ones that "
        "count; a row with `tiny=True` measured the seconds-to-train test models.",
        "",
    )
    pool = sst2_pool()
    for name in models or MODELS:
        section.guard(describe_options(name, opts.model_options(name)), [("embed() ÷ raw forward", GOAL)],
                      partial(compare, name, opts, pool, section))
    section.seconds = time.perf_counter() - t0
    return section


def main(argv: list[str]) -> None:
    section_main(argv, prog="rnn", doc=__doc__, models=MODELS, run=run)


if __name__ == "__main__":
    main(sys.argv[1:])
