"""Loading a GoogleNews-sized word2vec binary: full load vs memory map vs restricted vocabulary.

``python -m bench.perf static-load [--rows 2200000] [--dim 300] [--keep]``

Synthesises (once, under ``cache_dir("perf")``) a word2vec BINARY file of ``rows`` x
``dim`` float32 vectors (2.2M x 300 is about 2.7 GB: the shape of a large published model;
words are ``w0000000``..., vectors seeded normal), then loads it in a fresh subprocess per
mode and prints peak RSS and wall time, as ratios against the full load:

- full: parse the whole file into RAM (``mmap=False``);
- gensim: ``KeyedVectors.load_word2vec_format(binary=True)``, for reference;
- mmap (convert): the first ``mmap=True`` load, which converts into the cache once;
- mmap (cached): later ``mmap=True`` loads, which map the converted .npy;
- max_vocab=300k: the most frequent 300,000 words only (stops reading early);
- vocab (5k words): only 5,000 named words (a suite's needs; reads the whole file);
- mmap + vocab (5k): the converted copy, then the 5,000 rows copied out.

Peak RSS is measured right after loading (``ru_maxrss`` of the child). Pages of a mapped
matrix count towards RSS only once they are read, and then as reclaimable page cache
shared between processes. Not a test, not in CI: it needs several GB of disk and a few
minutes.
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
    "full",
    "gensim",
    "mmap (convert)",
    "mmap (cached)",
    "max_vocab=300k",
    "vocab (5k words)",
    "mmap + vocab (5k)",
]


def synthesise(path: Path, rows: int, dim: int, seed: int = 0) -> Path:
    """A word2vec binary file with fixed-width words (fast to write with a structured array)."""
    from embeddings.support.files import atomic_path

    if path.is_file():
        return path
    rec = np.dtype([("w", "S8"), ("sp", "S1"), ("v", "<f4", (dim,)), ("nl", "S1")])
    rng = np.random.default_rng(seed)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(f"{rows} {dim}\n".encode())
        step = 50_000
        for start in range(0, rows, step):
            n = min(step, rows - start)
            block = np.empty(n, dtype=rec)
            block["w"] = np.char.encode(
                np.char.add("w", np.char.zfill(np.arange(start, start + n).astype(str), 7))
            )
            block["sp"] = b" "
            block["v"] = rng.standard_normal((n, dim), dtype=np.float32)
            block["nl"] = b"\n"
            block.tofile(f)
    return path


def _child(path: str, mode: str, vocab_file: str) -> None:
    import resource

    from embeddings.static import load_static_file

    start = time.perf_counter()
    if mode == "gensim":
        from gensim.models import KeyedVectors

        kv = KeyedVectors.load_word2vec_format(path, binary=True)
        matrix, n = kv.vectors, len(kv)
    else:
        opts: dict[str, Any] = {"mmap": mode.startswith("mmap")}
        if "vocab" in mode and "max_vocab" not in mode:
            opts["vocab"] = json.loads(Path(vocab_file).read_text())
        if mode == "max_vocab=300k":
            opts["max_vocab"] = 300_000
        emb = load_static_file(path, family="word2vec", **opts)
        matrix, n = emb.kv.vectors, emb.vocab_size
    loaded = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    checksum = float(np.asarray(matrix[:1000], dtype=np.float64).sum())  # a first look-up
    print(json.dumps({"mode": mode, "seconds": loaded, "peak_mb": peak_mb, "rows": n, "checksum": checksum}))


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.perf static-load", description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2_200_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--keep", action="store_true", help="keep the synthetic file and its conversion")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(*args.child)
        return

    import shutil

    from embeddings.static.mmap_cache import converted_dir
    from embeddings.support.paths import cache_dir

    root = cache_dir("perf")
    path = root / f"synthetic-{args.rows}x{args.dim}.bin"
    t0 = time.perf_counter()
    synthesise(path, args.rows, args.dim)
    print(
        f"file: {path} ({path.stat().st_size / 2**30:.2f} GiB, {args.rows} x {args.dim}; "
        f"ready in {time.perf_counter() - t0:.0f} s)\n"
    )
    rng = np.random.default_rng(1)
    vocab = [f"w{i:07d}" for i in sorted(rng.choice(args.rows, size=5000, replace=False))]
    vocab_file = root / "vocab-5k.json"
    vocab_file.write_text(json.dumps(vocab))
    conv = converted_dir(path, "word2vec-binary")
    if conv.exists():
        shutil.rmtree(conv)  # "mmap (convert)" measures the first conversion
    rows = []
    for mode in args.modes.split(","):
        out = subprocess.run(
            [sys.executable, "-m", "bench.perf", "static-load", "--child", str(path), mode, str(vocab_file)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(f"{mode}: failed\n{out.stderr[-2000:]}")
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = next((r for r in rows if r["mode"] == "full"), rows[0])
    print("| mode | rows kept | load s | peak RSS MB | time / full | RSS / full |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['mode']} | {r['rows']:,} | {r['seconds']:.1f} | {r['peak_mb']:,.0f} | "
            f"{r['seconds'] / base['seconds']:.2f} | {r['peak_mb'] / base['peak_mb']:.2f} |"
        )
    if not args.keep:
        path.unlink()
        shutil.rmtree(conv, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
