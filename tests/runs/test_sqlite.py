"""The SQLite skeleton shared by the run index and the bench results store."""

from __future__ import annotations

import json
import math
import re
import sqlite3

import pytest

from attractor.bench.store import SCHEMA as STORE_SCHEMA
from attractor.bench.store import Store, StoreError
from attractor.errors import RunError
from attractor.runs import sqlite as db
from attractor.runs.index import INDEX_FILE, list_runs, record_end, record_start

SCHEMA = db.Schema(
    ddl="""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, payload TEXT);
""",
    tables=frozenset({"meta", "items"}),
    meta={"application": "toy", "schema_version": "3"},
    what="toy database",
)


def test_connect_creates_the_schema_in_wal_mode_and_stamps_meta(tmp_path):
    path = tmp_path / "sub" / "toy.sqlite"
    con = db.connect(path, SCHEMA)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert dict(con.execute("SELECT key, value FROM meta").fetchall()) == {
            "application": "toy",
            "schema_version": "3",
        }
        row = con.execute("SELECT COUNT(*) AS n FROM items").fetchone()
        assert row["n"] == 0  # rows come back as sqlite3.Row
    finally:
        con.close()
    db.connect(path, SCHEMA).close()  # opening again keeps what is there


def test_transaction_commits_or_rolls_back(tmp_path):
    con = db.connect(tmp_path / "t.sqlite", SCHEMA)
    with db.transaction(con):
        con.execute("INSERT INTO items (payload) VALUES ('kept')")
    with pytest.raises(ValueError), db.transaction(con):
        con.execute("INSERT INTO items (payload) VALUES ('dropped')")
        raise ValueError("boom")
    assert [r[0] for r in con.execute("SELECT payload FROM items")] == ["kept"]
    con.close()


@pytest.mark.parametrize(("schema", "error"), [(SCHEMA, RunError), (STORE_SCHEMA, StoreError)])
def test_a_foreign_file_is_refused_and_left_untouched(tmp_path, schema, error):
    path = tmp_path / "f.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE people (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(error, match="did not write"):
        db.connect(path, schema)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.sqlite"]


def test_a_file_that_is_not_sqlite_gives_one_sentence(tmp_path):
    path = tmp_path / "g.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(RunError, match=r"is not a usable toy database \(.*\); move it away\."):
        db.connect(path, SCHEMA)


def test_json_columns_round_trip_non_finite_floats_and_read_plain_json():
    value = {"b": [1.5, math.inf, -math.inf], "a": math.nan, "s": "λ"}
    text = db.encode(value)
    assert text == json.dumps(
        {"a": "nan", "b": [1.5, "inf", "-inf"], "s": "λ"}, sort_keys=True
    )  # strict JSON, sorted keys, ASCII: what bench.sqlite always held
    back = db.decode(text)
    assert math.isnan(back.pop("a")) and back == {"b": [1.5, math.inf, -math.inf], "s": "λ"}
    assert db.decode('{"x": NaN, "y": Infinity}')["y"] == math.inf  # run indexes before v2
    assert db.decode(None) is None and db.decode("", {}) == {}


def test_now_is_utc_iso_to_the_second():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", db.now())


def test_a_run_index_written_before_the_skeleton_still_reads(tmp_path):
    """The old index wrote config/metrics with json.dumps (NaN literals, unsorted keys)."""
    from attractor.runs.index import SCHEMA as INDEX_SCHEMA

    path = tmp_path / INDEX_FILE
    with sqlite3.connect(path) as con:
        con.executescript(INDEX_SCHEMA.ddl)
        con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        con.execute(
            "INSERT INTO runs (name, created, status, config, metrics) VALUES (?, ?, ?, ?, ?)",
            (
                "old",
                "2024-01-01T00:00:00+00:00",
                "done",
                json.dumps({"seed": 3}),
                json.dumps({"D_stsp": math.nan, "D_H": 0.25}),
            ),
        )
    run_id = record_start(tmp_path, "new", {"seed": 4, "model": {"kind": "shplrnn"}})
    record_end(tmp_path, run_id, "done", metrics={"D_stsp": math.inf})
    new, old = list_runs(tmp_path)
    assert old["name"] == "old" and old["config"] == {"seed": 3}
    assert math.isnan(old["metrics"]["D_stsp"]) and old["metrics"]["D_H"] == 0.25
    assert new["model"] == "shplrnn" and new["metrics"] == {"D_stsp": math.inf}
    assert new["status"] == "done" and new["finished"] >= new["created"]


def test_the_store_and_the_index_share_the_skeleton(tmp_path):
    with Store(tmp_path / "b.sqlite") as s:
        meta = dict(s.con.execute("SELECT key, value FROM meta").fetchall())
        assert s.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert meta == {"application": "attractor-bench", "schema_version": "1"}
