"""The task registry: task names -> task classes (lazy), with did-you-mean errors.

>>> "simlex999" in task_names()
True
>>> get_task("simlex999", oov="mean").settings["oov"]
'mean'
"""

from __future__ import annotations

from typing import Any

from bench.tasks.base import ItemScores, Selection, Task, TaskMeta, TaskOutput
from embeddings.registries import LazyFactory, Registry

__all__ = ["ItemScores", "Selection", "Task", "TaskMeta", "TaskOutput", "get_task", "registry", "task_names"]

registry = Registry("task", entry_point_group="ctxbench.tasks")

SIMILARITY_SETS = ("ws353", "ws353-sim", "ws353-rel", "simlex999", "men", "simverb3500", "rw", "rg65",
                   "mc30", "mturk287", "mturk771", "verb143", "yp130")
for _name in SIMILARITY_SETS:
    registry.register(_name, LazyFactory("bench.tasks.similarity:SimilarityTask", dataset=_name),
                      description=f"word similarity on {_name}")

# Tasks below live in their own modules (one idea each); names are the DESIGN.md contract.
_LAZY = {
    "analogy-google": ("bench.tasks.analogy:AnalogyTask", {"dataset": "google-analogy"}),
    "analogy-msr": ("bench.tasks.analogy:AnalogyTask", {"dataset": "msr-analogy"}),
    # closed vocabulary (the dataset's words) for every model: the like-for-like comparison
    "analogy-google-closed": ("bench.tasks.analogy:AnalogyTask",
                              {"dataset": "google-analogy", "candidates": "dataset"}),
    "analogy-msr-closed": ("bench.tasks.analogy:AnalogyTask", {"dataset": "msr-analogy", "candidates": "dataset"}),
    "wic": ("bench.tasks.wic:WiCTask", {}),
    "scws": ("bench.tasks.scws:SCWSTask", {}),
    "coarsewsd20": ("bench.tasks.coarsewsd:CoarseWSDTask", {}),
    "polysemy-probe": ("bench.tasks.probes:PolysemyProbeTask", {}),
    "direction-probe": ("bench.tasks.probes:DirectionProbeTask", {}),
    "geometry": ("bench.tasks.geometry:GeometryTask", {}),
    "static-from-contextual": ("bench.tasks.static_from_contextual:StaticFromContextualTask", {}),
}
#: downstream classification (SentEval protocol), names from DESIGN.md
CLASSIFICATION_SETS = ("sst2", "mr", "cr", "subj", "mpqa", "trec")
for _name in CLASSIFICATION_SETS:
    _LAZY[_name] = ("bench.tasks.classification:ClassificationTask", {"dataset": _name})
# the fine-tuning regime (ULMFiT, transformers) beside the frozen features, on SST-2's test items
_LAZY["sst2-finetune"] = ("bench.tasks.finetune:FinetuneTask", {})
for _name, (_target, _bound) in _LAZY.items():
    registry.register(_name, LazyFactory(_target, **_bound), description=_name)


def task_names() -> list[str]:
    return registry.names()


def get_task(name: str, **settings: Any) -> Task:
    """Build task ``name`` with ``settings`` (validated by the task)."""
    task = registry.get(name)(**settings)
    if not isinstance(task, Task):
        raise TypeError(f"task factory for {name!r} returned {type(task).__name__}, not a Task")
    if task.meta.name != name and "task_name" not in settings:
        # parametrised classes name themselves after their dataset; the registry name wins
        object.__setattr__(task, "meta", type(task.meta)(**{**task.meta.__dict__, "name": name}))
    return task
