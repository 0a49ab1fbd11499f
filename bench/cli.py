"""The ``ctxbench`` command: run suites, write reports, list what is available.

    ctxbench run SUITE [--embedders a,b] [--tasks x,y] [--limit N] [--out DIR] [--rerun] [--executor local|ray]
    ctxbench report [DIR]
    ctxbench list [--offline]

Only this module prints; the library logs and shows progress bars.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ctxbench", description="Benchmark static and contextual word embeddings.")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (also CTXBENCH_PROGRESS=0)")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a suite's unfinished cells into the result store")
    run.add_argument("suite", help="suite name in bench/suites (e.g. default) or a YAML path")
    run.add_argument("--embedders", type=_csv, help="comma-separated subset (or extra) embedder names")
    run.add_argument("--tasks", type=_csv, help="comma-separated subset (or extra) task names")
    run.add_argument("--limit", type=int, help="cap every task at N items (a quick smoke run)")
    run.add_argument("--out", default="results", help="results directory (default: results/)")
    run.add_argument("--no-report", action="store_true", help="do not write the report after the run")
    run.add_argument("--executor", choices=("local", "ray"),
                     help="where cells run (default: the suite's executor: key, else local)")
    run.add_argument("--rerun", action="store_true",
                     help="run the selected cells again even if a finished record with the same identity exists")

    rep = sub.add_parser("report", help="write tables and plots from a result store")
    rep.add_argument("dir", nargs="?", default="results", help="results directory (default: results/)")
    rep.add_argument("--readme", metavar="PATH", help="also copy findings.md into this README's findings block")

    tok = sub.add_parser("tokenization", help="how each sub-word model cuts each dataset's words")
    tok.add_argument("--embedders", type=_csv, help="models (default: the default suite's)")
    tok.add_argument("--out", default="results", help="results directory (default: results/)")
    tok.add_argument("--force", action="store_true", help="rewrite the report even if its inputs are unchanged")

    ls = sub.add_parser("list", help="list embedders, tasks and suites")
    ls.add_argument("--offline", action="store_true", help="only embedders that load with no internet")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if args.no_progress:
        from embeddings.progress import disable_progress_bars

        disable_progress_bars()
    import embeddings
    from bench.tasks import registry as task_registry
    from embeddings.support.errors import CtxbenchError

    embeddings.registry.freeze()
    task_registry.freeze()
    try:
        return {"run": _run, "report": _report, "list": _list, "tokenization": _tokenization}[args.command](args)
    except CtxbenchError as e:  # expected: bad input, missing data; anything else shows its traceback
        print(f"ctxbench: error: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from bench.cell import Cell
    from bench.report import write_report
    from bench.runner import run_suite
    from bench.store import ResultStore
    from bench.suite import Suite

    suite = Suite.load(args.suite).select(args.embedders, args.tasks, args.limit)
    suite.validate_names()
    store = ResultStore(args.out)
    n = len(suite.embedders) * len(suite.tasks)
    print(f"suite {suite.name}: {len(suite.embedders)} embedders x {len(suite.tasks)} tasks = {n} cells "
          f"-> {store.path}")

    def on_cell(cell: Cell) -> None:
        if cell.ok:
            sel = cell.selection
            score = f"{sel.value:.3f} ({sel.layer})" if sel is not None else "done"
            print(f"  ok      {cell.embedder:<24} {cell.task:<22} {score}  [{cell.seconds:.1f}s]")
        else:
            # the whole first line (it carries the advice); a bug's traceback is logged by the runner
            print(f"  FAILED  {cell.embedder:<24} {cell.task:<22} {cell.error.splitlines()[0] if cell.error else ''}")

    summary = run_suite(suite, store, on_cell=on_cell, rerun=args.rerun, executor=args.executor)
    print(f"ran {summary.ran}, skipped {summary.skipped} finished, failed {summary.failed} "
          f"in {summary.seconds:.0f}s")
    if not args.no_report:
        files = write_report(store)
        print(f"report: {len(files)} files in {store.root}/ (start with summary.md)")
    return 1 if summary.failed else 0


def _report(args: argparse.Namespace) -> int:
    from bench.report import write_report
    from bench.store import ResultStore

    store = ResultStore(args.dir)
    if not store.path.exists():
        print(f"ctxbench: error: no result store at {store.path}; run a suite first", file=sys.stderr)
        return 2
    files = write_report(store)
    print(f"wrote {len(files)} files to {store.root}/")
    if args.readme:
        from bench.report import update_readme

        changed = update_readme(args.readme, (store.root / "findings.md").read_text(encoding="utf-8"))
        print(f"{args.readme}: findings block {'updated' if changed else 'already up to date'}")
    summary = store.root / "summary.md"
    if summary.exists():
        print(summary.read_text(encoding="utf-8"))
    return 0


def _tokenization(args: argparse.Namespace) -> int:
    from bench.suite import Suite
    from bench.tokenization import write_tokenization_report

    names = args.embedders or [e.name for e in Suite.load("default").embedders]
    files, written = write_tokenization_report(names, args.out, force=args.force)
    if not written:
        print(f"{files[0]} is up to date (same models and datasets); --force rewrites it")
        return 0
    print(files[0].read_text(encoding="utf-8"))
    return 0


def _list(args: argparse.Namespace) -> int:
    import embeddings
    from bench.suite import SUITES_DIR
    from bench.tasks import registry as task_registry

    print("embedders (name, family, offline, description):")
    for e in embeddings.registry.entries():
        if args.offline and not e.offline:
            continue
        tag = "offline" if e.offline else ("needs options" if e.generic else "download")
        print(f"  {e.name:<28} {e.family:<9} {tag:<14} {e.description}")
    for prefix in embeddings.registry.prefixes():
        print(f"  {prefix.name + prefix.meta.get('placeholder', '<id>'):<28} {prefix.family:<9} "
              f"{'generic':<14} {prefix.description}")
    print("tasks:")
    for t in task_registry.entries():
        print(f"  {t.name}")
    print("suites:")
    for p in sorted(SUITES_DIR.glob("*.yaml")):
        print(f"  {p.stem:<28} {p}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
