"""The SQLite skeleton shared by the run index (:mod:`attractor.runs.index`) and the bench results
store (:mod:`attractor.bench.store`).

A database is described by a :class:`Schema` (its tables, the rows stamped into its ``meta``
table, and how errors name it). :func:`connect` opens it in autocommit mode with a busy timeout,
switches it to WAL with ``synchronous=FULL``, and in one ``BEGIN IMMEDIATE`` transaction refuses
a file whose tables are not ours, creates the schema and stamps ``meta`` (so a second process
never sees a half-created schema). Writes go through :func:`transaction`; JSON columns through
:func:`encode`/:func:`decode` (non-finite floats kept as ``"inf"``/``"nan"``); times are UTC ISO
strings from :func:`now`.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from attractor.errors import AttractorError, RunError
from attractor.io import from_json, to_json

#: Seconds SQLite waits for another connection's lock before answering ``database is locked``.
BUSY_TIMEOUT = 30.0
#: How long :func:`connect` retries ``database is locked`` while opening (see there).
LOCK_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Schema:
    """One kind of attractor SQLite file.

    ``ddl``: ``CREATE TABLE IF NOT EXISTS`` statements separated by ``;``; ``tables``: the
    tables a file of this kind has (a file with other tables only is refused); ``meta``: rows of
    ``meta(key, value)`` written when the file is created; ``what``/``advice``/``error``: the
    name, the remedy and the exception class of the one-sentence errors.
    """

    ddl: str
    tables: frozenset[str]
    meta: Mapping[str, str] = field(default_factory=dict)
    what: str = "database"
    advice: str = "move it away"
    error: type[AttractorError] = RunError

    def foreign(self, path: Path) -> AttractorError:
        return self.error(f"{path} is an SQLite file that attractor did not write; {self.advice}.")

    def unusable(self, path: Path, exc: Exception) -> AttractorError:
        return self.error(f"{path} is not a usable {self.what} ({exc}); {self.advice}.")


def now() -> str:
    """The current UTC time as an ISO string to the second (the time columns)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def encode(obj: Any) -> str:
    """A JSON column's text: sorted keys, non-finite floats as strings, anything else as str."""
    return to_json(obj, indent=None, sort_keys=True, default=str, ensure_ascii=True)


def decode(text: str | None, missing: Any = None) -> Any:
    """A JSON column's value (also the plain JSON of older files); ``missing`` for NULL or ''."""
    return from_json(text) if text else missing


def _foreign(con: sqlite3.Connection, schema: Schema) -> bool:
    """Whether the file has tables but not those of ``schema``."""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return bool(tables) and not schema.tables <= tables


def _open(path: Path, schema: Schema) -> sqlite3.Connection:
    """Connect, switch to WAL, and check or create the schema in one write transaction."""
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    try:
        con.row_factory = sqlite3.Row
        if _foreign(con, schema):  # before anything is written: a refused file stays as it was
            raise schema.foreign(path)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        # BEGIN IMMEDIATE takes the write lock (waiting up to the timeout), so a second process
        # never sees the half-created schema of a first one
        con.execute("BEGIN IMMEDIATE")
        if _foreign(con, schema):
            con.execute("ROLLBACK")
            raise schema.foreign(path)
        for statement in schema.ddl.split(";"):
            if statement.strip():
                con.execute(statement)
        for key, value in schema.meta.items():
            con.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
        con.execute("COMMIT")
    except BaseException:
        con.close()
        raise
    return con


def connect(path: str | Path, schema: Schema) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path``; rows come back as ``sqlite3.Row``.

    Two processes opening a new file at once can get ``database is locked`` at once, without
    SQLite's busy timeout (switching a new file to WAL needs an exclusive lock, and SQLite refuses
    rather than deadlocks); that case is retried for up to :data:`LOCK_RETRY_SECONDS`. Any other
    failure raises ``schema.error`` with one sentence.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    while True:
        try:
            return _open(path, schema)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.05 + 0.1 * random.random())
                continue
            raise schema.unusable(path, exc) from None
        except sqlite3.DatabaseError as exc:
            raise schema.unusable(path, exc) from None


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``): committed if the block succeeds, else rolled
    back."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
