"""torch threads 1 vs 2 for ``embed()`` on the same workload: which default the numbers support.

    python -m bench.perf threads [--quick] [--models minilm-l6,smollm2-135m]

Each model is loaded twice, ``embeddings.load(name, threads=1)`` and ``threads=2`` (the
adapters' option; torch's global setting is set to match around each call), and both
embed the same fresh SST-2 sets, alternating. The figure is the throughput of 2 threads
over 1. More threads only pay when the cores are otherwise idle: on a busy machine the
extra thread spins against other processes, so this is measured on a quiet machine only.
"""

from __future__ import annotations

import sys
import time
from functools import partial
from typing import Any

from bench.perf.figures import Figure, Section
from bench.perf.machine import QUIET_SHARE, CpuShare, quiet
from bench.perf.options import PerfOptions, describe_options
from bench.perf.section_cli import section_main
from bench.perf.sentences import split_sets, sst2_pool
from bench.perf.timing import THROUGHPUT_HEADER, interleave, median_ratio, throughput_rows
from embeddings.support.threads import torch_threads

MODELS = ["minilm-l6", "smollm2-135m"]
#: 2 threads must beat 1 by this much to be worth a default that hurts on busy machines
WORTH_IT = 1.2


def compare(name: str, opts: PerfOptions, pool: list[list[str]], section: Section) -> float | None:
    import embeddings

    model_opts = opts.model_options(name)
    label = describe_options(name, model_opts)
    try:
        embs = {k: embeddings.load(name, **{**model_opts, "threads": k}) for k in (1, 2)}
    except Exception as e:
        err = f"{type(e).__name__}: {str(e)[:200]}"
        section.figures.append(Figure("embed() threads=2 ÷ threads=1", label, None, error=err, unit="x"))
        section.add(f"### {label}", "", f"Failed to set up: {err}", "")
        return None
    sets = split_sets(pool, opts.size(name), opts.repeats)
    for k, emb in embs.items():
        with torch_threads(k):
            emb.embed(sets.warmup, progress=False)

    def side(k: int) -> Any:
        def run(r: int) -> None:
            with torch_threads(k):
                embs[k].embed(sets.repeats[r], progress=False)
        return run

    share = CpuShare()
    sides = interleave({"threads=1": side(1), "threads=2": side(2)}, opts.repeats)
    others = share.others()
    words = sets.words_per_set
    section.add(f"### {label}", "", f"{len(sets.repeats[0])} sentences ({words[0]:,} words) per repeat, "
                f"{opts.repeats} repeats; other processes used "
                f"{'an unknown share' if others is None else f'{others:.0%}'} of the CPU meanwhile.")
    section.table(THROUGHPUT_HEADER, throughput_rows(sides, words, "threads=2"))
    ratio = median_ratio(sides["threads=1"], sides["threads=2"])
    failed = sides["threads=1"].error or sides["threads=2"].error
    section.figures.append(Figure("embed() threads=2 ÷ threads=1", label, ratio, error=failed, unit="x"))
    return ratio


def run(opts: PerfOptions, models: list[str] | None = None) -> Section:
    section = Section("threads", "7. torch threads: 1 vs 2")
    t0 = time.perf_counter()
    share = CpuShare()
    section.add(
        "The same sets embedded with `threads=1` and `threads=2` (the adapter option, torch's global setting "
        "matched), alternating. The ratio column of the `threads=2` row's table reads as 2 threads' throughput "
        f"over each side. A default of 2 threads is supported only if it is at least {WORTH_IT}x faster on a quiet "
        "machine: on a busy one an extra thread spins against other processes.",
        "",
    )
    pool = sst2_pool()
    ratios = {name: section.guard(describe_options(name, opts.model_options(name)),
                                  [("embed() threads=2 ÷ threads=1", None)],
                                  partial(compare, name, opts, pool, section))
              for name in models or MODELS}
    measured = [r for r in ratios.values() if r is not None]
    others = share.others()
    got = ", ".join(f"{r:.2f}x" for r in measured)
    if not measured:
        verdict = "No model could be measured; no verdict."
    elif not quiet(others):
        verdict = (f"Other processes used {'an unknown share' if others is None else f'{others:.0%}'} of the CPU "
                   f"(quiet: under {QUIET_SHARE:.0%}), so 2 threads' {got} may be an underestimate; re-run on a quiet "
                   "machine to judge the default.")
    elif min(measured) >= WORTH_IT:
        verdict = (f"On this quiet machine 2 threads are {min(measured):.2f}x-{max(measured):.2f}x faster: the numbers "
                   "support the adapters' default (torch's thread count, here 2; `threads=1` on a shared machine).")
    else:
        verdict = (f"Even on this quiet machine 2 threads give only {got} (< {WORTH_IT}x): the numbers support "
                   "`threads=1`.")
    section.add("", f"**Verdict:** {verdict}")
    section.seconds = time.perf_counter() - t0
    return section


def main(argv: list[str]) -> None:
    section_main(argv, prog="threads", doc=__doc__, models=MODELS, run=run)


if __name__ == "__main__":
    main(sys.argv[1:])
