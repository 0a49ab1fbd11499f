"""``python -m bench.perf [BENCHMARK] [options]``: one benchmark, or (no name) all into results/perf.md.

    python -m bench.perf                      # every section -> results/perf.md (make perf)
    python -m bench.perf --quick              # small sizes, for checking the harness
    python -m bench.perf --only flair,warm    # some sections -> results/perf.md
    python -m bench.perf extraction --help    # one benchmark, printed only
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "extraction": "bench.perf.extraction",    # embed() vs raw forward and vs a naive loop (MiniLM, SmolLM2)
    "flair": "bench.perf.flair_compare",      # embed() vs flair TransformerWordEmbeddings (peer venv)
    "rnn": "bench.perf.rnn",                  # ELMo / ULMFiT embed() vs their own forward
    "warm": "bench.perf.warm",                # warm re-run vs cold run of a small suite
    "static-load": "bench.perf.static_load",  # 2.2M x 300 file: load modes + similarity, RSS and time
    "threads": "bench.perf.threads",          # torch threads 1 vs 2
    "throughput": "bench.perf.throughput",    # words/s per model vs GloVe (not in perf.md)
}


def main(argv: list[str]) -> None:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks:")
        for name, mod in BENCHMARKS.items():
            print(f"  {name:<12} {mod}")
        print("\noptions of the full run:")
        importlib.import_module("bench.perf.suite").main(["--help"])
        return
    if argv and argv[0] in BENCHMARKS:
        importlib.import_module(BENCHMARKS[argv[0]]).main(argv[1:])
        return
    importlib.import_module("bench.perf.suite").main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
