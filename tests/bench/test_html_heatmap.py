"""The report's front-page overview: models × systems heatmaps with each system's data floor."""

from __future__ import annotations

import math
import re
import sqlite3

import pytest

from attractor.bench.floor import data_floor, floor_key
from attractor.bench.html import GREY, heat_colour, write_html
from attractor.bench.spec import make_spec
from attractor.bench.store import Store, dumps

#: ``{(system, model): [(D_stsp, D_H) per seed] or None for a failed job}``.
VALUES = {
    ("Lorenz", "esn"): [(0.1, 0.05), (0.3, 0.07)],  # median 0.2, 0.06
    ("Lorenz", "sindy"): [(8.0, 0.6)],
    ("Rossler", "esn"): [(3.0, 0.4)],
    ("Rossler", "sindy"): [(0.4, 0.03)],
    ("Thomas", "esn"): [(0.3, 0.1)],
    ("Thomas", "sindy"): None,
}
N_TRAIN = 1000  # test length max(1000, n_train // 2) = 1000: the floors' length


def _result(status="done", **metrics):
    return {"status": status, "metrics": metrics, "timings": {"total_s": 1.0}, "error": None}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("heat") / "b.sqlite"
    spec = make_spec("Lorenz,Rossler,Thomas", models="esn,sindy", seeds="0,1", n_train=N_TRAIN)
    with Store(path) as st:
        st.register(spec.jobs())
        for job in spec.jobs():
            vals = VALUES[(job.system, job.model)]
            if vals is None:
                st.record(job, {**_result("failed"), "error": "diverged"})
            elif job.seed < len(vals):
                d_stsp, d_h = vals[job.seed]
                st.record(job, _result(D_stsp=d_stsp, D_H=d_h))
    return path


def _tables(text):
    """``[[[cell html, ...] per row] per heatmap]`` of a page."""
    out = []
    for table in re.findall(r"<table class='heatmap'>(.*?)</table>", text, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
        out.append([re.findall(r"<t[dh][^>]*>.*?</t[dh]>", r, re.S) for r in rows])
    return out


def _colour(cell):
    return re.search(r"background:(#[0-9a-f]{6})", cell).group(1)


def _text(cell):
    return re.sub(r"<[^>]+>", "", cell)


def test_heat_colour_scale():
    green, red = heat_colour(0.3, 0.05, 20, 0.5), heat_colour(15.0, 0.05, 20, 0.5)
    r, g = int(green[1:3], 16), int(green[3:5], 16)
    assert g > r  # ≤ 0.5: green
    r, g = int(red[1:3], 16), int(red[3:5], 16)
    assert r > g  # ≫ 0.5: red
    assert heat_colour(0.5, 0.05, 20, 0.5) != heat_colour(0.51, 0.05, 20, 0.5)  # threshold shows
    assert heat_colour(100.0, 0.05, 20, 0.5) == heat_colour(20.0, 0.05, 20, 0.5)  # clipped
    for v in (None, math.inf, math.nan):
        assert heat_colour(v, 0.05, 20, 0.5) == GREY


def test_report_front_page(store, tmp_path):
    with Store(store) as st:
        index = write_html(st, st.rows(), tmp_path / "report")
    text = index.read_text()
    assert text.index("<table class='heatmap'>") < text.index("<h2>Leaderboard per metric</h2>")
    assert "threshold for a faithful reconstruction" in text
    d_stsp, d_h = _tables(text)
    head = [_text(c) for c in d_stsp[0]]
    assert head == ["system", "floor", "esn", "sindy"]
    assert [_text(r[0]) for r in d_stsp[1:]] == ["Lorenz", "Rossler", "Thomas"]
    for r in d_stsp[1:]:
        name = _text(r[0])
        assert f"<a href='systems/{name}.html'>" in r[0]
        assert (tmp_path / "report" / "systems" / f"{name}.html").exists()
    lorenz, rossler, thomas = d_stsp[1:]
    assert _text(lorenz[2]) == "0.2" and "<b>" in lorenz[2]  # median of the seeds, best
    assert _text(lorenz[3]) == "8" and "<b>" not in lorenz[3]
    assert _colour(lorenz[2]) != _colour(lorenz[3])
    assert "<b>" in rossler[3] and "<b>" not in rossler[2]
    assert _text(thomas[3]) == "∞" and _colour(thomas[3]) == GREY
    assert _text(d_h[1][2]) == "0.06" and "<b>" in d_h[1][2]
    # the floor column: D between two clean trajectories at the test length
    floor = data_floor("Lorenz", N_TRAIN)
    assert float(_text(lorenz[1])) == pytest.approx(floor["D_stsp"], rel=1e-2)
    assert float(_text(d_h[1][1])) == pytest.approx(floor["D_H"], rel=1e-2)
    summary = re.search(r"<p class='summary'>Median D_stsp.*?</p>", text, re.S).group(0)
    assert "<b>esn</b> 0.3 (2/3 = 67 % ≤ 0.5)" in summary
    assert "<b>sindy</b> 8 (1/3 = 33 % ≤ 0.5)" in summary


def test_floor_is_cached_in_the_store(store, tmp_path):
    key = floor_key("Lorenz", N_TRAIN)
    with Store(store) as st:
        write_html(st, st.rows(), tmp_path / "a")
        row = st.con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    assert row is not None and '"D_stsp"' in row[0]
    # a later report reads the cached value instead of integrating again
    with sqlite3.connect(store) as con:
        con.execute(
            "UPDATE meta SET value=? WHERE key=?", (dumps({"D_stsp": 0.0123, "D_H": 0.0}), key)
        )
    with Store(store) as st:
        text = write_html(st, st.rows(), tmp_path / "b").read_text()
    assert _text(_tables(text)[0][1][1]) == "0.0123"


def test_data_floor_of_lorenz():
    short = data_floor("Lorenz", 5000)
    assert set(short) == {"D_stsp", "D_H"}
    assert all(math.isfinite(v) and v >= 0 for v in short.values())
    assert short["D_stsp"] > 0 and short["D_H"] < 0.2
    assert data_floor("Lorenz", 5000) == short  # deterministic (and from the disk cache)
    long = data_floor("Lorenz", 20_000)
    # the floor falls with the length; at 20,000 samples a perfect model is faithful
    assert long["D_stsp"] < min(0.5, short["D_stsp"])


def test_unknown_system_gets_no_floor_and_the_report_still_renders(tmp_path):
    spec = make_spec("Lorenz", models="esn", seeds="0", n_train=N_TRAIN)
    path = tmp_path / "b.sqlite"
    with Store(path) as st:
        st.register(spec.jobs())
        with st.transaction() as c:  # a system this version does not know
            c.execute(
                "INSERT INTO jobs (spec_hash, system, model, seed, status, metrics, created) "
                "VALUES (?, 'Nosuch', 'esn', 0, 'done', ?, 'now')",
                (spec.spec_hash, dumps({"D_stsp": 0.7, "D_H": 0.2})),
            )
        rows = [r for r in st.rows() if r["system"] == "Nosuch"]
        text = write_html(st, rows, tmp_path / "report").read_text()
        keys = [r[0] for r in st.con.execute("SELECT key FROM meta WHERE key LIKE 'floor:%'")]
    row = _tables(text)[0][1]
    assert _text(row[0]) == "Nosuch" and _text(row[1]) == "–" and _text(row[2]) == "0.7"
    assert keys == []  # a failure is not cached
