"""What a suite asks of a Ray cluster: the ``ray:`` key (how cells run, never part of a cell's identity).

::

    ray:
      default: {num_cpus: 1}                  # each model's actor, unless named below
      resources:                              # per embedder name, as the suite spells it
        bert-large-uncased: {num_cpus: 4, num_gpus: 1, memory: 8GiB}
      cell: {num_cpus: 1}                     # each scored cell (one Ray task)

A model's actor loads the model once and embeds its tasks' inputs, so that is where GPUs and
memory go; a cell scores vectors it reads from the actor (numpy, scikit-learn), so one CPU is
usually enough. The keys are Ray's: ``num_cpus``, ``num_gpus`` (fractions allowed) and
``memory`` (bytes, or a string such as ``"8GiB"`` or ``"500MB"``); Ray gives an actor or task
``OMP_NUM_THREADS`` equal to its ``num_cpus``. Per-model entries override the default key by
key. Resource requests live here rather than in an embedder's ``options:`` because options
are part of a model's identity (changing a GPU count must not re-run finished cells).

Examples
--------
>>> s = RaySettings.from_dict({"default": {"num_cpus": 2}, "resources": {"big": {"num_gpus": 1, "memory": "1GiB"}}})
>>> s.for_model("big")
{'num_cpus': 2.0, 'num_gpus': 1.0, 'memory': 1073741824.0}
>>> demand(s.for_model("big"))
{'CPU': 2.0, 'GPU': 1.0, 'memory': 1073741824.0}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from embeddings.support.errors import ConfigError

__all__ = ["RaySettings", "demand", "fits", "parse_bytes"]

KEYS = ("num_cpus", "num_gpus", "memory")
#: the Ray resource each key reserves
RAY_NAMES = {"num_cpus": "CPU", "num_gpus": "GPU", "memory": "memory"}
_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_bytes(value: Any, where: str = "memory") -> float:
    """Bytes from a number or a string with a unit (decimal ``GB`` or binary ``GiB``).

    >>> parse_bytes("8GiB"), parse_bytes("500 MB"), parse_bytes(1024)
    (8589934592.0, 500000000.0, 1024.0)
    """
    if isinstance(value, bool):
        raise ConfigError(f"{where}: {value!r} is not an amount of memory")
    if isinstance(value, int | float):
        out = float(value)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(value))
        if not m or m.group(2).lower() not in _UNITS:
            raise ConfigError(f"{where}: {value!r} is not an amount of memory; give bytes or e.g. '8GiB', '500MB'")
        out = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if out < 0:
        raise ConfigError(f"{where}: memory must not be negative, got {value!r}")
    return out


def _request(d: Any, where: str) -> dict[str, float]:
    if not isinstance(d, Mapping):
        raise ConfigError(f"{where}: a mapping of {', '.join(KEYS)}; got {d!r}")
    unknown = sorted(set(d) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown resource keys {unknown}; allowed: {', '.join(KEYS)}")
    out: dict[str, float] = {}
    for key in KEYS:
        if key not in d:
            continue
        if key == "memory":
            out[key] = parse_bytes(d[key], f"{where}.memory")
            continue
        value = d[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"{where}.{key}: a non-negative number; got {value!r}")
        out[key] = float(value)
    return out


@dataclass(frozen=True)
class RaySettings:
    """The parsed ``ray:`` key of a suite (see the module docstring)."""

    default: dict[str, float] = field(default_factory=lambda: {"num_cpus": 1.0})
    resources: dict[str, dict[str, float]] = field(default_factory=dict)
    cell: dict[str, float] = field(default_factory=lambda: {"num_cpus": 1.0})

    @classmethod
    def from_dict(cls, d: Any, source: str = "<dict>") -> RaySettings:
        if d is None:
            return cls()
        if not isinstance(d, Mapping):
            raise ConfigError(f"{source}: ray: is a mapping with default:, resources: and cell:")
        unknown = sorted(set(d) - {"default", "resources", "cell"})
        if unknown:
            raise ConfigError(f"{source}: unknown keys under ray: {unknown}; allowed: cell, default, resources")
        per_model = d.get("resources") or {}
        if not isinstance(per_model, Mapping):
            raise ConfigError(f"{source}: ray.resources maps embedder names to {{num_cpus, num_gpus, memory}}")
        base = cls()
        return cls(
            default={**base.default, **_request(d.get("default") or {}, f"{source}: ray.default")},
            resources={str(k): _request(v, f"{source}: ray.resources.{k}") for k, v in per_model.items()},
            cell={**base.cell, **_request(d.get("cell") or {}, f"{source}: ray.cell")},
        )

    def for_model(self, name: str) -> dict[str, float]:
        """The actor request of embedder ``name``: the default, overridden key by key."""
        return {**self.default, **self.resources.get(name, {})}


def demand(request: Mapping[str, float]) -> dict[str, float]:
    """A request in Ray's resource names (``CPU``, ``GPU``, ``memory``), zeros left out.

    >>> demand({"num_cpus": 0.5, "num_gpus": 0.0})
    {'CPU': 0.5}
    """
    return {RAY_NAMES[k]: float(v) for k, v in request.items() if v}


def fits(totals: Mapping[str, float], *demands: Mapping[str, float]) -> bool:
    """Whether the summed ``demands`` fit within the cluster's ``totals`` (``ray.cluster_resources()``).

    >>> fits({"CPU": 2.0}, {"CPU": 1.0}, {"CPU": 1.0}), fits({"CPU": 2.0}, {"CPU": 1.0}, {"GPU": 1.0})
    (True, False)
    """
    need: dict[str, float] = {}
    for d in demands:
        for k, v in d.items():
            need[k] = need.get(k, 0.0) + v
    return all(v <= totals.get(k, 0.0) + 1e-9 for k, v in need.items())
