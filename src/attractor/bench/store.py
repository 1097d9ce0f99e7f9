"""The results store: one SQLite row per benchmark job, written only by the sweep's driver.

Schema (``bench.sqlite``)::

    meta(key, value)         application = attractor-bench, schema_version
    specs(hash, settings, created)
    jobs(id, spec_hash, system, model, seed, status, attempts, metrics, timings, error,
         worker, created, started, finished, UNIQUE(spec_hash, system, model, seed))
    traces(job_id, true, generated, dt)   thumbnails' trajectories (.npy bytes)

A job's life: ``pending`` → ``running`` (when the driver hands it to a worker) → ``done`` or
``failed`` (with its reason). The UNIQUE key means a job can never be recorded twice; every
state change is one transaction, so ``kill -9`` of the driver loses at most the jobs that were
``running`` — a resumed sweep puts those back to ``pending`` and runs them again.

Before anything is written the file is checked read-only: a file that is not SQLite, is
corrupted (``PRAGMA quick_check``), or is an SQLite database of something else is refused with
one sentence (:class:`StoreError`) and left untouched. Opening (WAL, busy timeout, schema,
``meta`` stamp), transactions and the JSON columns are :mod:`attractor.runs.sqlite`'s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from attractor.bench.spec import Job, Settings
from attractor.errors import RunError
from attractor.runs import sqlite as db

APPLICATION = "attractor-bench"
SCHEMA_VERSION = 1
STATUSES = ("pending", "running", "done", "failed")

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS specs (
    hash TEXT PRIMARY KEY, settings TEXT NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec_hash TEXT NOT NULL REFERENCES specs(hash),
    system TEXT NOT NULL,
    model TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    metrics TEXT,
    timings TEXT,
    error TEXT,
    worker TEXT,
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    UNIQUE (spec_hash, system, model, seed)
);
CREATE TABLE IF NOT EXISTS traces (
    job_id INTEGER PRIMARY KEY REFERENCES jobs(id),
    true BLOB NOT NULL,
    generated BLOB NOT NULL,
    dt REAL NOT NULL
);
"""


class StoreError(RunError):
    """The results store file is unusable (not SQLite, corrupted, or not ours)."""


SCHEMA = db.Schema(
    ddl=_DDL,
    tables=frozenset({"meta", "specs", "jobs", "traces"}),
    meta={"application": APPLICATION, "schema_version": str(SCHEMA_VERSION)},
    what="results store",
    advice="move it away or choose another store=",
    error=StoreError,
)


def dumps(obj: Any) -> str:
    """JSON with non-finite floats kept as strings ('inf', 'nan'), so values round-trip."""
    return db.encode(obj)


def check_store(path: str | Path) -> None:
    """Raise StoreError if ``path`` exists and is not a healthy attractor results store.

    Opens the file read-only, so a refused file is never modified.
    """
    path = Path(path)
    if not path.exists():
        return
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a results store; pass a file path.")
    if path.stat().st_size == 0:
        return
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if not tables:
                return
            marker = None
            if "meta" in tables:
                row = con.execute("SELECT value FROM meta WHERE key='application'").fetchone()
                marker = row[0] if row else None
            if marker != APPLICATION or not SCHEMA.tables <= tables:
                raise StoreError(
                    f"{path} is an SQLite database that attractor bench did not write; "
                    "choose another store=."
                )
            ok = con.execute("PRAGMA quick_check").fetchone()
            if not ok or ok[0] != "ok":
                raise StoreError(f"{path} is corrupted ({ok[0] if ok else 'no answer'}).")
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise SCHEMA.unusable(path, exc) from None


