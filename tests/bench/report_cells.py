"""Synthetic, realistic cells for the report tests.

Five models (a published static model, its bag of context, a stand-in, a model whose name and
label need escaping, a floor) on six tasks of four kinds, with a sample cap (mr), a cell under
90% coverage (glove-6b-50d on wic), a task resampled by word (polysemy-probe), a descriptive
task without a selected layer (geometry), a protocol setting that differs between models,
and a failed cell. Deterministic: every number comes from a seeded generator.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np

from bench.cell import Cell
from bench.stats import METRICS, statistic
from bench.store import ResultStore

EVIL = 'hf:<b>evil</b>&"co"'
EVIL_LABEL = "<script>alert(1)</script> 50% & #1 $x_y ~ café"

MODELS: dict[str, dict[str, Any]] = {
    "glove-6b-50d": {"family": "glove", "contextual": False, "label": "GloVe 6B 50d (Stanford, published)",
                     "layers": ["emb"], "checkpoint": "glove.6B.50d (Stanford GloVe 6B)"},
    "bow:glove-6b-50d": {"family": "glove", "contextual": True, "static_source": True,
                         "label": "bag of context over GloVe 6B 50d (Stanford, published)",
                         "layers": ["word", "context", "combined"], "checkpoint": "bag of context over glove.6B.50d"},
    "minilm-l6": {"family": "bert", "contextual": True,
                  "label": "stand-in for BERT: all-MiniLM-L6-v2, a sentence-embedding fine-tune of MiniLM",
                  "layers": ["emb", "1", "2", "3"], "checkpoint": "all-MiniLM-L6-v2 (stand-in for BERT)"},
    EVIL: {"family": "gpt", "contextual": True, "label": EVIL_LABEL, "layers": ["emb", "1", "2"],
           "checkpoint": "<i>evil</i> checkpoint"},
    "random": {"family": "other", "contextual": False, "floor": True, "label": "floor: random vectors",
               "layers": ["emb"], "checkpoint": "random"},
}

#: how good each model is (correlation for similarity, accuracy otherwise), before per-layer offsets
QUALITY = {"glove-6b-50d": 0.55, "bow:glove-6b-50d": 0.62, "minilm-l6": 0.8, EVIL: 0.6, "random": 0.0}

TASKS: dict[str, dict[str, Any]] = {
    "ws353": {"kind": "similarity", "metric": "spearman", "n": 120, "datasets": ["ws353"]},
    "simlex999": {"kind": "similarity", "metric": "spearman", "n": 150, "datasets": ["simlex999"]},
    "wic": {"kind": "context", "metric": "accuracy", "n": 200, "datasets": ["wic"]},
    "polysemy-probe": {"kind": "context", "metric": "accuracy", "n": 160, "groups": 16},
    "mr": {"kind": "classification", "metric": "accuracy", "n": 150, "total": 10662, "datasets": ["mr"]},
    "geometry": {"kind": "geometry", "metric": "adjusted self-similarity", "n": 30, "datasets": ["brown"],
                 "descriptive": True},
}

FAILED = ("minilm-l6", "mr")


def _rng(*keys: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(keys).encode()))


def _preds(task: str, model: str, layer: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    spec = TASKS[task]
    q = max(0.0, QUALITY[model] - 0.06 * abs(layer - 1)) if QUALITY[model] else 0.0
    gold_rng = _rng(task, "gold")
    rng = _rng(task, model, str(layer))
    if spec["metric"] == "spearman":
        gold = gold_rng.uniform(0, 10, n)
        z = (gold - gold.mean()) / gold.std()
        return q * z + np.sqrt(1 - q * q) * rng.normal(size=n), gold
    acc = q if q else 0.5
    return (rng.random(n) < acc).astype(float), np.array([])


def make_cell(model: str, task: str) -> Cell:
    spec, info = TASKS[task], MODELS[model]
    if (model, task) == FAILED:
        return Cell.from_dict({"key": f"{model}::{task}#f", "slot": f"{model}::{task}", "embedder": model,
                               "task": task, "status": "failed", "stage": "task",
                               "error": "ValueError: boom | the classifier <did> not converge",
                               "embedder_info": {"family": info["family"]}})
    n_all = spec["n"]
    ids_all = [f"{task}-{i}" for i in range(n_all)]
    keep = np.ones(n_all, bool)
    if (model, task) == ("glove-6b-50d", "wic"):
        keep[_rng("oov").permutation(n_all)[: int(0.2 * n_all)]] = False  # 80% coverage: flagged
    groups_all = [f"w{i % spec['groups']}" for i in range(n_all)] if "groups" in spec else []
    results, best, best_dev = [], 0, -np.inf
    for k, layer in enumerate(info["layers"]):
        pred, gold = _preds(task, model, k, n_all)
        p, g = pred[keep], (gold[keep] if len(gold) else None)
        value = float(statistic(METRICS[spec["metric"]], p, g)) if not spec.get("descriptive") else \
            float(0.9 - 0.1 * k)
        dev = value + float(_rng(task, model, layer, "dev").normal(0, 0.01))
        if dev > best_dev:
            best, best_dev = k, dev
        protocol = {"n_boot": 1000, "seed": 0, "limit": None}
        if task == "wic":
            protocol["max_test"] = 100 if model == "minilm-l6" else None
        results.append({"metric": spec["metric"], "layer": layer, "value": value, "ci_low": value - 0.06,
                        "ci_high": value + 0.06, "n": int(keep.sum()), "total": spec.get("total", n_all),
                        "sampled": n_all if "total" in spec else 0, "protocol": protocol,
                        "extra": {}})
    shared = {"task": task, "embedder": model, "protocol": results[0]["protocol"],
              "dataset_sha256": {f"{d}/main": f"{zlib.crc32(d.encode()):08x}" + "ab" * 28
                                 for d in spec.get("datasets", [])},
              "versions": {"ctxbench": "0.1.0"}, "seconds": 1.5, "checkpoint": info["checkpoint"]}
    for r in results:
        if r["protocol"] == shared["protocol"]:
            r.pop("protocol")
    meta = {"kind": spec["kind"], "metric": spec["metric"], "higher_is_better": True,
            "datasets": spec.get("datasets", []), "description": f"{task}: a synthetic {spec['kind']} task",
            "license": "CC BY 4.0 (authored)", "citation": "Synthetic 2026"}
    selection = None
    if not spec.get("descriptive"):
        pred, gold = _preds(task, model, best, n_all)
        held = [i for i in range(n_all) if keep[i] and i % 2 == 1]
        p = pred[held]
        g = gold[held] if len(gold) else None
        value = float(statistic(METRICS[spec["metric"]], p, g))
        items = {"ids": [ids_all[i] for i in held], "pred": [round(float(x), 6) for x in p],
                 "gold": [float(x) for x in g] if g is not None else [], "metric": spec["metric"]}
        if groups_all:
            items.update(groups=[groups_all[i] for i in held], scheme="cluster")
        selection = {"layer": info["layers"][best], "criterion": "best on dev", "value": value,
                     "ci_low": value - 0.08, "ci_high": value + 0.08, "n": len(held), "split": "test",
                     "dev_value": best_dev, "items": items}
    embedder_info = {**{k: v for k, v in info.items()}, "layer_dims": [50] * len(info["layers"]),
                     "fingerprint": f"{zlib.crc32(model.encode()):016x}", "direction": "bi" if info["contextual"]
                     else "none"}
    embedder_info["side"] = "floor" if info.get("floor") else \
        "static" if (not info["contextual"] or info.get("static_source")) else "contextual"
    return Cell.from_dict({"key": f"{model}::{task}#1", "slot": f"{model}::{task}", "embedder": model, "task": task,
                           "status": "ok", "results": results, "shared": shared, "selection": selection,
                           "embedder_info": embedder_info, "task_meta": meta, "seconds": 1.5})


def make_cells() -> list[Cell]:
    return [make_cell(m, t) for m in MODELS for t in TASKS]


def make_store(root: Path, *, order: list[int] | None = None) -> ResultStore:
    """A store with every synthetic cell, appended in ``order`` (indices into :func:`make_cells`)."""
    cells = make_cells()
    store = ResultStore(root)
    for k in order if order is not None else range(len(cells)):
        store.add(cells[k])
    return store
