"""A warm re-run of a small suite vs a cold run: what caching across runs buys.

    python -m bench.perf warm [--quick] [--suite bench/perf/suites/warm.yaml]

Runs ``ctxbench run SUITE --out DIR`` twice as subprocesses, each into a fresh result store,
with the same ``CTXBENCH_CACHE``: a scratch cache root that links only the real cache's
weights and data (``models/``: trained stand-ins, converted checkpoints; ``datasets/``,
``downloads/``), so everything else, the embedding cache (``embeddings/``) or wherever a
cache of computed vectors may live, starts empty. The first run is thus cold for computed
vectors only (a stand-in never trained is trained before, untimed), and the second is warm
by whatever the first left under the scratch root: the measurement follows whatever caching
ctxbench does.
Goal: the warm run takes at most 5% of the cold one. Both runs must give the same tables.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.perf.figures import Figure, Goal, Section
from bench.perf.options import PerfOptions

SUITE = Path(__file__).with_name("suites") / "warm.yaml"
GOAL = Goal("<=", 0.05)
#: where the embedding cache lives (reported); a cold run starts without it
EMBEDDING_CACHE = "embeddings"
#: the cache entries a cold run keeps: weights and data, nothing computed from them
KEEP = ("models", "datasets", "downloads")
QUICK = ["--embedders", "glove-6b-50d,minilm-l6", "--limit", "20"]
CLI = "import sys; from bench.cli import main; sys.exit(main(sys.argv[1:]))"


def scratch_cache(real: Path, scratch: Path) -> list[str]:
    """Link the :data:`KEEP` entries of ``real`` into a new ``scratch`` root; the linked names."""
    scratch.mkdir(parents=True, exist_ok=True)
    linked = []
    for name in KEEP:
        target = real / name
        target.mkdir(parents=True, exist_ok=True)  # so what the runs train or download lands in the real cache
        (scratch / name).symlink_to(target.resolve(), target_is_directory=True)
        linked.append(name)
    return linked


def ctxbench(args: list[str], env: dict[str, str], log: Path) -> tuple[float, int]:
    """Run the ctxbench CLI with this interpreter and code; (wall seconds, exit code)."""
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        rc = subprocess.run([sys.executable, "-c", CLI, "--no-progress", *args], env=env, stdout=out,
                            stderr=subprocess.STDOUT, check=False).returncode
    return time.perf_counter() - t0, rc


def prepare(names: list[str], env: dict[str, str], log: Path) -> int:
    """Load each embedder once (untimed), so training or converting is not part of the cold run."""
    code = "import sys, embeddings\nfor n in sys.argv[1:]:\n    embeddings.load(n)\n"
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.run([sys.executable, "-c", code, *names], env=env, stdout=out, stderr=subprocess.STDOUT,
                              check=False).returncode


def run(opts: PerfOptions, suite: Path = SUITE) -> Section:
    import os

    from bench.suite import Suite
    from embeddings.support.paths import cache_root

    section = Section("warm", "5. Warm re-run vs cold run of a small suite")
    t0 = time.perf_counter()
    spec = Suite.load(suite)
    extra = QUICK if opts.quick else []
    names = [e.name for e in spec.embedders]
    if opts.quick:
        names = QUICK[1].split(",")
    with tempfile.TemporaryDirectory(prefix="ctxbench-perf-warm-") as tmp:
        root = Path(tmp)
        linked = scratch_cache(cache_root(), root / "cache")
        env = {**os.environ, "CTXBENCH_CACHE": str(root / "cache"), "CTXBENCH_PROGRESS": "0"}
        rc = prepare(names, env, root / "prepare.log")
        if rc != 0:
            raise RuntimeError(f"loading the suite's models failed: {(root / 'prepare.log').read_text()[-800:]}")
        runs = {}
        for label in ("cold", "warm"):
            out = root / f"results-{label}"
            seconds, code = ctxbench(["run", str(suite), "--out", str(out), *extra], env, root / f"{label}.log")
            log = (root / f"{label}.log").read_text(encoding="utf-8")
            runs[label] = (seconds, code, log, out)
        same = _same_tables(runs["cold"][3], runs["warm"][3])
        embedding_cache = root / "cache" / EMBEDDING_CACHE
        cache_mb = (sum(f.stat().st_size for f in embedding_cache.rglob("*") if f.is_file()) / 2**20
                    if embedding_cache.exists() else None)
        shutil.rmtree(root / "cache")  # links only (rmtree unlinks symlinks, never follows them)
    cold, warm = runs["cold"][0], runs["warm"][0]
    failed = [label for label, (_, code, _, _) in runs.items() if code != 0]
    section.add(
        f"`ctxbench run {suite.name} --out <fresh dir>{' ' + ' '.join(extra) if extra else ''}` twice, as "
        f"subprocesses, with the same `CTXBENCH_CACHE`: a scratch root linking only the real cache's "
        f"{', '.join(f'`{n}/`' for n in linked)} (weights and data: trained stand-ins and converted checkpoints "
        f"are kept, and were loaded once before, untimed); the embedding cache `{EMBEDDING_CACHE}/`, like "
        f"anything else computed, starts empty. Suite: {len(names)} embedders "
        f"({', '.join(names)}) x {len(spec.tasks)} tasks ({', '.join(t.name for t in spec.tasks)}). "
        f"Goal: warm at most {GOAL.value:.0%} of cold.",
    )
    section.table(["run", "wall s", "exit code"], [[k, f"{v[0]:.1f}", str(v[1])] for k, v in runs.items()])
    section.add(
        "Embedding cache after the two runs: "
        + (f"{cache_mb:,.1f} MB under `$CTXBENCH_CACHE/{EMBEDDING_CACHE}`." if cache_mb is not None
           else f"none (`$CTXBENCH_CACHE/{EMBEDDING_CACHE}` was not created: nothing is cached across runs "
                "yet, so warm and cold do the same work).")
        + f" Tables of the two runs identical: {'yes' if same else '**no**'}.",
    )
    error = None
    if failed:
        tails = {label: runs[label][2][-400:] for label in failed}
        error = f"run(s) {failed} exited non-zero"
        section.add("", *(f"{label} log tail:\n```\n{tail}\n```" for label, tail in tails.items()))
    section.figures.append(Figure("warm run ÷ cold run (time)", f"{spec.name} suite", warm / cold if cold else None,
                                  GOAL, error=error))
    section.seconds = time.perf_counter() - t0
    return section


#: the generated tables that hold no timings (the ones `make reproduce` compares)
TABLES = ("summary.md", "layers.md", "headline.md", "results.csv", "models.md")


def _same_tables(a: Path, b: Path) -> bool:
    """The two runs wrote the same tables, byte for byte."""
    files = [f for f in TABLES if (a / f).exists()]
    return bool(files) and all((b / f).exists() and (a / f).read_bytes() == (b / f).read_bytes() for f in files)


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.perf warm", description=__doc__.split("\n")[0])
    PerfOptions.add_arguments(p)
    p.add_argument("--suite", type=Path, default=SUITE)
    args = p.parse_args(argv)
    from bench.perf.figures import figures_table
    from bench.perf.suite import setup_process

    opts = PerfOptions.from_args(args)
    setup_process(opts)
    section = run(opts, args.suite)
    print(section.markdown())
    print(figures_table(section.figures))


if __name__ == "__main__":
    main(sys.argv[1:])
