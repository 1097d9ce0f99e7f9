"""The run index: one SQLite row per fit in ``<out>/attractor.sqlite``.

Schema (table ``runs``): ``id``, ``name``, ``path``, ``created``, ``finished``, ``status``
(``running`` / ``done`` / ``interrupted`` / ``failed``), ``source`` (system or file), ``model``,
``forcing``, ``seed``, ``config_hash`` (SHA-256 of the canonical config JSON), ``config``,
``metrics`` (JSON), ``wall_time`` and ``error``. A row is written when a fit starts and updated
when it ends, so a crashed fit stays visible as ``running``/``failed`` instead of vanishing.
SQLite (standard library) gives atomic, crash-safe updates; a file that is not ours is refused
with a clear error rather than modified.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from attractor.errors import RunError

INDEX_FILE = "attractor.sqlite"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    path TEXT,
    created TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    source TEXT,
    model TEXT,
    forcing TEXT,
    seed INTEGER,
    config_hash TEXT,
    config TEXT,
    metrics TEXT,
    wall_time REAL,
    error TEXT
);
"""


def config_hash(config: dict[str, Any]) -> str:
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


#: How long opening an index retries ``database is locked`` (see :func:`connect`).
LOCK_RETRY_SECONDS = 30.0


def _open(path: Path) -> sqlite3.Connection:
    """Connect, switch to WAL, and check or create the schema in one write transaction."""
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        # BEGIN IMMEDIATE takes the write lock (waiting up to the timeout), so a second process
        # never sees the half-created schema of a first one
        con.execute("BEGIN IMMEDIATE")
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and not {"meta", "runs"} <= tables:
            con.execute("ROLLBACK")
            raise RunError(f"{path} is an SQLite file that attractor did not write; move it away.")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                con.execute(statement)
        con.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        con.execute("COMMIT")
        con.isolation_level = ""  # callers use ``with con:`` transactions as usual
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def connect(out: str | Path) -> Iterator[sqlite3.Connection]:
    """Open (creating if needed) the index in directory ``out``; refuse foreign files.

    Two processes opening a new index at once can get ``database is locked`` at once, without
    SQLite's busy timeout (switching a new file to WAL needs an exclusive lock, and SQLite refuses
    rather than deadlocks); that case is retried for up to ``LOCK_RETRY_SECONDS``.
    """
    path = Path(out) / INDEX_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    while True:
        try:
            con = _open(path)
            break
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.05 + 0.1 * random.random())
                continue
            raise RunError(f"{path} is not a usable run index ({exc}); move it away.") from None
        except sqlite3.DatabaseError as exc:
            raise RunError(f"{path} is not a usable run index ({exc}); move it away.") from None
    try:
        yield con
    finally:
        con.close()


def record_start(out: str | Path, name: str, config: dict[str, Any]) -> int:
    with connect(out) as con, con:
        cur = con.execute(
            "INSERT INTO runs (name, created, status, source, model, forcing, seed, config_hash,"
            " config) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
            (
                name,
                _now(),
                config.get("data", {}).get("source"),
                config.get("model", {}).get("kind"),
                config.get("forcing", {}).get("forcing"),
                config.get("seed"),
                config_hash(config),
                json.dumps(config, default=str),
            ),
        )
        return int(cur.lastrowid)


def record_end(
    out: str | Path,
    run_id: int,
    status: str,
    path: str | Path | None = None,
    metrics: dict[str, Any] | None = None,
    wall_time: float | None = None,
    error: str | None = None,
) -> None:
    with connect(out) as con, con:
        con.execute(
            "UPDATE runs SET finished = ?, status = ?, path = ?, metrics = ?, wall_time = ?,"
            " error = ? WHERE id = ?",
            (
                _now(),
                status,
                str(path) if path else None,
                json.dumps(metrics, default=str) if metrics is not None else None,
                wall_time,
                error,
                run_id,
            ),
        )


def list_runs(out: str | Path) -> list[dict[str, Any]]:
    """All rows, newest first, with ``config`` and ``metrics`` decoded."""
    if not (Path(out) / INDEX_FILE).exists():
        return []
    with connect(out) as con:
        con.row_factory = sqlite3.Row
        rows = [dict(r) for r in con.execute("SELECT * FROM runs ORDER BY id DESC")]
    for r in rows:
        for k in ("config", "metrics"):
            r[k] = json.loads(r[k]) if r[k] else None
    return rows
