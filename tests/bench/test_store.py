"""The result store: O(1) appends under a cross-process lock, torn lines, exactly-once cells."""

from __future__ import annotations

import multiprocessing as mp
import os

import pytest

from bench.cell import Cell, CellIdentity
from bench.result import TaskResult
from bench.store import ResultStore, StoreError
from bench.tasks.base import ItemScores, Selection


def make_cell(i: int, status: str = "ok", version: str = "1") -> Cell:
    ident = CellIdentity(f"e{i % 3}", {}, "id", f"t{i}", {"n_boot": 10}, version, {"d/f": "ab"})
    res = TaskResult(task=f"t{i}", embedder=f"e{i % 3}", layer="emb", metric="accuracy", value=0.5, ci_low=0.4,
                     ci_high=float("nan"), n=10, total=12, protocol={"limit": None}, checkpoint="ck")
    sel = Selection("emb", "only layer", 0.5, 0.4, 0.6, 3, "test",
                    ItemScores(("a", "b", "c"), (1.0, 0.0, 1.0), (), "accuracy"), dev_value=0.45)
    return Cell(key=ident.key, slot=ident.slot, embedder=ident.embedder, task=ident.task, status=status,
                identity=ident, results=(res,), selection=sel)


def test_cells_round_trip_through_the_file(tmp_path):
    store = ResultStore(tmp_path)
    cell = make_cell(1)
    assert store.add(cell)
    (back,) = ResultStore(tmp_path).cells()
    assert back.key == cell.key and back.identity == cell.identity and back.selection == cell.selection
    r = back.results[0]
    assert r.value == 0.5 and r.ci_high != r.ci_high and r.checkpoint == "ck"  # NaN survives as null


def test_append_does_not_rewrite_the_file(tmp_path):
    store = ResultStore(tmp_path)
    store.add(make_cell(1))
    inode = os.stat(store.path).st_ino
    first = store.path.read_bytes()
    store.add(make_cell(2))
    assert os.stat(store.path).st_ino == inode  # appended in place, not replaced
    assert store.path.read_bytes().startswith(first)


def test_a_finished_key_is_never_written_twice(tmp_path):
    a, b = ResultStore(tmp_path), ResultStore(tmp_path)  # two processes' views of one directory
    assert a.add(make_cell(1))
    assert not b.add(make_cell(1))
    assert len(a.records()) == 1
    assert b.add(make_cell(1, status="failed"))  # a failure record is history, not a duplicate


def test_a_torn_last_line_is_repaired_without_losing_complete_lines(tmp_path):
    store = ResultStore(tmp_path)
    for i in range(3):
        store.add(make_cell(i))
    whole = store.path.read_bytes()
    store.path.write_bytes(whole + b'{"key": "half a rec')  # a crash mid-append
    fresh = ResultStore(tmp_path)
    assert len(fresh.cells()) == 3  # reading ignores the torn tail
    assert fresh.repair()
    assert store.path.read_bytes() == whole
    # the next append repairs too
    store.path.write_bytes(whole + b'{"broken')
    ResultStore(tmp_path).add(make_cell(5))
    assert len(ResultStore(tmp_path).records()) == 4


def test_a_complete_last_record_without_newline_is_kept(tmp_path):
    store = ResultStore(tmp_path)
    store.add(make_cell(1))
    store.add(make_cell(2))
    store.path.write_bytes(store.path.read_bytes().rstrip(b"\n"))
    assert ResultStore(tmp_path).repair()
    assert len(ResultStore(tmp_path).records()) == 2


def test_a_damaged_line_in_the_middle_names_its_line(tmp_path):
    store = ResultStore(tmp_path)
    store.add(make_cell(1))
    good = store.path.read_bytes()
    store.path.write_bytes(good + b"{oops\n" + good)
    with pytest.raises(StoreError, match=r"cells.jsonl:2: not a cell record"):
        ResultStore(tmp_path).cells()
    with pytest.raises(StoreError, match=r"cells.jsonl:2"):  # nor is anything appended to it
        ResultStore(tmp_path).add(make_cell(3))


def test_compact_keeps_the_newest_record_of_each_slot(tmp_path):
    store = ResultStore(tmp_path)
    store.add(make_cell(1, version="1"))
    store.add(make_cell(1, status="failed", version="2"))
    store.add(make_cell(1, version="2"))
    store.add(make_cell(2))
    assert store.compact() == 2
    cells = ResultStore(tmp_path).records()
    assert [(c.task, c.identity.task_version) for c in cells] == [("t1", "2"), ("t2", "1")]


def _writer(root: str, start: int, barrier, n: int) -> None:
    store = ResultStore(root)
    barrier.wait()  # both processes append at the same moment
    for i in range(start, start + n):
        store.add(make_cell(i))
        store.add(make_cell(i % 7))  # and both try to write the same seven cells


def test_two_processes_writing_one_store_lose_nothing(tmp_path):
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), start, barrier, 40)) for start in (100, 200)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    keys = [c.key for c in ResultStore(tmp_path).records()]
    expected = {make_cell(i).key for i in list(range(100, 140)) + list(range(200, 240)) + list(range(7))}
    assert len(keys) == len(set(keys)) and set(keys) == expected
