"""Suite files: which embedders, which tasks, with which settings.

A suite is YAML::

    name: default
    description: what it is for
    settings: {n_boot: 1000}          # applied to every task (task settings override)
    embedders:
      - glove-6b-50d                  # a registry name
      - {name: minilm-l6, options: {pooling: mean}}
    tasks:
      - simlex999
      - {name: wic, settings: {max_train: 2000}}
    executor: local                   # or ray (``ctxbench run --executor`` overrides it)
    ray: {resources: {minilm-l6: {num_gpus: 1}}}   # what each model's Ray actor asks for
                                      # (bench.executors.resources; never part of a cell's identity)

Names are checked against the registries when the suite is read, with did-you-mean.

>>> s = Suite.from_dict({"name": "t", "embedders": ["random"], "tasks": ["ws353"]})
>>> s.embedders[0].name, s.tasks[0].name
('random', 'ws353')
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.executors.resources import RaySettings
from embeddings.support.errors import ConfigError, UnknownName

SUITES_DIR = Path(__file__).parent / "suites"
EXECUTORS = ("local", "ray")


def _hash(d: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class EmbedderSpec:
    name: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The embedder's part of a cell key: name, plus an options hash if any."""
        return self.name if not self.options else f"{self.name}@{_hash(self.options)}"


@dataclass(frozen=True)
class TaskSpec:
    name: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.name if not self.settings else f"{self.name}@{_hash(self.settings)}"


def cell_key(emb: EmbedderSpec, task: TaskSpec) -> str:
    return f"{emb.key}::{task.key}"


@dataclass(frozen=True)
class Suite:
    name: str
    embedders: list[EmbedderSpec]
    tasks: list[TaskSpec]
    description: str = ""
    source: str = ""
    #: where cells run ("local" or "ray"); how, not what: never part of a cell's identity
    executor: str = "local"
    #: per-model task settings (a cap for a slow model): (embedder names, task names, settings)
    overrides: tuple[tuple[frozenset[str], frozenset[str], tuple[tuple[str, Any], ...]], ...] = ()
    #: what the ray executor asks of the cluster per model actor and per cell; never part of an identity
    ray: RaySettings = field(default_factory=RaySettings)

    def tasks_for(self, embedder: EmbedderSpec) -> list[TaskSpec]:
        """The suite's tasks with the settings this embedder gets (overrides applied, in order)."""
        out = []
        for t in self.tasks:
            settings = dict(t.settings)
            for names, tasks, extra in self.overrides:
                if embedder.name in names and t.name in tasks:
                    settings.update(dict(extra))
            out.append(TaskSpec(t.name, settings))
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "<dict>") -> Suite:
        keys = {"name", "description", "settings", "embedders", "tasks", "tasks_from", "executor", "overrides", "ray"}
        unknown = set(d) - keys
        if unknown:
            raise ConfigError(f"{source}: unknown suite keys {sorted(unknown)}; allowed: {', '.join(sorted(keys))}")
        executor = str(d.get("executor") or "local")
        if executor not in EXECUTORS:
            raise ConfigError(f"{source}: executor {executor!r}; allowed: {', '.join(EXECUTORS)}")
        overrides = []
        for k, o in enumerate(d.get("overrides") or []):
            if not isinstance(o, dict) or set(o) - {"embedders", "tasks", "settings"} or "settings" not in o:
                raise ConfigError(f"{source}: overrides[{k}] is a mapping with embedders:, tasks: and settings:")
            names = o.get("embedders") or []
            tnames = o.get("tasks") or []
            if not isinstance(names, list) or not isinstance(tnames, list) or not isinstance(o["settings"], dict):
                raise ConfigError(f"{source}: overrides[{k}]: embedders and tasks are lists, settings a mapping")
            overrides.append((frozenset(map(str, names)), frozenset(map(str, tnames)),
                              tuple(sorted(o["settings"].items()))))
        common = dict(d.get("settings") or {})
        embs = [_entry(e, "options", source, "embedders") for e in d.get("embedders") or []]
        tasks = [_entry(t, "settings", source, "tasks") for t in d.get("tasks") or []]
        if d.get("tasks_from"):  # another suite's tasks, exactly (the seeds run uses the default's)
            if tasks:
                raise ConfigError(f"{source}: give either tasks: or tasks_from:, not both")
            base = Suite.load(str(d["tasks_from"]))
            tasks = [(t.name, dict(t.settings)) for t in base.tasks]
            common = {}
        if not embs or not tasks:
            raise ConfigError(f"{source}: a suite needs at least one embedder and one task")
        ray = RaySettings.from_dict(d.get("ray"), source)
        for name in ray.resources:  # a misspelt name would silently get the default resources
            if name not in {n for n, _ in embs}:
                from embeddings.registries import suggest

                raise ConfigError(f"{source}: ray.resources.{name}: not an embedder of this suite; "
                                  f"{suggest(name, [n for n, _ in embs])}embedders: {', '.join(n for n, _ in embs)}")
        return cls(
            name=str(d.get("name") or Path(source).stem),
            embedders=[EmbedderSpec(n, o) for n, o in embs],
            tasks=[TaskSpec(n, {**common, **s}) for n, s in tasks],
            description=str(d.get("description") or ""),
            source=source,
            executor=executor,
            overrides=tuple(overrides),
            ray=ray,
        )

    @classmethod
    def load(cls, name_or_path: str | Path) -> Suite:
        """A suite by path, or by name from ``bench/suites`` (``default`` -> default.yaml)."""
        path = Path(name_or_path)
        if not path.exists():
            candidate = SUITES_DIR / f"{name_or_path}.yaml"
            if not candidate.exists():
                from embeddings.registries import suggest

                names = sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))
                raise UnknownName(f"no suite file {str(name_or_path)!r}; "
                                        f"{suggest(str(name_or_path), names)}built-in suites: {names}")
            path = candidate
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise ConfigError(f"{where}: invalid YAML ({getattr(e, 'problem', e)})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a suite file is a mapping with embedders: and tasks:")
        return cls.from_dict(data, source=str(path))

    def validate_names(self) -> None:
        """Check every embedder and task name against the registries (did-you-mean errors)."""
        import embeddings
        from bench.tasks import registry as task_registry

        for e in self.embedders:
            embeddings.registry.entry(e.name)
        for t in self.tasks:
            task_registry.entry(t.name)

    def select(self, embedders: list[str] | None = None, tasks: list[str] | None = None,
               limit: int | None = None) -> Suite:
        """A sub-suite (the CLI's --embedders, --tasks, --limit)."""
        embs = self.embedders
        if embedders:
            extra = [n for n in embedders if n not in {e.name for e in embs}]
            embs = [e for e in embs if e.name in embedders] + [EmbedderSpec(n) for n in extra]
        ts = self.tasks
        if tasks:
            extra = [n for n in tasks if n not in {t.name for t in ts}]
            ts = [t for t in ts if t.name in tasks] + [TaskSpec(n) for n in extra]
        if limit is not None:
            ts = [TaskSpec(t.name, {**t.settings, "limit": limit}) for t in ts]
        return Suite(self.name, embs, ts, self.description, self.source, self.executor, self.overrides, self.ray)


def _entry(item: Any, field_name: str, source: str, section: str) -> tuple[str, dict[str, Any]]:
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and "name" in item and set(item) <= {"name", field_name}:
        return str(item["name"]), dict(item.get(field_name) or {})
    raise ConfigError(f"{source}: each entry of {section}: is a name or {{name: ..., {field_name}: {{...}}}}; "
                     f"got {item!r}")
