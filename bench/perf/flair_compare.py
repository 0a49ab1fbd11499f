"""``embed()`` vs flair's TransformerWordEmbeddings on the same checkpoint and sentences.

    python -m bench.perf flair [--quick] [--models minilm-l6,smollm2-135m]

flair (``TransformerWordEmbeddings(dir, layers="all", layer_mean=False,
subtoken_pooling="mean")``: every layer, pieces mean-pooled per word) runs in the peer
environment (:mod:`bench.perf.peer`), on the same checkpoint directory, the same sentence
sets, batch size and torch thread count as ``embed()``; its time is measured inside the
peer (Sentence objects + ``embed`` per batch). Per repeat: flair in file order, flair on
length-sorted sentences, and ``embed()`` (which always sorts), alternating. Goal: embed() at
least 3.5x flair's throughput. Also reported: the pad tokens length sorting saves.
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from functools import partial
from typing import Any

from bench.perf.extraction import embed_threads
from bench.perf.figures import Figure, Goal, Section
from bench.perf.hf_baselines import checkpoint_dir
from bench.perf.options import PerfOptions, describe_options
from bench.perf.peer import FlairPeer
from bench.perf.section_cli import section_main
from bench.perf.sentences import split_sets, sst2_pool
from bench.perf.timing import THROUGHPUT_HEADER, interleave, median_ratio, throughput_rows

logger = logging.getLogger(__name__)

MODELS = ["minilm-l6", "smollm2-135m"]
GOAL = Goal(">=", 3.5, "x")
FILE, SORTED = "flair, file order", "flair, length-sorted"


def compare(name: str, opts: PerfOptions, pool: list[list[str]], section: Section) -> None:
    import embeddings

    model_opts = opts.model_options(name)
    label = describe_options(name, model_opts)
    sets = split_sets(pool, opts.size(name), opts.repeats)
    try:
        emb = embeddings.load(name, **model_opts)
        directory = checkpoint_dir(name, emb)
        threads = embed_threads(emb, opts.threads)
        peer = FlairPeer(directory, {"warmup": sets.warmup, "sets": sets.repeats},
                         batch_size=int(emb.batch_size), threads=threads, pooling="mean")
    except Exception as e:  # flair failing on a model is a result: say so in its rows
        logger.warning("%s: flair comparison could not start", name, exc_info=True)
        err = f"{type(e).__name__}: {str(e)[:300]}"
        section.figures += [Figure(f"embed() ÷ {FILE}", label, None, GOAL, error=err),
                            Figure(f"embed() ÷ {SORTED}", label, None, GOAL, error=err)]
        section.add(f"### {label}", "", f"**flair could not run this model**: {err}", "")
        return
    answers: dict[str, list[dict[str, Any]]] = {FILE: [], SORTED: []}
    with peer:
        emb.embed(sets.warmup, progress=False)

        def flair_side(order: str, key: str) -> Any:  # the peer measures its own time
            def side(r: int) -> float:
                out = peer.time(r, order)
                answers[key].append(out)
                return float(out["seconds"])
            return side

        def run_embed(r: int) -> None:
            emb.embed(sets.repeats[r], progress=False)

        sides = interleave({"embed()": run_embed, FILE: flair_side("file", FILE),
                            SORTED: flair_side("sorted", SORTED)}, opts.repeats)
    ready = peer.ready
    words = sets.words_per_set
    changes = ready.get("compat_changes") or []
    section.add(
        f"### {label}",
        "",
        f"Checkpoint `{directory}`; {len(sets.repeats[0])} sentences ({words[0]:,} words) per repeat, "
        f"{opts.repeats} repeats{' (sets share sentences: the pool is too small)' if sets.reused else ''}; "
        f"batch size {emb.batch_size}; torch threads {threads} on both sides. "
        f"flair {ready['versions']['flair']} (transformers {ready['versions']['transformers']}, torch "
        f"{ready['versions']['torch']}) loaded the model in {ready['load_seconds']:.1f} s; its word vectors are "
        f"{ready['embedding_length']:,} wide ({ready['n_layers']} layers concatenated). ctxbench's pooling: "
        f"{getattr(emb, 'pooling', '?')}; flair's: mean.",
    )
    if changes:
        section.add("", "flair's transformers 4 could not read the directory transformers 5 wrote as it is; the "
                    "peer read it through a view with these changes (same weights, same tokenizer.json): "
                    + "; ".join(changes) + ".")
    if answers[FILE] and answers[SORTED]:
        file_pads = statistics.median(a["pad_tokens"] for a in answers[FILE])
        sorted_pads = statistics.median(a["pad_tokens"] for a in answers[SORTED])
        subtokens = statistics.median(a["subtokens"] for a in answers[FILE])
        section.add("", f"Padding (flair's tokenizer, per set, median): file order {file_pads:,.0f} pad tokens, "
                    f"length-sorted {sorted_pads:,.0f}, for {subtokens:,.0f} real subtokens: sorting saves "
                    f"{file_pads - sorted_pads:,.0f} pad tokens ({(file_pads - sorted_pads) / max(1, subtokens):.0%} "
                    "of the real ones).")
    section.table(THROUGHPUT_HEADER, throughput_rows(sides, words, "embed()"))
    for key in (FILE, SORTED):
        failed = sides["embed()"].error or sides[key].error
        section.figures.append(Figure(f"embed() ÷ {key}", label, median_ratio(sides[key], sides["embed()"]), GOAL,
                                      error=failed))


def run(opts: PerfOptions, models: list[str] | None = None) -> Section:
    section = Section("flair", "3. embed() vs flair's TransformerWordEmbeddings")
    t0 = time.perf_counter()
    section.add(
        "flair 0.15 pins transformers<5, so it runs in its own environment (`.venv-peer`, built by `make "
        "perf-peer` from `bench/perf/requirements-peer.txt`, torch pinned to the same 2.13.0 CPU build) as a "
        "subprocess that loads the model once and times each request itself; only one side computes at a time. "
        "flair: `TransformerWordEmbeddings(dir, layers=\"all\", layer_mean=False, subtoken_pooling=\"mean\", "
        "fine_tune=False)`, otherwise flair's defaults; its timed region is `Sentence(words)` for each sentence "
        "plus `embed(batch)` per batch of the adapter's batch size, in file order or after sorting by length. "
        "Goal: embed() at least "
        f"{GOAL.value}x flair's throughput.",
        "",
    )
    pool = sst2_pool()
    for name in models or MODELS:
        section.guard(describe_options(name, opts.model_options(name)),
                      [(f"embed() ÷ {FILE}", GOAL), (f"embed() ÷ {SORTED}", GOAL)],
                      partial(compare, name, opts, pool, section))
    section.seconds = time.perf_counter() - t0
    return section


def main(argv: list[str]) -> None:
    section_main(argv, prog="flair", doc=__doc__, models=MODELS, run=run)


if __name__ == "__main__":
    main(sys.argv[1:])
