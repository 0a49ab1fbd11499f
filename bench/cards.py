"""Model and dataset cards: what each row of a report is, and what each number was measured on.

Everything comes from the cells (what the runner recorded when it ran) plus the dataset
registry's metadata; nothing is loaded.

- A **model card** says the checkpoint, the label (a stand-in says so: "stand-in for BERT:
  all-MiniLM-L6-v2 ..."), what it is in one word or three (:func:`what_it_is`), the family,
  the side it takes in comparisons (:func:`bench.models.side`), its layers and widths, and its
  fingerprint.
- A **dataset card** says the title, licence, citation, the sha256 prefix of every file the
  cells read (as recorded in the cells), and the protocol of every task that used it.

Examples
--------
>>> what_it_is("stand-in for BERT: all-MiniLM-L6-v2, a fine-tune", "contextual")
'stand-in for BERT'
>>> what_it_is("bag of context over stand-in: small ELMo biLM trained on Brown", "static")
'stand-in'
>>> what_it_is("GloVe 6B 50d (Stanford, published)", "static"), what_it_is("floor: random vectors", "floor")
('published', 'floor')
>>> legend_name("minilm-l6", "stand-in for BERT: all-MiniLM-L6-v2", "contextual")
'minilm-l6 (stand-in for BERT)'
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.cell import Cell, canonical_order
from bench.models import model_label, side

__all__ = ["DatasetCard", "ModelCard", "TaskUse", "dataset_cards", "label_of", "legend_name", "model_cards",
           "what_it_is"]


def label_of(name: str, info: dict[str, Any]) -> str:
    """The label the runner recorded (older cells: the registry's)."""
    return str(info.get("label") or model_label(name))


def what_it_is(label: str, model_side: str) -> str:
    """A short form of the label: 'floor', 'stand-in for BERT' / 'stand-in', or 'published'.

    'published' means: not a stand-in the project substitutes for its family, nor a floor;
    the checkpoint column says which weights.
    """
    if model_side == "floor":
        return "floor"
    text = label.removeprefix("bag of context over ")
    head = text.split(":", 1)[0].strip()
    if "stand-in" in head:
        return head
    if "stand-in" in text:
        return "stand-in"
    return "published"


def legend_name(name: str, label: str, model_side: str) -> str:
    """``name`` with the short label when it is a stand-in or a floor (plot legends)."""
    short = what_it_is(label, model_side)
    return name if short == "published" else f"{name} ({short})"


@dataclass(frozen=True)
class ModelCard:
    name: str
    label: str
    what: str
    checkpoint: str
    family: str
    side: str
    direction: str
    layers: tuple[str, ...]
    widths: tuple[int, ...]
    fingerprint: str


def model_cards(cells: Sequence[Cell]) -> list[ModelCard]:
    """One card per model, in canonical order (from the first finished cell of each)."""
    ok = [c for c in cells if c.ok] or list(cells)
    embs, _ = canonical_order(ok)
    info: dict[str, dict[str, Any]] = {}
    for c in ok:
        info.setdefault(c.embedder, c.embedder_info)
    out = []
    for e in embs:
        i = info[e]
        label, s = label_of(e, i), side(i)
        out.append(ModelCard(e, label, what_it_is(label, s), str(i.get("checkpoint", "")), str(i.get("family", "")),
                             s, str(i.get("direction", "")), tuple(map(str, i.get("layers", []))),
                             tuple(int(w) for w in i.get("layer_dims", [])), str(i.get("fingerprint", ""))))
    return out


@dataclass(frozen=True)
class TaskUse:
    """A task that read a dataset, and how."""

    task: str
    description: str
    metric: str
    #: (setting, value); a value that differs between models says so
    protocol: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DatasetCard:
    name: str
    title: str
    license: str
    citation: str
    homepage: str
    #: (file, first 12 hex digits of its sha256 as the cells recorded it)
    files: tuple[tuple[str, str], ...]
    tasks: tuple[TaskUse, ...]


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def _protocol(cells: list[Cell]) -> tuple[tuple[str, str], ...]:
    """The union of the cells' protocols; a setting that differs lists each value with its models."""
    values: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for c in cells:
        proto = c.results[0].protocol if c.results else {}
        for k, v in proto.items():
            values[k][_value(v)].append(c.embedder)
    out = []
    for k in sorted(values):
        seen = values[k]
        if len(seen) == 1 and len(next(iter(seen.values()))) == len(cells):
            out.append((k, next(iter(seen))))
        else:
            out.append((k, "varies: " + "; ".join(f"{v} ({', '.join(ms)})" for v, ms in sorted(seen.items()))))
    return tuple(out)


def dataset_cards(cells: Sequence[Cell]) -> list[DatasetCard]:
    """One card per dataset a finished cell read (in task order); authored task data gets its task's card."""
    from bench.datasets import get_dataset

    ok = [c for c in cells if c.ok]
    embs, tasks = canonical_order(ok)
    rank = {e: k for k, e in enumerate(embs)}
    by_task: dict[str, list[Cell]] = defaultdict(list)
    for c in sorted(ok, key=lambda c: rank[c.embedder]):
        by_task[c.task].append(c)
    users: dict[str, list[str]] = {}
    for t in tasks:
        meta = by_task[t][0].task_meta
        for d in meta.get("datasets") or [f"task:{t}"]:
            users.setdefault(d, []).append(t)
    cards = []
    for name, ts in users.items():
        recorded: dict[str, set[str]] = defaultdict(set)
        for t in ts:
            for c in by_task[t]:
                for key, sha in (c.results[0].dataset_sha256 if c.results else {}).items():
                    owner, _, file = key.partition("/")
                    if owner == name:
                        recorded[file].add(sha[:12])
        uses = tuple(TaskUse(t, str(by_task[t][0].task_meta.get("description", "")),
                             str(by_task[t][0].task_meta.get("metric", "")), _protocol(by_task[t])) for t in ts)
        files = tuple((f, " / ".join(sorted(s))) for f, s in sorted(recorded.items()))
        if name.startswith("task:"):  # data shipped with the task (the authored probes)
            meta = by_task[ts[0]][0].task_meta
            cards.append(DatasetCard(name.removeprefix("task:"), str(meta.get("description", "")),
                                     str(meta.get("license", "")), str(meta.get("citation", "")), "", files, uses))
            continue
        try:
            ds = get_dataset(name)
        except KeyError:
            cards.append(DatasetCard(name, "(not in this installation's dataset registry)", "", "", "", files, uses))
            continue
        if not files:
            files = tuple((f, sha[:12]) for f, sha in sorted(ds.sha256().items()))
        cards.append(DatasetCard(name, ds.title, ds.license, ds.citation, ds.homepage, files, uses))
    return cards