class Store:
    """Read/write access to a results store (create it if missing). Use as a context manager."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        check_store(self.path)
        if not create and not self.path.exists():
            raise StoreError(f"no results store at {self.path}; run `attractor bench` first.")
        self.con = db.connect(self.path, SCHEMA)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with db.transaction(self.con) as con:
            yield con

    # ------------------------------------------------------------------ sweep bookkeeping
    def existing(self, jobs: list[Job]) -> dict[tuple, str]:
        """Status of those of ``jobs`` already in the store, by job key."""
        out = {}
        for j in jobs:
            row = self.con.execute(
                "SELECT status FROM jobs WHERE spec_hash=? AND system=? AND model=? AND seed=?",
                j.key,
            ).fetchone()
            if row:
                out[j.key] = row[0]
        return out

    def register(self, jobs: list[Job], retry_failed: bool = False) -> dict[str, int]:
        """Insert missing jobs as ``pending``; put stale ``running`` jobs (and, with
        ``retry_failed``, failed ones) back to ``pending``. Returns counts by status after."""
        now = db.now()
        with self.transaction() as c:
            for settings in {j.settings for j in jobs}:
                c.execute(
                    "INSERT OR IGNORE INTO specs VALUES (?, ?, ?)",
                    (settings.spec_hash(), dumps(asdict(settings)), now),
                )
            reset = ("running", "failed") if retry_failed else ("running",)
            for j in jobs:
                c.execute(
                    "INSERT OR IGNORE INTO jobs (spec_hash, system, model, seed, status, created)"
                    " VALUES (?, ?, ?, ?, 'pending', ?)",
                    (*j.key, now),
                )
                c.execute(
                    f"UPDATE jobs SET status='pending' WHERE spec_hash=? AND system=? AND model=?"
                    f" AND seed=? AND status IN ({','.join('?' * len(reset))})",
                    (*j.key, *reset),
                )
        return self.counts(jobs)

    def counts(self, jobs: list[Job]) -> dict[str, int]:
        st = self.existing(jobs)
        return {s: sum(1 for v in st.values() if v == s) for s in STATUSES}

    def mark_running(self, job: Job) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE jobs SET status='running', attempts=attempts+1, started=? "
                "WHERE spec_hash=? AND system=? AND model=? AND seed=? AND status='pending'",
                (db.now(), *job.key),
            )

    def record(self, job: Job, result: dict[str, Any]) -> None:
        """Store a finished job's result (status, metrics, timings, error, traces) atomically."""
        status = "done" if result.get("status") == "done" else "failed"
        with self.transaction() as c:
            row = c.execute(
                "SELECT id FROM jobs WHERE spec_hash=? AND system=? AND model=? AND seed=?",
                job.key,
            ).fetchone()
            if row is None:  # never registered: impossible through run_sweep
                raise StoreError(f"job {job.label} is not registered in {self.path}.")
            c.execute(
                "UPDATE jobs SET status=?, metrics=?, timings=?, error=?, worker=?, finished=? "
                "WHERE id=?",
                (
                    status,
                    dumps(result.get("metrics") or {}),
                    dumps(result.get("timings") or {}),
                    result.get("error"),
                    result.get("worker"),
                    db.now(),
                    row[0],
                ),
            )
            tr = result.get("traces")
            if tr:
                c.execute(
                    "INSERT OR REPLACE INTO traces VALUES (?, ?, ?, ?)",
                    (row[0], tr["true"], tr["generated"], float(tr["dt"])),
                )

    # ------------------------------------------------------------------ queries
    def rows(self, spec_hash: str | None = None) -> list[dict[str, Any]]:
        """All job rows (optionally of one spec), metrics and timings decoded."""
        sql = "SELECT * FROM jobs" + (" WHERE spec_hash=?" if spec_hash else "") + " ORDER BY id"
        out = []
        for r in self.con.execute(sql, (spec_hash,) if spec_hash else ()):
            d = dict(r)
            d["metrics"] = db.decode(d["metrics"], {})
            d["timings"] = db.decode(d["timings"], {})
            out.append(d)
        return out

    def specs(self) -> list[dict[str, Any]]:
        rows = self.con.execute("SELECT * FROM specs ORDER BY created").fetchall()
        return [{**dict(r), "settings": db.decode(r["settings"], {})} for r in rows]

    def trace(self, job_id: int) -> tuple[bytes, bytes, float] | None:
        r = self.con.execute(
            "SELECT true, generated, dt FROM traces WHERE job_id=?", (job_id,)
        ).fetchone()
        return (r[0], r[1], r[2]) if r else None


def settings_of(row: dict[str, Any]) -> Settings:
    return Settings(**row["settings"])
