"""The dataset registry: every dataset name and where it is defined, imported on first use.

One :class:`~embeddings.registries.Registry` (the mechanism embedders and tasks use too) maps
each name to a lazy ``"module:DATASETS.dataset"`` target; the module that defines a dataset
is imported only when that dataset is asked for, and nothing here imports a dataset module
at import time (so dataset modules may import this one without a cycle). Getting a verified
local copy of a file is :mod:`bench.datasets.fetching`'s job.

Examples
--------
>>> info = get_dataset("simlex999")
>>> info.files["pairs"].path
'simlex999/SimLex-999/SimLex-999.txt'
>>> get_dataset("simlex")
Traceback (most recent call last):
...
embeddings.support.errors.UnknownName: unknown dataset 'simlex'; did you mean 'simlex999' or 'simverb3500'? Known: ...
"""

from __future__ import annotations

from bench.datasets.base import DataFile, Dataset
from embeddings.registries import LazyFactory, Registry

__all__ = ["DataFile", "Dataset", "INDEX", "dataset_names", "get_dataset", "register_dataset", "registry"]

registry = Registry("dataset")

#: module -> the datasets it defines (a test checks that each module defines exactly these)
INDEX: dict[str, tuple[str, ...]] = {
    "bench.datasets.similarity": ("ws353", "ws353-sim", "ws353-rel", "simlex999", "men", "simverb3500", "rw",
                                  "rg65", "mc30", "mturk287", "mturk771", "verb143", "yp130"),
    "bench.datasets.analogy": ("google-analogy", "msr-analogy"),
    "bench.datasets.wic": ("wic",),
    "bench.datasets.scws": ("scws",),
    "bench.datasets.coarsewsd": ("coarsewsd20",),
    "bench.datasets.corpora": ("brown",),
    "bench.datasets.classification": ("mr", "cr", "subj", "mpqa", "trec", "sst2"),
}
for _module, _names in INDEX.items():
    for _name in _names:
        registry.register(_name, LazyFactory(f"{_module}:DATASETS.dataset", name=_name))


def register_dataset(ds: Dataset) -> Dataset:
    """Register a dataset defined elsewhere (a plugin, a test)."""
    registry.register(ds.name, lambda: ds, replace=True)
    return ds


def get_dataset(name: str) -> Dataset:
    """The metadata of dataset ``name`` (unknown names raise with did-you-mean suggestions)."""
    ds = registry.get(name)()
    if not isinstance(ds, Dataset):
        raise TypeError(f"dataset target for {name!r} gave {type(ds).__name__}, not a Dataset")
    return ds


def dataset_names() -> list[str]:
    return registry.names()
