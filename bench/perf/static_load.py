"""A GloVe-840B-sized static model (2.2M x 300) evaluated on word similarity: memory and time.

``python -m bench.perf static-load [--rows 2200000] [--dim 300] [--task simlex999] [--keep] [--quick]``

Synthesises (once, under ``cache_dir("perf")``) a word2vec BINARY file of ``rows`` x ``dim``
float32 vectors (2.2M x 300 is about 2.7 GB: the shape of GloVe 840B or GoogleNews; words
``w0000000``..., plus every word of the task's dataset spread through the file, vectors
seeded normal), then, per mode, in a fresh subprocess, loads it and evaluates the
similarity task on it (Spearman of cosines against SimLex-999's ratings), and reports the
time and the peak RSS of the child:

- gensim: ``KeyedVectors.load_word2vec_format(binary=True)``, the plain load a user writes
  (the baseline), wrapped in a StaticEmbedder for the same evaluation;
- full: ctxbench's reader, the whole file into RAM (``mmap=False``);
- vocab (task words): only the task's words are kept (``vocab=suite_words([task])``; the
  whole file is still read);
- mmap (convert): the first ``mmap=True`` load, which converts the file into the cache once;
- mmap (cached): a later ``mmap=True`` load, which maps the converted .npy (what loading a
  file of 1 GiB or more by name does);
- mmap + vocab: the mapped copy, the task's rows copied out;
- max_vocab=300k (only with ``--modes``): the 300,000 first words.

The Spearman must come out the same in every mode (the random vectors make it near 0: it
checks that every mode scores the same pairs with the same vectors, not the vectors).
Peak RSS is the child's ``VmHWM`` after the evaluation (:func:`peak_rss_mb`). Pages of a mapped matrix count
towards RSS only once read, and then as reclaimable page cache shared between processes.
Goal: a restricted or mapped evaluation peaks under 1 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

MODES = [
    "gensim",
    "full",
    "vocab (task words)",
    "mmap (convert)",
    "mmap (cached)",
    "mmap + vocab",
    "max_vocab=300k",
]
#: the modes ``make perf`` runs (full parses like gensim, only slower; max_vocab is about analogy)
SUITE_MODES = [m for m in MODES if m not in ("full", "max_vocab=300k")]
BASELINE = "gensim"
#: modes whose peak RSS has a goal (the ways ctxbench is meant to hold a big model)
GOAL_MODES = ["vocab (task words)", "mmap (cached)", "mmap + vocab"]


def synthesise(path: Path, rows: int, dim: int, words: list[str] | tuple[str, ...] = (), seed: int = 0) -> Path:
    """A word2vec binary file: fixed-width synthetic words plus ``words`` spread among them.

    The synthetic rows are written in blocks through a structured array (fast); before each
    block come its share of the real words (one record each). ``rows`` counts both.
    """
    from embeddings.support.files import atomic_path

    if path.is_file():
        return path
    real = sorted(set(words))
    n_syn = rows - len(real)
    if n_syn < 0:
        raise ValueError(f"{rows} rows cannot hold the {len(real)} task words")
    rec = np.dtype([("w", "S8"), ("sp", "S1"), ("v", "<f4", (dim,)), ("nl", "S1")])
    rng = np.random.default_rng(seed)
    step = 50_000
    starts = list(range(0, max(n_syn, 1), step))
    shares = np.array_split(np.array(real, dtype=object), len(starts))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(f"{rows} {dim}\n".encode())
        for start, share in zip(starts, shares):
            for word in share:
                f.write(word.encode("utf-8") + b" " + rng.standard_normal(dim, dtype=np.float32).tobytes() + b"\n")
            n = min(step, n_syn - start)
            if n <= 0:
                continue
            block = np.empty(n, dtype=rec)
            block["w"] = np.char.encode(np.char.add("w", np.char.zfill(np.arange(start, start + n).astype(str), 7)))
            block["sp"] = b" "
            block["v"] = rng.standard_normal((n, dim), dtype=np.float32)
            block["nl"] = b"\n"
            block.tofile(f)
    return path


def peak_rss_mb() -> float:
    """Peak resident set of this process's address space, in MB (2**20 bytes).

    ``VmHWM`` from /proc/self/status: unlike ``ru_maxrss``, which Linux carries over from the
    parent through fork + exec (a child of a process holding 2 GB would report 2 GB), the
    high-water mark starts afresh with the address space that exec creates.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(path: str, mode: str, task_name: str) -> None:
    from bench.datasets.words import suite_words
    from bench.tasks import get_task
    from embeddings.static import StaticEmbedder, load_static_file

    task = get_task(task_name, n_boot=200)
    words = sorted(suite_words([task_name]))
    start = time.perf_counter()
    if mode == "gensim":
        from gensim.models import KeyedVectors

        kv = KeyedVectors.load_word2vec_format(path, binary=True)
        emb = StaticEmbedder(kv, name="gensim", family="word2vec", lowercase=True)
    else:
        opts: dict[str, Any] = {"mmap": mode.startswith("mmap"), "lowercase": True}
        if "vocab" in mode and "max_vocab" not in mode:
            opts["vocab"] = words
        if mode == "max_vocab=300k":
            opts["max_vocab"] = 300_000
        emb = load_static_file(path, family="word2vec", **opts)
    loaded = time.perf_counter() - start
    out = task.run(emb)
    total = time.perf_counter() - start
    peak_mb = peak_rss_mb()
    first = out.results[0]
    print(json.dumps({"mode": mode, "load_s": loaded, "total_s": total, "peak_mb": peak_mb, "rows": emb.vocab_size,
                      "spearman": first.value, "n": first.n, "total": first.total}))


