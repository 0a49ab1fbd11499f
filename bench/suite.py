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
import math
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
    #: run this task only on these embedders (empty: all); where it runs, not what it computes
    only: tuple[str, ...] = field(default=(), compare=False)

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
            if t.only and embedder.name not in t.only:
                continue
            settings = dict(t.settings)
            for names, tasks, extra in self.overrides:
                if embedder.name in names and t.name in tasks:
                    settings.update(dict(extra))
            out.append(TaskSpec(t.name, settings))
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "<dict>") -> Suite:
        """A suite from its mapping; every key and value is checked (ConfigError naming the key)."""
        if not isinstance(d, dict):
            raise ConfigError(f"{source}: a suite is a mapping with embedders: and tasks:, got {type(d).__name__}")
        unknown = [k for k in d if k not in _SUITE_KEYS]
        if unknown:
            raise ConfigError(f"{source}: key {str(unknown[0])!r}: unknown suite keys {sorted(map(str, unknown))}; "
                              f"allowed: {', '.join(_SUITE_KEYS)}")
        for key in ("name", "description", "executor", "tasks_from"):
            if d.get(key) is not None and not isinstance(d[key], str):
                raise ConfigError(f"{source}: key {key!r}: expected text, got {type(d[key]).__name__}")
        executor = str(d.get("executor") or "local")
        if executor not in EXECUTORS:
            raise ConfigError(f"{source}: key 'executor': executor {executor!r}; allowed: {', '.join(EXECUTORS)}")
        overrides = []
        for k, o in enumerate(_sequence(d, "overrides", source)):
            if not isinstance(o, dict) or set(o) - {"embedders", "tasks", "settings"} or "settings" not in o:
                raise ConfigError(f"{source}: key 'overrides[{k}]': a mapping with embedders:, tasks: and settings:")
            names = o.get("embedders") or []
            tnames = o.get("tasks") or []
            if not isinstance(names, list) or not isinstance(tnames, list):
                raise ConfigError(f"{source}: key 'overrides[{k}]': embedders and tasks are lists of names")
            extra = _mapping(o["settings"], source, f"overrides[{k}].settings")
            overrides.append((frozenset(map(str, names)), frozenset(map(str, tnames)), tuple(sorted(extra.items()))))
        common = _mapping(d.get("settings"), source, "settings")
        embs = [_entry(e, "options", source, f"embedders[{i}]")
                for i, e in enumerate(_sequence(d, "embedders", source))]
        raw_tasks = _sequence(d, "tasks", source)
        only: dict[int, tuple[str, ...]] = {}
        for i, t in enumerate(raw_tasks):  # {name, settings, embedders: [...]}: a task for some models only
            if isinstance(t, dict) and "embedders" in t:
                names = t["embedders"]
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise ConfigError(f"{source}: key 'tasks[{i}].embedders': expected a list of embedder names")
                only[i] = tuple(names)
                raw_tasks[i] = {k: v for k, v in t.items() if k != "embedders"}
        tasks = [_entry(t, "settings", source, f"tasks[{i}]") for i, t in enumerate(raw_tasks)]
        if d.get("tasks_from"):  # another suite's tasks, exactly (the seeds run uses the default's)
            if tasks:
                raise ConfigError(f"{source}: key 'tasks_from': give either tasks: or tasks_from:, not both")
            base = Suite.load(str(d["tasks_from"]))
            tasks = [(t.name, dict(t.settings)) for t in base.tasks]
            only = {i: t.only for i, t in enumerate(base.tasks) if t.only}
            common = {}
        if not embs or not tasks:
            raise ConfigError(f"{source}: key {'embedders' if not embs else 'tasks'!r}: a suite needs at least "
                              "one embedder and one task")
        ray = RaySettings.from_dict(d.get("ray"), source)
        for name in ray.resources:  # a misspelt name would silently get the default resources
            if name not in {n for n, _ in embs}:
                from embeddings.registries import suggest

                raise ConfigError(f"{source}: key 'ray.resources.{name}': not an embedder of this suite; "
                                  f"{suggest(name, [n for n, _ in embs])}embedders: {', '.join(n for n, _ in embs)}")
        suite = cls(
            name=str(d.get("name") or Path(source).stem),
            embedders=[EmbedderSpec(n, o) for n, o in embs],
            tasks=[TaskSpec(n, {**common, **s}, only.get(i, ())) for i, (n, s) in enumerate(tasks)],
            description=str(d.get("description") or ""),
            source=source,
            executor=executor,
            overrides=tuple(overrides),
            ray=ray,
        )
        for section, specs in (("embedders", suite.embedders), ("tasks", suite.tasks)):
            keys = [spec.key for spec in specs]
            for i, key in enumerate(keys):
                if key in keys[:i]:
                    raise ConfigError(f"{source}: key '{section}[{i}]': {specs[i].name!r} with the same "
                                      f"{'options' if section == 'embedders' else 'settings'} as "
                                      f"{section}[{keys.index(key)}]; each cell would run twice")
        return suite

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
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            line = raw.count(b"\n", 0, e.start) + 1
            raise ConfigError(f"{path}:{line}: not UTF-8 ({e.reason}); save the suite file as UTF-8") from None
        try:
            data = yaml.load(text, Loader=_SuiteLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
            if mark is not None:
                line = mark.line + 1
            elif isinstance(e, yaml.reader.ReaderError):  # a control character: its position in the text
                line = text.count("\n", 0, e.position) + 1
            else:
                line = 1
            raise ConfigError(f"{path}:{line}: invalid YAML ({getattr(e, 'problem', None) or e})") from None
        except RecursionError:
            raise ConfigError(f"{path}:1: invalid YAML (nested too deeply)") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}:1: a suite file is a mapping with embedders: and tasks:, "
                              f"got {type(data).__name__}")
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
            ts = [TaskSpec(t.name, {**t.settings, "limit": limit}, t.only) for t in ts]
        return Suite(self.name, embs, ts, self.description, self.source, self.executor, self.overrides, self.ray)


