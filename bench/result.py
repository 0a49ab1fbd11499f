"""Results as frozen objects: one :class:`TaskResult` per (embedder, task, layer).

>>> r = TaskResult(task="simlex999", embedder="glove-6b-50d", layer="emb", metric="spearman",
...                value=0.265, ci_low=0.20, ci_high=0.33, n=998, total=999)
>>> TaskResult.from_dict(r.to_dict()) == r
True
>>> r.coverage
0.998998998998999
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class TaskResult:
    """One score of one embedder layer on one task.

    Attributes
    ----------
    task, embedder, layer : str
    metric : str
        Name of the main score (``spearman``, ``accuracy``, ...).
    value, ci_low, ci_high : float
        The score and its 95% bootstrap confidence interval (NaN when not computable).
    n : int
        Items scored (after dropping OOV items, sample caps).
    total : int
        Items in the dataset (the split evaluated).
    protocol : dict
        Every setting that produced the number (OOV policy, context mode, caps, seed...).
    dataset_sha256 : dict
        sha256 of each dataset file read.
    versions : dict
        Versions of ctxbench and the libraries that computed it.
    seconds : float
        Wall time of the (embedder, task) cell, shared by its layers.
    extra : dict
        Secondary scores (e.g. dev accuracy, 3CosMul next to 3CosAdd, Pearson).
    checkpoint : str
        The weights that produced it (stand-ins say so).
    """

    task: str
    embedder: str
    layer: str
    metric: str
    value: float
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    n: int = 0
    total: int = 0
    protocol: dict[str, Any] = field(default_factory=dict)
    dataset_sha256: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    checkpoint: str = ""
    #: items sampled from the split when a cap applies (0: no cap, every item of ``total`` was used)
    sampled: int = 0

    @property
    def coverage(self) -> float:
        """Items scored over items attempted (the sample when capped): what OOV words cost."""
        attempted = self.sampled or self.total
        return self.n / attempted if attempted else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskResult:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"TaskResult got unknown fields {sorted(unknown)}")
        # JSON has no NaN: a stored null score is NaN again
        nan: dict[str, float] = {k: float("nan") for k in ("value", "ci_low", "ci_high") if k in d and d[k] is None}
        return cls(**{**d, **nan})


def library_versions() -> dict[str, str]:
    """Versions of the packages that shape the numbers (recorded in every result)."""
    out = {}
    for pkg in ("ctxbench", "numpy", "scipy", "torch", "transformers", "gensim", "scikit-learn"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
