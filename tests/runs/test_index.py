"""The SQLite run index under concurrent use: several processes creating it at once."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import pytest

from attractor.errors import RunError
from attractor.runs import sqlite as db
from attractor.runs.index import list_runs, record_start

N_PROCS = 6
N_DIRS = 10


def _start(out: str, k: int, go, results) -> None:
    go.wait()  # all processes start together and create the same new indexes in step
    try:
        for j in range(N_DIRS):
            record_start(f"{out}/{j}", f"run-{k}", {"seed": k})
        results.put((k, "ok"))
    except Exception as exc:  # reported to the parent, which asserts
        results.put((k, f"{type(exc).__name__}: {exc}"))


def test_processes_creating_one_index_at_once_all_get_a_row(tmp_path):
    out = str(tmp_path / "runs")
    ctx = mp.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_start, args=(out, k, go, results)) for k in range(N_PROCS)]
    for p in procs:
        p.start()
    go.set()
    got = dict(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert all(v == "ok" for v in got.values()), got
    for j in range(N_DIRS):
        names = sorted(r["name"] for r in list_runs(f"{out}/{j}"))
        assert names == sorted(f"run-{k}" for k in range(N_PROCS))


def test_a_locked_new_index_is_retried_then_reported(tmp_path, monkeypatch):
    real_open, calls = db._open, []

    def flaky(path, schema):  # what a second process sees while the first creates the index
        calls.append(path)
        if len(calls) <= 2:
            raise sqlite3.OperationalError("database is locked")
        return real_open(path, schema)

    monkeypatch.setattr(db, "_open", flaky)
    assert record_start(tmp_path, "run", {}) >= 1
    assert len(calls) == 3

    def locked(path, schema):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(db, "_open", locked)
    monkeypatch.setattr(db, "LOCK_RETRY_SECONDS", 0.2)
    with pytest.raises(RunError, match="locked"):
        record_start(tmp_path, "run", {})
