"""How long the full protocol would take: an estimate from the cells of a result store.

    python -m bench.costs results [--suite full] [--models a,b] [--cpus 64] [--gpus 4] [--gpu-speedup 10]

The store says, per model it ran, how long loading took (``embedder_info.load_seconds``), how
long the shared embedding step took and how many words it embedded (``embed_seconds``,
``embedded_words``), and how long each cell took to score (``Cell.seconds``) under the
settings it ran with. The estimate scales those measurements to the target suite (by default
``full``: every cap lifted) and to checkpoints the store has not run:

- **Work.** A task's work is measured by what it declares it reads (:meth:`Task.inputs`):
  words to embed (the union over the suite's tasks, each distinct sentence once, as the
  runner embeds them) and vectors to score. Embedding time scales with the words, a cell's
  time with its vectors (full settings / the settings it ran with).
- **Size.** A checkpoint the store has not run is scaled from the measured model of its
  family with the largest known size: per-word compute in proportion to parameters that run
  per token (transformers: 12·layers·width², the non-embedding count of Kaplan et al. 2020;
  LSTMs: their recurrent weights), and so is load time. Static models cost nothing per word:
  their load time scales with the number of stored vectors, their cells not at all (analogy
  over a wider model's vocabulary is underestimated; its candidates are capped at 300k words).
- **Machine.** A "model slot" (an actor: a GPU, or a group of ``--cpus-per-model`` cores)
  runs a model as fast as the machine that made the store ran it, or ``--gpu-speedup`` times
  faster on a GPU; a cell uses one core. Models are packed on the slots longest first (LPT);
  cells run on every core after their model is embedded. Wall-clock = model makespan + cell
  seconds / cores (a safe side: cells of early models overlap later embeddings in reality).

It is an order-of-magnitude planning tool: a stand-in's first load includes its training,
a loaded machine inflates every figure, and FLOPs are not seconds across architectures.

Examples
--------
>>> transformer_params(12, 768)   # BERT-base's non-embedding parameters
84934656
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cell import Cell
from bench.store import ResultStore
from bench.suite import Suite, TaskSpec
from bench.tasks import get_task
from bench.vectors import Requests

__all__ = ["CHECKPOINTS", "Estimate", "Measured", "ModelCost", "estimate", "measure", "render", "transformer_params"]

STATIC_FAMILIES = ("word2vec", "glove")


def transformer_params(layers: int, width: int) -> int:
    """Non-embedding parameters of a transformer stack: 12·layers·width² (Kaplan et al. 2020, Table 1)."""
    return 12 * layers * width * width


def lstm_params(inputs: int, hidden: int) -> int:
    """Recurrent weights of one LSTM layer (4 gates over the input and the hidden state)."""
    return 4 * hidden * (inputs + hidden)


@dataclass(frozen=True)
class Checkpoint:
    family: str
    #: parameters run per word (contextual) or vectors stored (static): what time is scaled by
    size: float
    note: str


# Sizes of the canonical checkpoints (DESIGN.md) and of the default stand-ins. Transformers:
# layers and width from each model's config (BERT: Devlin et al. 2019, GPT: Radford et al.
# 2018/2019, MiniLM-L6 and SmolLM2 from their Hugging Face configs). ELMo: parameter counts
# published by AllenNLP (small 13.6M, original 93.6M). ULMFiT: fastai's AWD-LSTM (400 / 1152 x 3).
# Static models: vocabulary x dimension.
CHECKPOINTS: dict[str, Checkpoint] = {
    "bert-base-uncased": Checkpoint("bert", transformer_params(12, 768), "12 x 768"),
    "bert-large-uncased": Checkpoint("bert", transformer_params(24, 1024), "24 x 1024"),
    "minilm-l6": Checkpoint("bert", transformer_params(6, 384), "6 x 384"),
    "openai-gpt": Checkpoint("gpt", transformer_params(12, 768), "12 x 768"),
    "gpt2": Checkpoint("gpt", transformer_params(12, 768), "12 x 768"),
    "gpt2-medium": Checkpoint("gpt", transformer_params(24, 1024), "24 x 1024"),
    "smollm2-135m": Checkpoint("gpt", transformer_params(30, 576), "30 x 576"),
    "elmo-small": Checkpoint("elmo", 13.6e6, "13.6M parameters (AllenNLP)"),
    "elmo-original": Checkpoint("elmo", 93.6e6, "93.6M parameters (AllenNLP)"),
    # char CNN + highway + 2 x 2 LSTMs of 256 cells projected to 64 (bench/standins/elmo.py), roughly
    "elmo-brown": Checkpoint("elmo", 0.8e6, "about 0.8M parameters (stand-in recipe)"),
    "ulmfit-wt103": Checkpoint("ulmfit", lstm_params(400, 1152) + lstm_params(1152, 1152) + lstm_params(1152, 400),
                               "AWD-LSTM 400 / 1152 x 3"),
    "ulmfit-brown": Checkpoint("ulmfit", lstm_params(64, 256) + lstm_params(256, 256) + lstm_params(256, 64),
                               "AWD-LSTM 64 / 256 x 3 (stand-in recipe)"),
    "glove-6b-50d": Checkpoint("glove", 400_000 * 50, "400k x 50"),
    "glove-6b-300d": Checkpoint("glove", 400_000 * 300, "400k x 300"),
    "glove-840b-300d": Checkpoint("glove", 2_196_017 * 300, "2.2M x 300"),
    "word2vec-google-news-300": Checkpoint("word2vec", 3_000_000 * 300, "3M x 300"),
}
#: the canonical checkpoints of DESIGN.md (what "all checkpoints" means by default)
CANONICAL = ("glove-6b-50d", "glove-6b-300d", "glove-840b-300d", "word2vec-google-news-300", "elmo-small",
             "elmo-original", "ulmfit-wt103", "openai-gpt", "gpt2", "gpt2-medium", "bert-base-uncased",
             "bert-large-uncased")


@dataclass
class Measured:
    """One model's figures in the store."""

    name: str
    family: str
    contextual: bool
    size: float | None
    load_seconds: float = 0.0
    embed_seconds: float = 0.0
    embedded_words: int = 0
    #: task name -> (seconds, task settings the cell ran with)
    cells: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    threads: int = 0

    @property
    def seconds_per_word(self) -> float | None:
        return self.embed_seconds / self.embedded_words if self.embedded_words else None


