"""``python -m bench.reproduce COMMITTED FRESH``: do two result directories hold the same numbers?

What ``make reproduce`` guarantees, and checks:

- On the CPU that produced the committed results (same CPU model, recorded in
  ``timing.md``), every number comes back bit for bit: every table is compared byte for byte.
- On another CPU, the models the project TRAINS (word2vec-brown's gensim training is
  bit-reproducible everywhere; elmo-brown's and ulmfit-brown's torch training is not: floating
  point reductions differ between CPUs) can only be compared up to their training noise: their
  rows in ``results.csv`` must agree within the seed spread measured by ``make seeds`` (the
  range of the score over 3 seeds, per task; without a seeds run they are reported, not judged).
  Everything else must match exactly at the printed precision.

Exit status 0 when the guarantee holds, 1 otherwise; the differences are printed.
"""

from __future__ import annotations

import csv
import math
import re
import sys
from pathlib import Path

TABLES = ("summary.md", "layers.md", "headline.md", "results.csv", "models.md", "findings.md", "datasets.md")
#: models whose weights come from torch training in this project (not bit-reproducible across CPUs)
TRAINED_WITH_TORCH = ("elmo-brown", "ulmfit-brown")
#: tasks that train with torch whatever the model (fine-tuning)
TRAINING_TASKS = ("sst2-finetune",)


def cpu_of(results: Path) -> str:
    timing = results / "timing.md"
    if not timing.is_file():
        return ""
    m = re.search(r"^- CPU: (.+)$", timing.read_text(encoding="utf-8"), re.M)
    return m.group(1).strip() if m else ""


def _rows(path: Path) -> dict[tuple[str, str, str], float]:
    with open(path, encoding="utf-8", newline="") as f:
        return {(r["embedder"], r["task"], r["layer"]): float(r["value"]) if r["value"] else math.nan
                for r in csv.DictReader(f)}


def _spread(results: Path) -> dict[tuple[str, str], float]:
    from bench.findings import seed_spread
    from bench.store import ResultStore

    store = ResultStore(results / "seeds")
    return seed_spread(store.cells(status="ok")) if store.path.exists() else {}


def _trained(name: str) -> bool:
    base = name[4:] if name.startswith("bow:") else name
    return base.split("@")[0] in TRAINED_WITH_TORCH


def compare(committed: Path, fresh: Path) -> tuple[bool, list[str]]:
    same_cpu = bool(cpu_of(committed)) and cpu_of(committed) == cpu_of(fresh)
    notes: list[str] = [f"committed on: {cpu_of(committed) or 'unknown CPU'}; re-run on: {cpu_of(fresh) or 'unknown'}"]
    ok = True
    if same_cpu:
        for name in TABLES:
            fa, fb = committed / name, fresh / name
            if fa.is_file() != fb.is_file() or (fa.is_file() and fa.read_bytes() != fb.read_bytes()):
                ok = False
                notes.append(f"DIFFERS: {name}")
        notes.append("same CPU: every table compared byte for byte")
        return ok, notes
    spread = _spread(committed)
    a, b = _rows(committed / "results.csv"), _rows(fresh / "results.csv")
    within = judged = 0
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, math.nan), b.get(key, math.nan)
        if _trained(key[0]) or key[1] in TRAINING_TASKS:
            tol = spread.get((key[0].split("@")[0], key[1]))
            if tol is None:
                continue
            judged += 1
            if abs(va - vb) <= tol or (math.isnan(va) and math.isnan(vb)):
                within += 1
            else:
                ok = False
                notes.append(f"OUTSIDE SEED SPREAD: {key}: {va:.3f} vs {vb:.3f} (spread {tol:.3f})")
        elif f"{va:.3f}" != f"{vb:.3f}":
            ok = False
            notes.append(f"DIFFERS: {key}: {va:.3f} vs {vb:.3f}")
    notes.append(f"other CPU: models trained with torch compared within their seed spread ({within}/{judged} rows "
                 "judged; without a seeds run they are not judged); everything else at 3 decimals")
    return ok, notes


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    ok, notes = compare(Path(argv[0]), Path(argv[1]))
    print("\n".join(notes))
    print("results/ reproduced" if ok else "results/ NOT reproduced")
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
