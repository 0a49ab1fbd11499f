"""Command-line options shared by the perf benchmarks (sizes, repeats, threads, model options).

``--quick`` shrinks every size so the whole harness runs in a few minutes (for building and
debugging it on a busy machine; its numbers are not the ones that count). Model options are
passed through to :func:`embeddings.load`, e.g. ``--option elmo-brown:tiny=true``, and are
printed next to every row that used them.

>>> o = PerfOptions.parse(["--quick", "--option", "elmo-brown:tiny=true,batch_size=16"])
>>> o.size("minilm-l6"), o.repeats, o.model_options("elmo-brown")
(48, 2, {'tiny': True, 'batch_size': 16})
>>> PerfOptions.parse([]).size("smollm2-135m")
200
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

import yaml

#: sentences per timed repeat (full run, --quick run)
SIZES: dict[str, tuple[int, int]] = {
    "minilm-l6": (600, 48),
    "smollm2-135m": (200, 16),
    "elmo-brown": (500, 48),  # the LSTMs take ~1 s per set: more repeats (rnn.py), smaller sets
    "ulmfit-brown": (500, 48),
}
DEFAULT_SIZE = (200, 16)
#: options used by --quick when none are given: the tiny stand-ins train in seconds
QUICK_OPTIONS: dict[str, dict[str, Any]] = {"elmo-brown": {"tiny": True}, "ulmfit-brown": {"tiny": True}}


def parse_option(text: str) -> tuple[str, dict[str, Any]]:
    """``name:key=value,key=value`` -> (name, {key: YAML value}).

    >>> parse_option("ulmfit-brown:tiny=true,batch_size=8")
    ('ulmfit-brown', {'tiny': True, 'batch_size': 8})
    """
    name, sep, rest = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--option {text!r}: expected NAME:key=value[,key=value]")
    out: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise argparse.ArgumentTypeError(f"--option {text!r}: {item!r} is not key=value")
        out[key.strip()] = yaml.safe_load(value)
    return name, out


@dataclass
class PerfOptions:
    quick: bool = False
    repeats: int = 3
    threads: int = 1
    sentences: dict[str, int] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def add_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quick", action="store_true",
                       help="small sizes, 2 repeats, tiny stand-ins: for building the harness, not for numbers")
        p.add_argument("--repeats", type=int, default=None, help="timed repeats per side (default 3, quick 2)")
        p.add_argument("--threads", type=int, default=1,
                       help="torch intra-op threads for every comparison but the threads one (default 1, "
                            "the adapters' default)")
        p.add_argument("--sentences", action="append", default=[], metavar="NAME=N",
                       help="sentences per repeat for one model, e.g. minilm-l6=300")
        p.add_argument("--option", action="append", default=[], metavar="NAME:key=value,...",
                       help="embeddings.load options for one model, e.g. elmo-brown:tiny=true")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PerfOptions:
        sentences = {}
        for item in args.sentences:
            name, eq, n = item.partition("=")
            if not eq or not n.isdigit() or int(n) < 1:
                raise SystemExit(f"--sentences {item!r}: expected NAME=N with N a positive integer")
            sentences[name] = int(n)
        options: dict[str, dict[str, Any]] = {}
        for text in args.option:
            name, opts = parse_option(text)
            options.setdefault(name, {}).update(opts)
        repeats = args.repeats if args.repeats is not None else (2 if args.quick else 3)
        if repeats < 1:
            raise SystemExit(f"--repeats must be at least 1, got {repeats}")
        return cls(quick=args.quick, repeats=repeats, threads=args.threads, sentences=sentences, options=options)

    @classmethod
    def parse(cls, argv: list[str]) -> PerfOptions:
        p = argparse.ArgumentParser()
        cls.add_arguments(p)
        return cls.from_args(p.parse_args(argv))

    def size(self, name: str) -> int:
        """Sentences per timed repeat for ``name``."""
        if name in self.sentences:
            return self.sentences[name]
        full, quick = SIZES.get(name, DEFAULT_SIZE)
        return quick if self.quick else full

    def model_options(self, name: str) -> dict[str, Any]:
        """Options for ``embeddings.load(name, ...)``: given ones, else quick defaults, else none."""
        if name in self.options:
            return dict(self.options[name])
        return dict(QUICK_OPTIONS.get(name, {})) if self.quick else {}


def describe_options(name: str, options: dict[str, Any]) -> str:
    """``elmo-brown (tiny=True)`` or ``elmo-brown`` (default options).

    >>> describe_options("elmo-brown", {"tiny": True}), describe_options("minilm-l6", {})
    ('elmo-brown (tiny=True)', 'minilm-l6')
    """
    if not options:
        return name
    return f"{name} ({', '.join(f'{k}={v}' for k, v in options.items())})"