_SUITE_KEYS = ("name", "description", "settings", "embedders", "tasks", "tasks_from", "executor", "overrides", "ray")
#: the most values (after YAML aliases are expanded) that a suite's settings may hold
_MAX_VALUES = 10_000


class _SuiteLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type hints: its classes are Any
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last silently),
    and giving a value it cannot build (``!!float x``, the date 2024-02-30) the line it is on."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError) as e:
            raise yaml.constructor.ConstructorError(None, None, f"cannot build this value ({e})",
                                                    node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # '<<: *base' then overrides: allowed
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found the key {key!r:.40} again (first on line {first})", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _sequence(d: dict[str, Any], key: str, source: str) -> list[Any]:
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{source}: key {key!r}: expected a list of names, got {type(value).__name__} "
                          f"{str(value)[:40]!r}")
    return value


def _mapping(value: Any, source: str, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: key {where!r}: expected a mapping, got {type(value).__name__}")
    _check_plain(value, source, where, [0])
    return dict(value)


def _check_plain(value: Any, source: str, where: str, count: list[int], depth: int = 0) -> None:
    """Settings and options are plain data (text, numbers, booleans, null, lists, mappings with text
    keys), finite, and not absurdly many values: they are hashed into cell keys and recorded."""
    count[0] += 1
    if count[0] > _MAX_VALUES or depth > 20:
        raise ConfigError(f"{source}: key {where!r}: more than {_MAX_VALUES} values or nested over 20 deep "
                          "(YAML aliases expanding?)")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ConfigError(f"{source}: key {where!r}: the key {k!r} is not text")
            _check_plain(v, source, f"{where}.{k}", count, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_plain(v, source, f"{where}[{i}]", count, depth + 1)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{source}: key {where!r}: {value} is not a finite number")
    elif value is not None and not isinstance(value, str | int | bool):
        raise ConfigError(f"{source}: key {where!r}: {type(value).__name__} values are not allowed "
                          "(text, numbers, true/false, null, lists and mappings are)")


def _entry(item: Any, field_name: str, source: str, where: str) -> tuple[str, dict[str, Any]]:
    if isinstance(item, str) and item.strip():
        return item, {}
    if isinstance(item, dict) and "name" in item and set(item) <= {"name", field_name}:
        name = item["name"]
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{source}: key '{where}.name': expected a registry name, got {name!r:.60}")
        return name, _mapping(item.get(field_name), source, f"{where}.{field_name}")
    raise ConfigError(f"{source}: key {where!r}: each entry is a name or {{name: ..., {field_name}: {{...}}}}; "
                     f"got {item!r:.80}")
