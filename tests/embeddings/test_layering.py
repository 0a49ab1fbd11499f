"""One-way layers: the adapters work in a project that has never heard of the benchmark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

BLOCK_BENCH = """
import importlib.abc, sys
class NoBench(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "bench" or name.startswith("bench."):
            raise ImportError(f"bench is unimportable in this test (asked for {name})")
        return None
sys.meta_path.insert(0, NoBench())
"""


def test_embeddings_loads_and_embeds_with_bench_unimportable():
    code = BLOCK_BENCH + """
import embeddings
emb = embeddings.load("glove-6b-50d")
out = emb.embed([["the", "river", "bank"]])
assert out[0].vectors.shape == (3, 1, 50), out[0].vectors.shape
bow = embeddings.load("bow:glove-6b-50d").embed([["the", "river", "bank"]])
assert bow[0].vectors.shape == (3, 3, 100)
try:
    import bench  # noqa: F401
except ImportError:
    print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_no_module_of_embeddings_imports_bench():
    offenders = []
    for path in (REPO / "embeddings").rglob("*.py"):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            stripped = line.strip()
            if stripped.startswith(("from bench", "import bench")):
                offenders.append(f"{path.relative_to(REPO)}:{lineno}: {stripped}")
    assert not offenders, "embeddings must not import bench:\n" + "\n".join(offenders)