def _size_of(name: str, info: dict[str, Any]) -> float | None:
    if name in CHECKPOINTS:
        return CHECKPOINTS[name].size
    layers, dims = info.get("layers") or [], info.get("layer_dims") or []
    if info.get("family") in ("bert", "gpt") and len(layers) > 1 and dims:
        return float(transformer_params(len(layers) - 1, max(dims)))
    return None


def measure(cells: Iterable[Cell]) -> dict[str, Measured]:
    """Per model name: load, embedding and per-task seconds of its finished cells (the newest of each)."""
    out: dict[str, Measured] = {}
    for c in cells:
        if not c.ok:
            continue
        info = c.embedder_info
        m = out.get(c.embedder)
        if m is None:
            m = out[c.embedder] = Measured(c.embedder, str(info.get("family", "other")),
                                           bool(info.get("contextual", False)), _size_of(c.embedder, info),
                                           threads=int((info.get("machine") or {}).get("torch_threads", 0)))
        m.load_seconds = max(m.load_seconds, float(info.get("load_seconds") or 0.0))
        if info.get("embedded_words") and float(info.get("embed_seconds") or 0.0) > m.embed_seconds:
            m.embed_seconds, m.embedded_words = float(info["embed_seconds"]), int(info["embedded_words"])
        m.cells[c.task] = (float(c.seconds), dict(c.settings))
    return out