def run_modes(path: Path, modes: list[str], task: str) -> list[dict[str, Any]]:
    """Each mode in its own subprocess, one after another; a failed mode becomes an error row."""
    rows = []
    for mode in modes:
        out = subprocess.run(
            [sys.executable, "-m", "bench.perf", "static-load", "--child", str(path), mode, task],
            capture_output=True, text=True, check=False,
        )
        if out.returncode != 0:
            rows.append({"mode": mode, "error": out.stderr.strip().splitlines()[-1][:200] if out.stderr else
                         f"exit code {out.returncode}"})
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def run(opts: Any, *, rows: int | None = None, dim: int = 300, task: str = "simlex999",
        modes: list[str] | None = None, keep: bool = False) -> Any:
    """The section for perf.md (sizes shrink with ``opts.quick``)."""
    import shutil

    from bench.datasets.words import suite_words
    from bench.perf.figures import Figure, Goal, Section
    from embeddings.static.mmap_cache import converted_dir
    from embeddings.support.paths import cache_dir

    section = Section("static-load", "6. A GloVe-840B-sized static model on word similarity: peak memory and time")
    t0 = time.perf_counter()
    rows = rows or (200_000 if opts.quick else 2_200_000)
    modes = modes or SUITE_MODES
    path = cache_dir("perf") / f"synthetic-{rows}x{dim}-{task}.bin"
    made = not path.is_file()
    synthesise(path, rows, dim, sorted(suite_words([task])))
    conv = converted_dir(path, "word2vec-binary")
    if conv.exists():
        shutil.rmtree(conv)  # "mmap (convert)" measures the first conversion
    try:
        results = run_modes(path, modes, task)
    finally:
        if not keep:
            path.unlink(missing_ok=True)
            shutil.rmtree(conv, ignore_errors=True)
    size_gb = rows * (dim * 4 + 10) / 2**30
    section.add(
        f"A synthetic word2vec binary file of {rows:,} x {dim} float32 vectors (~{size_gb:.2f} GiB; "
        f"{'written for this run' if made else 'already in the cache'}) holding every word of {task} among "
        "its rows, loaded in a fresh subprocess per mode, then the similarity task run on it (`get_task"
        f"('{task}', n_boot=200).run(embedder)`); time = load + evaluation; peak RSS = the child's high-water mark "
        "(`VmHWM`). "
        "Baseline: gensim's plain `KeyedVectors.load_word2vec_format(path, binary=True)` + the same evaluation. "
        "The Spearman must be the same in every row (random vectors: it checks the rows, not the vectors). "
        "Goal: peak RSS at most 1 GB for the restricted and mapped modes.",
    )
    base = next((r for r in results if r["mode"] == BASELINE and "error" not in r), None)
    table = []
    for r in results:
        if "error" in r:
            table.append([r["mode"], "failed: " + r["error"], "", "", "", "", ""])
            continue
        speed = f"{base['total_s'] / r['total_s']:.2f}x" if base else "n/a"
        table.append([r["mode"], f"{r['rows']:,}", f"{r['load_s']:.1f}", f"{r['total_s']:.1f}",
                      f"{r['peak_mb']:,.0f}", speed, f"{r['spearman']:.4f} ({r['n']}/{r['total']})"])
    section.table(["mode", "rows kept", "load s", "load + eval s", "peak RSS MB", "speed vs gensim",
                   "Spearman (pairs)"], table)
    spearmen = {round(r["spearman"], 6) for r in results if "error" not in r}
    section.add(f"Same Spearman in every mode: {'yes' if len(spearmen) == 1 else '**no**: ' + str(sorted(spearmen))}.")
    goal = Goal("<=", 1.0, " GB")
    by_mode = {r["mode"]: r for r in results}
    for mode in GOAL_MODES:
        got = by_mode.get(mode)
        if got is None:
            continue
        err = got.get("error")
        peak = None if err else got["peak_mb"] / 1000
        section.figures.append(Figure(f"peak RSS: load ({mode}) + {task}", f"{rows:,} x {dim}", peak, goal, error=err))
        speedup = None if err or base is None else base["total_s"] / got["total_s"]
        section.figures.append(Figure(f"speed: gensim load + eval ÷ ({mode}) + eval", f"{rows:,} x {dim}", speedup,
                                      None, error=err or (None if base else "no gensim baseline"), unit="x"))
    section.seconds = time.perf_counter() - t0
    return section


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.perf static-load", description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=None, help="rows of the synthetic file (default 2,200,000; "
                                                           "quick 200,000)")
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--task", default="simlex999", help="a word-similarity task")
    ap.add_argument("--modes", default=",".join(SUITE_MODES), help=f"comma-separated; known: {', '.join(MODES)}")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic file and its conversion")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(*args.child)
        return
    unknown = [m for m in args.modes.split(",") if m not in MODES]
    if unknown:
        raise SystemExit(f"unknown mode(s) {unknown}; known: {MODES}")
    from bench.perf.figures import figures_table
    from bench.perf.options import PerfOptions

    section = run(PerfOptions(quick=args.quick), rows=args.rows, dim=args.dim, task=args.task,
                  modes=args.modes.split(","), keep=args.keep)
    print(section.markdown())
    print(figures_table(section.figures))


if __name__ == "__main__":
    main(sys.argv[1:])
