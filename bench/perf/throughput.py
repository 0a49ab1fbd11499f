"""Embedding throughput per model, as a ratio to the fastest static baseline in the same run.

    python -m bench.perf throughput [--models glove-6b-50d,minilm-l6] [--sentences 200]

Prints words per second, the ratio to glove-6b-50d, and peak RSS growth per model.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time

import embeddings
from bench.datasets.corpora import brown_sentences
from bench.report import md_table

DEFAULT_MODELS = ["glove-6b-50d", "word2vec-brown", "minilm-l6", "smollm2-135m", "elmo-brown", "ulmfit-brown"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, sentences: list[list[str]], repeats: int = 2) -> dict[str, float]:
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    emb = embeddings.load(name)
    load = time.perf_counter() - t0
    emb.embed(sentences[:8])  # warm-up (lazy init, caches)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        emb.embed(sentences, progress=False)
        best = min(best, time.perf_counter() - t)
    words = sum(map(len, sentences))
    del emb
    gc.collect()
    return {"load_s": load, "words_per_s": words / best, "peak_rss_growth_mb": _rss_mb() - rss0}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.perf throughput")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS))
    p.add_argument("--sentences", type=int, default=200)
    args = p.parse_args(argv)
    sents = [list(s) for s in brown_sentences()[: args.sentences]]
    rows, base = [], None
    for name in args.models.split(","):
        try:
            m = measure(name, sents)
        except Exception as e:  # one model failing must not hide the others
            rows.append([name, "failed", "", "", f"{type(e).__name__}: {str(e)[:60]}"])
            continue
        base = base or m["words_per_s"]
        rows.append([name, f"{m['words_per_s']:.0f}", f"{m['words_per_s'] / base:.3f}",
                     f"{m['load_s']:.1f}", f"{m['peak_rss_growth_mb']:.0f}"])
    print(f"Embedding {args.sentences} Brown sentences ({sum(map(len, sents))} words), best of 2, "
          f"ratio against the first model:\n")
    print(md_table(["model", "words/s", "ratio", "load s", "peak RSS growth MB"], rows))


if __name__ == "__main__":
    main()