class _Work:
    """Declared work of tasks (words to embed, vectors to score), computed once per (task, settings)."""

    def __init__(self) -> None:
        self._req: dict[str, Requests | None] = {}

    def requests(self, name: str, settings: dict[str, Any]) -> Requests | None:
        key = json.dumps([name, settings], sort_keys=True, default=str)
        if key not in self._req:
            try:
                self._req[key] = get_task(name, **settings).inputs()
            except Exception:  # a task that cannot say: it is not scaled
                self._req[key] = None
        return self._req[key]

    def vectors(self, name: str, settings: dict[str, Any]) -> int | None:
        req = self.requests(name, settings)
        return req.n_vectors if req else None

    def words(self, specs: Sequence[TaskSpec]) -> int:
        union = Requests()
        for s in specs:
            req = self.requests(s.name, s.settings)
            if req:
                union.merge(req)
        return sum(map(len, union.sentences()))


@dataclass
class ModelCost:
    name: str
    basis: str  # "measured", "scaled from X (x ratio)", or why there is no estimate
    load_seconds: float = math.nan
    embed_seconds: float = math.nan
    cell_seconds: float = math.nan

    @property
    def model_seconds(self) -> float:
        """What its actor does: load and embed."""
        return self.load_seconds + self.embed_seconds

    @property
    def total(self) -> float:
        return self.model_seconds + self.cell_seconds


@dataclass
class Estimate:
    rows: list[ModelCost]
    suite: str
    cpus: int
    gpus: int
    slots: int
    wall_seconds: float
    assumptions: list[str]

    @property
    def cpu_seconds(self) -> float:
        return sum(r.total for r in self.rows if not math.isnan(r.total))


def _reference(name: str, measured: dict[str, Measured]) -> tuple[Measured | None, float]:
    """The measured model a checkpoint is scaled from, and the size ratio."""
    if name in measured:
        return measured[name], 1.0
    target = CHECKPOINTS.get(name)
    if target is None:
        return None, math.nan
    same = [m for m in measured.values() if m.family == target.family and m.size]
    if not same:
        return None, math.nan
    ref = max(same, key=lambda m: (m.size or 0.0, m.name))
    return ref, target.size / float(ref.size or 1.0)


def makespan(durations: Sequence[float], slots: int) -> float:
    """Longest-first list scheduling of independent jobs on ``slots`` identical slots.

    >>> makespan([4, 3, 3, 2], 2)
    6.0
    """
    loads = [0.0] * max(1, slots)
    heapq.heapify(loads)
    for d in sorted(durations, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + float(d))
    return max(loads)


