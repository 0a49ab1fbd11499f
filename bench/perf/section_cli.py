"""The command line of one perf section alone: ``python -m bench.perf.<section> [--models a,b]``."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from bench.perf.figures import Section, figures_table
from bench.perf.options import PerfOptions

__all__ = ["section_main"]


def section_main(argv: list[str], *, prog: str, doc: str | None, models: Sequence[str],
                 run: Callable[[PerfOptions, list[str]], Section]) -> None:
    """Parse the shared perf options and ``--models``, run the section, print it and its figures."""
    from bench.perf.suite import setup_process  # the suite imports the sections: imported late

    p = argparse.ArgumentParser(prog=f"python -m bench.perf {prog}", description=(doc or "").split("\n")[0])
    PerfOptions.add_arguments(p)
    p.add_argument("--models", default=",".join(models))
    args = p.parse_args(argv)
    opts = PerfOptions.from_args(args)
    setup_process(opts)
    section = run(opts, args.models.split(","))
    print(section.markdown())
    print(figures_table(section.figures))
