"""The local executor: one model after another in this process."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from bench.cell import Cell
from bench.runner import (
    Loader,
    Recorder,
    RunSummary,
    complete_identities,
    describe,
    embedding_stats,
    failed_cell,
    log_failure,
    plan_run,
    prepare_source,
    run_cell,
)
from bench.store import ResultStore
from bench.suite import Suite
from bench.vectors import PlannedSource


class LocalExecutor:
    """Runs every cell in this process (the default)."""

    def run(self, suite: Suite, store: ResultStore, *, loader: Loader, on_cell: Callable[[Cell], None] | None,
            rerun: bool) -> RunSummary:
        works = plan_run(suite, store, rerun=rerun)
        record = Recorder(suite, store, on_cell, rerun=rerun)  # the driver alone writes the store

        done = store.done_keys()
        for work in works:
            for cell in work.failed:
                record(cell)
            record.skipped(work.skipped)
            if not work.todo:
                continue
            t0 = time.perf_counter()
            try:
                emb = loader(work.spec.name, **work.spec.options)
            except Exception as exc:  # record and go on with the next model
                log_failure(f"loading {work.spec.name}", exc)
                for spec, _, cid in work.todo:
                    record(failed_cell(cid, work.spec, spec, "load", exc))
                continue
            load_seconds = time.perf_counter() - t0
            skipped_before = work.skipped
            complete_identities(work, emb, done, rerun)
            record.skipped(work.skipped - skipped_before)
            if not work.todo:
                continue
            info = describe(work, emb, load_seconds)
            source, prepare_error = prepare_source(emb, [task for _, task, _ in work.todo])
            info = {**info, **embedding_stats(source)}
            for spec, task, cid in work.todo:
                assert cid is not None
                record.bar.set_postfix_str(f"{work.spec.name} / {spec.name}")
                record(run_cell(task, source, spec, cid, work.spec, info, suite.name,
                                prepare_alone=prepare_error is not None))
            _close(source)
            del emb, source
            gc.collect()
        record.close()
        return record.summary


def _close(source: Any) -> None:
    if isinstance(source, PlannedSource) and source.cache is not None:
        source.cache.close()
