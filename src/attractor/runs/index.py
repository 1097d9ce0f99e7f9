"""The run index: one SQLite row per fit in ``<out>/attractor.sqlite``.

Schema (table ``runs``): ``id``, ``name``, ``path``, ``created``, ``finished``, ``status``
(``running`` / ``done`` / ``interrupted`` / ``failed``), ``source`` (system or file), ``model``,
``forcing``, ``seed``, ``config_hash`` (SHA-256 of the canonical config JSON), ``config``,
``metrics`` (JSON), ``wall_time`` and ``error``. A row is written when a fit starts and updated
when it ends, so a crashed fit stays visible as ``running``/``failed`` instead of vanishing.
SQLite (standard library, opened through :mod:`attractor.runs.sqlite`) gives atomic, crash-safe
updates; a file that is not ours is refused with a clear error rather than modified.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from attractor.runs import sqlite as db

INDEX_FILE = "attractor.sqlite"
SCHEMA_VERSION = 1
SCHEMA = db.Schema(
    ddl="""
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
""",
    tables=frozenset({"meta", "runs"}),
    meta={"schema_version": str(SCHEMA_VERSION)},
    what="run index",
)


def config_hash(config: dict[str, Any]) -> str:
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@contextmanager
def connect(out: str | Path) -> Iterator[sqlite3.Connection]:
    """Open (creating if needed) the index in directory ``out``; refuse foreign files
    (:func:`attractor.runs.sqlite.connect`)."""
    con = db.connect(Path(out) / INDEX_FILE, SCHEMA)
    try:
        yield con
    finally:
        con.close()


def record_start(out: str | Path, name: str, config: dict[str, Any]) -> int:
    """Add a ``running`` row for a fit that starts now; returns its id."""
    with connect(out) as con, db.transaction(con):
        cur = con.execute(
            "INSERT INTO runs (name, created, status, source, model, forcing, seed, config_hash,"
            " config) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
            (
                name,
                db.now(),
                config.get("data", {}).get("source"),
                config.get("model", {}).get("kind"),
                config.get("forcing", {}).get("forcing"),
                config.get("seed"),
                config_hash(config),
                db.encode(config),
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
    """Close row ``run_id``: its final status, directory, metrics, wall time and error."""
    with connect(out) as con, db.transaction(con):
        con.execute(
            "UPDATE runs SET finished = ?, status = ?, path = ?, metrics = ?, wall_time = ?,"
            " error = ? WHERE id = ?",
            (
                db.now(),
                status,
                str(path) if path else None,
                db.encode(metrics) if metrics is not None else None,
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
        rows = [dict(r) for r in con.execute("SELECT * FROM runs ORDER BY id DESC")]
    for r in rows:
        for k in ("config", "metrics"):
            r[k] = db.decode(r[k])
    return rows