def estimate(store: ResultStore, suite: Suite, models: Sequence[str] | None = None, *, cpus: int = 8, gpus: int = 0,
             cpus_per_model: int = 1, gpu_speedup: float = 10.0) -> Estimate:
    """The full-protocol cost of ``models`` (default: the suite's, the store's and the canonical checkpoints)."""
    measured = measure(store.cells())
    names = list(models) if models else list(dict.fromkeys([*(e.name for e in suite.embedders), *measured,
                                                              *CANONICAL]))
    work = _Work()
    rows = []
    for name in names:
        ref, ratio = _reference(name, measured)
        if ref is None:
            fam = CHECKPOINTS[name].family if name in CHECKPOINTS else "unknown"
            why = "no size known" if name not in CHECKPOINTS else f"no measured {fam} model in the store"
            rows.append(ModelCost(name, why))
            continue
        specs = suite.tasks_for(next((e for e in suite.embedders if e.name == name), _spec(name)))
        static = ref.family in STATIC_FAMILIES or not ref.contextual
        per_word = ref.seconds_per_word
        embed = 0.0 if static or per_word is None else per_word * work.words(specs) * ratio
        # without a recorded embedding step, a contextual model's embedding is inside its cells' seconds;
        # a static model's lookups are, and cost the same whatever its size
        cell_ratio = ratio if (per_word is None and not static) else 1.0
        cells = 0.0
        rate = _seconds_per_vector(ref, work)
        for s in specs:
            full = work.vectors(s.name, s.settings)
            if s.name in ref.cells:
                secs, ran_with = ref.cells[s.name]
                done = work.vectors(s.name, ran_with)
                cells += secs * (full / done if full and done else 1.0)
            elif rate is not None and full:
                cells += rate * full
        if gpus and not static:
            embed /= gpu_speedup
        basis = "measured" if ref.name == name else f"scaled from {ref.name} (x{ratio:.3g})"
        rows.append(ModelCost(name, basis, ref.load_seconds * ratio, embed, cells * cell_ratio))
    slots = gpus if gpus else max(1, cpus // max(1, cpus_per_model))
    ok = [r for r in rows if not math.isnan(r.total)]
    wall = makespan([r.model_seconds for r in ok], slots) + sum(r.cell_seconds for r in ok) / max(1, cpus)
    threads = sorted({m.threads for m in measured.values() if m.threads})
    slot_text = (f"one per GPU, embedding {gpu_speedup:g}x faster than measured" if gpus
                 else f"{cpus_per_model} cores each")
    assumptions = [
        f"target: suite {suite.name} ({len(suite.tasks)} tasks), its settings as given (caps lifted in 'full')",
        f"measured on the store's machine(s), torch threads {threads or '?'}; one model slot runs a model as fast",
        f"{slots} model slots ({slot_text}), {cpus} cores for cells (one each)",
        "embedding scales with the words of the suite's declared inputs, cells with their vectors",
        "unmeasured checkpoints: per-word compute and load time in proportion to size (parameters run per word; "
        "vectors for static models, whose cells are taken as measured), from the largest measured model of the "
        "family",
        "wall-clock = longest-first makespan of load+embed over the slots + cell seconds / cores",
    ]
    return Estimate(rows, suite.name, cpus, gpus, slots, wall, assumptions)


def _spec(name: str) -> Any:
    from bench.suite import EmbedderSpec

    return EmbedderSpec(name)


def _seconds_per_vector(ref: Measured, work: _Work) -> float | None:
    """The model's mean scoring seconds per declared vector (for a task it has not run)."""
    secs = vecs = 0.0
    for task, (s, settings) in ref.cells.items():
        n = work.vectors(task, settings)
        if n:
            secs, vecs = secs + s, vecs + n
    return secs / vecs if vecs else None


def _hours(seconds: float) -> str:
    if math.isnan(seconds):
        return ""
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds:.0f} s"


def render(est: Estimate) -> str:
    """A markdown table of the estimate, with its assumptions."""
    from bench.report import md_table

    rows = [[r.name, r.basis, _hours(r.load_seconds), _hours(r.embed_seconds), _hours(r.cell_seconds),
             _hours(r.total)] for r in est.rows]
    lines = [f"# Cost estimate: suite {est.suite} on {est.cpus} CPUs" + (f" and {est.gpus} GPUs" if est.gpus else ""),
             "", md_table(["model", "basis", "load", "embed", "cells", "total"], rows), "",
             f"Total compute: {_hours(est.cpu_seconds)}; wall-clock: about {_hours(est.wall_seconds)}.", "",
             "Assumptions:", *[f"- {a}" for a in est.assumptions], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.costs", description="Estimate the full protocol's cost "
                                "from a result store.")
    p.add_argument("dir", nargs="?", default="results", help="results directory (default: results/)")
    p.add_argument("--suite", default="full", help="target suite name or path (default: full)")
    p.add_argument("--models", help="comma-separated models (default: the suite's, the store's, the canonical)")
    p.add_argument("--cpus", type=int, default=8, help="CPU cores in the cluster (default 8)")
    p.add_argument("--gpus", type=int, default=0, help="GPUs in the cluster (default 0)")
    p.add_argument("--cpus-per-model", type=int, default=1, help="cores per model actor without GPUs (default 1)")
    p.add_argument("--gpu-speedup", type=float, default=10.0, help="assumed embedding speed-up on a GPU (default 10)")
    p.add_argument("--out", type=Path, help="also write the estimate to this markdown file")
    args = p.parse_args(argv)
    store = ResultStore(args.dir)
    if not store.path.exists():
        print(f"bench.costs: no result store at {store.path}", file=sys.stderr)
        return 2
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    est = estimate(store, Suite.load(args.suite), models, cpus=args.cpus, gpus=args.gpus,
                   cpus_per_model=args.cpus_per_model, gpu_speedup=args.gpu_speedup)
    text = render(est)
    if args.out:
        from embeddings.support.files import write_text_atomic

        write_text_atomic(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
