"""``make perf``: every comparison, one after another in this process, into results/perf.md.

    python -m bench.perf [--quick] [--only extraction,flair,...] [--out results/perf.md]

Sections (each a ratio against a baseline measured in the same run, goals beside them):

1-2. ``extraction``: embed() vs the raw forward and vs a naive per-sentence loop;
3. ``flair``: embed() vs flair's TransformerWordEmbeddings, run in the peer environment;
4. ``rnn``: ELMo and ULMFiT embed() vs their own forward;
5. ``warm``: a warm re-run of a small suite vs a cold one;
6. ``static-load``: a 2.2M x 300 file evaluated on SimLex-999, restricted / mapped vs gensim's load;
7. ``threads``: torch threads 1 vs 2 for the transformers stand-ins.

Only one process computes at a time: subprocesses (the flair peer, the suite runs, the
static-load children) run while this one waits. A section that fails is reported as failed
and the next one runs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.perf.figures import Figure, Section, figures_table
from bench.perf.options import SIZES, PerfOptions, describe_options

logger = logging.getLogger(__name__)

#: section key -> module with ``run(opts) -> Section``, in report order
SECTIONS = {
    "extraction": "bench.perf.extraction",
    "flair": "bench.perf.flair_compare",
    "rnn": "bench.perf.rnn",
    "warm": "bench.perf.warm",
    "static-load": "bench.perf.static_load",
    "threads": "bench.perf.threads",
}


def setup_process(opts: PerfOptions) -> None:
    """Quiet libraries, no progress bars, the chosen torch thread count."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("CTXBENCH_PROGRESS", "0")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    except ImportError:
        pass
    import torch

    torch.set_num_threads(opts.threads)


def wait_for_quiet(limit: float, poll: float = 30.0) -> bool:
    """Wait until other processes use under the quiet share of the CPU (or ``limit`` seconds pass)."""
    from bench.perf.machine import quiet, sample_others

    deadline = time.monotonic() + limit
    while True:
        others = sample_others(min(poll, 5.0))
        if others is None or quiet(others):
            return True
        if time.monotonic() >= deadline:
            print(f"[perf] still busy (others use {others:.0%} of the CPU) after {limit:.0f} s; measuring anyway",
                  file=sys.stderr)
            return False
        print(f"[perf] waiting for a quiet machine (others use {others:.0%} of the CPU)", file=sys.stderr, flush=True)
        time.sleep(max(0.0, min(poll, deadline - time.monotonic())))


def run_sections(opts: PerfOptions, keys: list[str]) -> list[Section]:
    from bench.perf.machine import CpuShare

    sections = []
    for key in keys:
        t0 = time.perf_counter()
        share = CpuShare()
        print(f"[perf] {key} ...", file=sys.stderr, flush=True)
        try:
            section = importlib.import_module(SECTIONS[key]).run(opts)
        except Exception as e:  # one section failing must not hide the others
            logger.warning("section %s failed", key, exc_info=True)
            section = Section(key, f"{key}: failed")
            section.add(f"The section failed: `{type(e).__name__}: {str(e)[:300]}`", "", "```",
                        traceback.format_exc()[-2000:], "```")
            section.figures.append(Figure(key, "—", None, error=f"{type(e).__name__}: {str(e)[:120]}"))
            section.seconds = time.perf_counter() - t0
        section.others = share.others()
        print(f"[perf] {key} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        sections.append(section)
    return sections


def code_version() -> str:
    """``<short commit> (<branch>)``, plus a note when the work tree has uncommitted changes."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        commit, branch = git("rev-parse", "--short", "HEAD"), git("rev-parse", "--abbrev-ref", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} ({branch}){', with uncommitted changes' if dirty else ''}"


def figures_json(opts: PerfOptions, machine_info: dict[str, Any], sections: list[Section], code: str) -> str:
    """perf.json: the figures as data, for comparing two runs (before / after a change)."""
    import json

    figures = [{"section": s.key, "comparison": f.comparison, "model": f.model, "value": f.value,
                "goal": f.goal.text if f.goal else None, "met": f.met, "error": f.error}
               for s in sections for f in s.figures]
    return json.dumps({"code": code, "quick": opts.quick, "repeats": opts.repeats, "machine": machine_info,
                       "figures": figures}, indent=2, default=str) + "\n"


def render(opts: PerfOptions, machine_info: dict[str, Any], sections: list[Section], seconds: float,
           code: str = "unknown") -> str:
    from bench.perf import machine
    from bench.perf.missed import missed_goals

    figures = [f for s in sections for f in s.figures]
    head = [
        "# ctxbench performance",
        "",
        "Generated by `make perf` (`python -m bench.perf`). Every figure is a ratio against a baseline measured "
        "in the same run, on the same sentences, sides interleaved within each repeat; seconds are shown for "
        "reference only. "
        + ("**Quick run** (`--quick`: small sizes, tiny stand-ins): for checking the harness, not for judging. "
           if opts.quick else "")
        + f"{opts.repeats} repeats per side (ELMo/ULMFiT: more, see there); {seconds / 60:.1f} minutes in all. "
        f"Code: {code}.",
        "",
        "Sentences per repeat: " + ", ".join(f"{m} {opts.size(m)}" for m in SIZES) + ". Model options: "
        + ("; ".join(describe_options(m, opts.model_options(m)) for m in SIZES if opts.model_options(m))
           or "none (the full stand-ins, default adapter options)") + ".",
        "",
        "## Machine",
        "",
        *machine.markdown(machine_info, machine.load_average(), machine_info.get("others_cpu_share")),
        "",
        "## Summary",
        "",
        figures_table(figures),
        "",
        *missed_goals(figures),
    ]
    return "\n".join(head) + "\n" + "\n".join(s.markdown() for s in sections)


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__.split("\n")[0])
    PerfOptions.add_arguments(p)
    p.add_argument("--only", default=",".join(SECTIONS), help=f"sections to run (default all: {','.join(SECTIONS)})")
    p.add_argument("--out", type=Path, default=Path("results/perf.md"), help="where to write the report")
    p.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                   help="first wait up to this long for a quiet machine (other processes under 10%% of the CPU)")
    args = p.parse_args(argv)
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {unknown}; sections: {', '.join(SECTIONS)}")
    opts = PerfOptions.from_args(args)
    setup_process(opts)
    from bench.perf import machine

    if args.wait_quiet > 0:
        wait_for_quiet(args.wait_quiet)
    from embeddings.support.files import write_text_atomic

    info = machine.describe()
    t0 = time.perf_counter()
    share = machine.CpuShare()
    sections = run_sections(opts, keys)
    info["others_cpu_share"] = share.others()
    code = code_version()
    text = render(opts, info, sections, time.perf_counter() - t0, code)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out, text)
    write_text_atomic(args.out.with_suffix(".json"), figures_json(opts, info, sections, code))
    print(text)
    print(f"[perf] wrote {args.out} and {args.out.with_suffix('.json')}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
