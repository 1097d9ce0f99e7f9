"""Benchmark spec, results store and leaderboard: validation, one-row-per-job, known values."""

from __future__ import annotations

import math
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.bench.leaderboard import METRIC_BY_KEY, leaderboard, to_csv, winners
from attractor.bench.spec import Settings, load_spec, make_spec
from attractor.bench.store import Store, StoreError, check_store
from attractor.bench.suites import QUICK, suite
from attractor.data.systems import list_systems
from attractor.errors import ConfigError, UnknownNameError


def test_suites():
    assert len(QUICK) == 10 and set(QUICK) <= set(list_systems())
    assert suite("all") == list_systems() and len(suite("all")) == 135
    with pytest.raises(UnknownNameError, match="unknown suite"):
        suite("quik")


def test_spec_resolves_names_and_hash_ignores_what_runs():
    a = make_spec("lorenz63,rossler", models="SHPLRNN,esn", seeds="0,1", epochs=5)
    assert a.systems == ("Lorenz", "Rossler") and a.models == ("shplrnn", "esn")
    assert len(a.jobs()) == 8
    b = make_spec("Thomas", models="esn", seeds=[3], epochs=5)
    assert a.spec_hash == b.spec_hash  # growing a sweep keeps the job keys
    assert make_spec("Thomas", models="esn", epochs=6).spec_hash != b.spec_hash


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"systems": None, "models": "esn"}, "no systems"),
        ({"systems": "Lorenz", "models": ""}, "no models"),
        ({"systems": "Lorenz", "models": "esn", "seeds": []}, "no seeds"),
        ({"systems": "Lorenz", "models": "esn", "seeds": "-1"}, "non-negative"),
        ({"systems": "Lorenz", "models": "esn", "protocol": "forcast"}, "unknown protocol"),
        ({"systems": "Lorenz", "models": "esn", "budget_seconds": -1.0}, "positive"),
        ({"systems": "Lorenz", "models": "esn", "colour": 1}, "unknown benchmark setting"),
    ],
)
def test_spec_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_spec(**kwargs)


def test_unknown_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'Lorenz'"):
        make_spec("Lorenzz", models="esn")
    with pytest.raises(UnknownNameError, match="unknown model"):
        make_spec("Lorenz", models="esnn")


def test_toml(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('suite = "quick"\nmodels = ["esn", "sindy"]\nseeds = [0, 2]\nepochs = 3\n')
    spec = load_spec(p, models="esn")
    assert spec.systems == QUICK and spec.models == ("esn",) and spec.seeds == (0, 2)
    assert spec.settings.epochs == 3
    p.write_text('models = ["esn"')
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_spec(p)
    with pytest.raises(ConfigError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")


def _result(status="done", **metrics):
    return {"status": status, "metrics": metrics, "timings": {"total_s": 1.0}, "error": None}


def test_store_records_each_job_once(tmp_path):
    spec = make_spec("Lorenz,Rossler", models="esn", seeds="0")
    path = tmp_path / "b.sqlite"
    with Store(path) as s:
        assert s.register(spec.jobs())["pending"] == 2
        j = spec.jobs()[0]
        s.mark_running(j)
        s.record(j, _result(D_stsp=math.inf, D_H=0.5))
        assert s.register(spec.jobs())["done"] == 1  # registering again adds nothing
        rows = s.rows()
    assert len(rows) == 2
    assert rows[0]["metrics"]["D_stsp"] == math.inf and rows[0]["attempts"] == 1
    with sqlite3.connect(path) as con:
        with pytest.raises(sqlite3.IntegrityError):
            con.execute(
                "INSERT INTO jobs (spec_hash, system, model, seed, status, created) "
                "VALUES (?, ?, ?, ?, 'pending', 'now')",
                spec.jobs()[0].key,
            )


def test_store_refuses_foreign_and_corrupt_files(tmp_path):
    garbage = tmp_path / "g.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a usable results store"):
        check_store(garbage)
    foreign = tmp_path / "f.sqlite"
    with sqlite3.connect(foreign) as con:
        con.execute("CREATE TABLE people (name TEXT)")
    before = foreign.read_bytes()
    with pytest.raises(StoreError, match="did not write"):
        Store(foreign)
    assert foreign.read_bytes() == before
    good = tmp_path / "ok.sqlite"
    Store(good).close()
    data = bytearray(good.read_bytes())
    data[100:400] = b"\xff" * 300  # clobber the schema page behind the header
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        check_store(bad)


def _rows(table):
    """Fake store rows from ``{(model, system, seed): D_stsp or None for failed}``."""
    out = []
    for (model, system, seed), v in table.items():
        status = "failed" if v is None else "done"
        out.append(
            {
                "model": model,
                "system": system,
                "seed": seed,
                "status": status,
                "metrics": {} if v is None else {"D_stsp": v},
                "timings": {},
                "error": None,
                "spec_hash": "h",
                "attempts": 1,
            }
        )
    return out


def test_leaderboard_known_values():
    rows = _rows(
        {
            ("a", "S1", 0): 1.0,
            ("a", "S1", 1): 3.0,
            ("a", "S2", 0): 5.0,
            ("a", "S3", 0): 7.0,
            ("b", "S1", 0): 0.5,
            ("b", "S2", 0): None,
            ("b", "S3", 0): 0.1,
        }
    )
    board = leaderboard(rows, METRIC_BY_KEY["D_stsp"])
    a = next(e for e in board if e["model"] == "a")
    b = next(e for e in board if e["model"] == "b")
    assert a["median"] == 5.0 and a["q25"] == 2.0 and a["q75"] == 7.0  # S1 = median(1, 3) = 2
    assert b["median"] == 0.5 and b["q75"] == math.inf and b["failed"] == 1
    assert [e["model"] for e in board] == ["b", "a"]
    assert winners(rows, METRIC_BY_KEY["D_stsp"]) == {"S1": "b", "S2": "a", "S3": "b"}
    assert to_csv(rows).splitlines()[0].startswith("system,model,seed,status")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=9), st.integers(0, 8))
def test_leaderboard_median_is_a_system_value(values, n_failed):
    """The median lies among the per-system values; failures can only make it worse."""
    table = {("m", f"S{i}", 0): v for i, v in enumerate(values)}
    ok = leaderboard(_rows(table), METRIC_BY_KEY["D_stsp"])[0]
    assert ok["median"] in values
    table.update({("m", f"F{i}", 0): None for i in range(n_failed)})
    worse = leaderboard(_rows(table), METRIC_BY_KEY["D_stsp"])[0]
    assert worse["median"] >= ok["median"] and worse["failed"] == n_failed


def test_settings_check_preset():
    with pytest.raises(ConfigError, match="unknown preset"):
        Settings(preset="huge").check()
