"""``python -m bench.perf [BENCHMARK] [options]``: run one benchmark, or the default set."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "throughput": "bench.perf.throughput",   # words/s per model vs GloVe
    "static-load": "bench.perf.static_load",  # 2.2M x 300 word2vec file: full vs mmap vs restricted
}
DEFAULT = ["throughput"]


def main(argv: list[str]) -> None:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        for name, mod in BENCHMARKS.items():
            print(f"  {name:<12} {mod}")
        return
    if argv and argv[0] in BENCHMARKS:
        importlib.import_module(BENCHMARKS[argv[0]]).main(argv[1:])
        return
    for name in DEFAULT:
        print(f"## {name}\n")
        importlib.import_module(BENCHMARKS[name]).main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
