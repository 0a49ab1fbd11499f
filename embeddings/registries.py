"""Name -> factory registries, with lazy targets, entry points and did-you-mean errors.

A factory is any callable taking keyword options and returning an object (an
:class:`~embeddings.base.Embedder` for the embedder registry). It can be registered

- by decorator: ``@embeddings.registry.register("my-model")``;
- lazily, as a ``"module:attribute"`` string imported only when the name is loaded
  (keeps ``ctxbench list`` fast: no torch import to list names);
- by a third-party package, through the entry-point group ``ctxbench.embedders``;
- as a prefix (``hf:``), for generic loaders that take an id after the colon.

Examples
--------
>>> reg = Registry("thing")
>>> @reg.register("glove-6b-50d")
... def make(**options):
...     return ("glove", options)
>>> reg.get("glove-6b-50d")(lowercase=True)
('glove', {'lowercase': True})
>>> reg.get("glovee")
Traceback (most recent call last):
...
embeddings.support.errors.UnknownName: unknown thing 'glovee'; did you mean 'glove-6b-50d'? Known: glove-6b-50d
"""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, cast

from embeddings.support.errors import UnknownName

logger = logging.getLogger(__name__)

Factory = Callable[..., Any]


def suggest(name: str, known: Iterable[str], preferred: Iterable[str] = (), n: int = 3) -> str:
    """'did you mean ...? ' for the closest known names, or '' when none is close.

    A name scores the best of its similarity to ``name`` and its prefix's similarity (so
    'glovee' finds 'glove-6b-50d'); ``preferred`` names (loadable as they are) win near-ties.

    >>> suggest("glovee", ["glove", "glove-6b-50d", "bert-base-uncased"], preferred=["glove-6b-50d"])
    "did you mean 'glove-6b-50d' or 'glove'? "
    """
    pref = set(preferred)
    scored = []
    for cand in known:
        whole = difflib.SequenceMatcher(None, name, cand).ratio()
        head = difflib.SequenceMatcher(None, name, cand[: len(name)]).ratio()
        score = max(whole, head)
        if score >= 0.6:
            scored.append((score + (0.15 if cand in pref else 0.0), cand))
    if not scored:
        return ""
    best = [c for _, c in sorted(scored, key=lambda t: (-t[0], t[1]))[:n]]
    return "did you mean " + " or ".join(repr(c) for c in best) + "? "


@dataclass
class Entry:
    """One registered name: its factory (or lazy target) and metadata for listings.

    An entry-point entry knows only its target string until it is needed: its family,
    offline flag and description are then read from the target object's attributes of the
    same names (a plugin factory declares them), which imports the plugin's module.
    """

    name: str
    target: Factory | str
    family: str = "other"
    description: str = ""
    #: can it load on a machine with no internet (weights in a package or trained locally)?
    offline: bool = False
    #: needs options (path=...) to load: generic loaders are not "available by name"
    generic: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    #: registered through an entry point: metadata comes from the target object
    plugin: bool = False

    def resolve(self) -> Factory:
        if isinstance(self.target, str):
            self.target = _import_target(self.target, self.name)
            if self.plugin:
                self.family = str(getattr(self.target, "family", self.family))
                self.offline = bool(getattr(self.target, "offline", self.offline))
                self.description = str(getattr(self.target, "description", self.description))
        return self.target  # type: ignore[return-value]

    def info(self) -> Entry:
        """This entry with its metadata filled in (imports a plugin's module)."""
        if self.plugin:
            self.resolve()
        return self

    def identity(self, options: dict[str, Any]) -> str | None:
        """What ``load(name, **options)`` would build, named without building it (None: unknown).

        From the factory's own ``identity(**options)`` (stand-in recipes declare one) or the
        ``identity`` target in ``meta`` (a ``"module:attr"`` callable taking the options).
        """
        fn: Any = self.meta.get("identity")
        if isinstance(fn, str):
            fn = self.meta["identity"] = _import_target(fn, self.name)
        if fn is None:
            fn = getattr(self.resolve(), "identity", None)
        if fn is None:
            return None
        if "__rest__" in options:  # a prefix entry: the name after the colon comes first
            options = dict(options)
            return cast("str | None", fn(options.pop("__rest__"), **options))
        return cast("str | None", fn(**options))


def _import_target(target: str, name: str) -> Any:
    module, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"'{name}' needs module {module!r}, which failed to import: {e}. "
            f"Install the project with its dependencies (make install)."
        ) from e
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry:
    """A registry of named factories; see the module docstring."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, Entry] = {}
        self._prefixes: dict[str, Entry] = {}
        self._frozen = False
        self._entry_points_loaded = False

    # -- registering ------------------------------------------------------------------
    def register(
        self, name: str, target: Factory | str | None = None, *, replace: bool = False, **meta: Any
    ) -> Any:
        """Register ``target`` under ``name``; without ``target``, return a decorator.

        ``meta`` fills :class:`Entry` fields (family, description, offline, generic).
        """
        if target is None:

            def decorator(fn: Factory) -> Factory:
                self.register(name, fn, replace=replace, **meta)
                return fn

            return decorator
        self._check_writable(name)
        if name in self._entries and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered; pass replace=True to override")
        if name != name.lower() or " " in name:
            raise ValueError(f"{self.kind} names are kebab-case, got {name!r}")
        known = {k: meta.pop(k) for k in ("family", "description", "offline", "generic") if k in meta}
        self._entries[name] = Entry(name, target, meta=meta, **known)
        return target

    def register_prefix(self, prefix: str, target: Factory | str, **meta: Any) -> None:
        """``load("prefix:rest")`` calls the factory with ``rest`` as its first argument.

        ``placeholder="<name>"`` is how listings show ``rest`` (default ``<id>``).
        """
        self._check_writable(prefix)
        known = {k: meta.pop(k) for k in ("family", "description") if k in meta}
        self._prefixes[prefix] = Entry(prefix + ":", target, generic=True, meta=meta, **known)

    def freeze(self) -> None:
        """Refuse further registrations (the CLI freezes registries once it starts)."""
        self._load_entry_points()
        self._frozen = True

    def _check_writable(self, name: str) -> None:
        if self._frozen:
            raise RuntimeError(f"the {self.kind} registry is frozen; cannot register {name!r}")

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded or not self.entry_point_group:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=self.entry_point_group):
            if ep.name in self._entries:
                logger.warning("entry point %s=%s shadows a built-in; ignored", ep.name, ep.value)
                continue
            self._entries[ep.name] = Entry(ep.name, ep.value, description=f"plugin ({ep.value})", plugin=True)

    # -- looking up ---------------------------------------------------------------------
    def names(self, *, include_generic: bool = False) -> list[str]:
        self._load_entry_points()
        return sorted(n for n, e in self._entries.items() if include_generic or not e.generic)

    def registration_order(self) -> list[str]:
        """Names in the order they were registered (built-ins first, then plugins)."""
        self._load_entry_points()
        return list(self._entries)

    def prefixes(self) -> list[Entry]:
        """The prefix entries (``hf:``, ``bow:``), sorted."""
        return [self._prefixes[p] for p in sorted(self._prefixes)]

    def entries(self) -> list[Entry]:
        """Every entry, metadata filled in (plugins' modules are imported for it)."""
        self._load_entry_points()
        return [self._entries[n].info() for n in sorted(self._entries)]

    def entry(self, name: str) -> Entry:
        self._load_entry_points()
        if name in self._entries:
            return self._entries[name]
        prefix, sep, _ = name.partition(":")
        if sep and prefix in self._prefixes:
            return self._prefixes[prefix]
        known = self.names(include_generic=True) + [
            p + ":" + e.meta.get("placeholder", "<id>") for p, e in self._prefixes.items()]
        preferred = [e.name for e in self._entries.values() if e.offline and not e.generic]
        raise UnknownName(
            f"unknown {self.kind} {name!r}; {suggest(name, known, preferred)}Known: {', '.join(known)}"
        )

    def get(self, name: str) -> Factory:
        """The factory for ``name`` (for a prefix name, bound to the part after the colon)."""
        entry = self.entry(name)
        factory = entry.resolve()
        if entry.name.endswith(":") and not name.endswith(":"):
            rest = name.partition(":")[2]

            def bound(**options: Any) -> Any:
                return factory(rest, **options)

            return bound
        return factory

    def __contains__(self, name: str) -> bool:
        try:
            self.entry(name)
        except KeyError:
            return False
        return True


class LazyFactory:
    """A factory that imports ``"module:attr"`` on first call and binds default options.

    Lets the catalog name many checkpoints served by one loader without importing it.

    >>> f = LazyFactory("builtins:dict", checkpoint="x")
    >>> f(extra=1)
    {'checkpoint': 'x', 'extra': 1}
    """

    def __init__(self, target: str, **bound: Any) -> None:
        self.target = target
        self.bound = bound

    def __call__(self, *args: Any, **options: Any) -> Any:
        return _import_target(self.target, self.target)(*args, **{**self.bound, **options})

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.bound.items())
        return f"LazyFactory({self.target!r}{', ' if opts else ''}{opts})"
