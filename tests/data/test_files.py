"""read_series / write_series: every supported kind, round trips, and one clear error per defect."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest

from attractor.data.files import read_series, write_series
from attractor.data.series import TimeSeries
from attractor.errors import DataError, FileFormatError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def xy() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.standard_normal((50, 2))


# ---------------------------------------------------------------------------- text
def test_csv_with_time_column_gives_dt_names_units_and_meta(tmp_path):
    rows = "\n".join(f"{0.1 * k:.1f},{k},{k * k}" for k in range(20))
    p = _write(tmp_path / "d.csv", "time (s),x [mV],y\n" + rows + "\n")
    s = read_series(p)
    assert s.values.shape == (20, 2)
    assert s.dt == pytest.approx(0.1)
    assert s.names == ("x", "y")
    assert s.units == ("mV", "")
    assert s.source == str(p)
    assert s.meta["file"]["kind"] == "csv"
    assert s.meta["file"]["time_column"] == "time"
    assert s.meta["file"]["time_unit"] == "s"
    np.testing.assert_array_equal(s.values[:, 1], np.arange(20) ** 2)


def test_headerless_csv_uses_dt_argument_or_one(tmp_path):
    p = _write(tmp_path / "d.csv", "1,2\n3,4\n5,7\n")
    s = read_series(p)
    assert s.dt == 1.0 and s.names == ("x0", "x1")
    assert "default" in s.meta["file"]["dt_from"]
    assert read_series(p, dt=0.5).dt == 0.5
    # without a header no column is taken as time automatically, but one can be named
    s0 = read_series(p, time_column=0)
    assert s0.dt == 2.0 and s0.values.shape == (3, 1)


def test_tsv_txt_comments_and_savetxt_header(tmp_path, xy):
    t = 0.01 * np.arange(len(xy))
    table = np.column_stack([t, xy])
    np.savetxt(tmp_path / "a.txt", table, header="t x y")
    np.savetxt(tmp_path / "b.tsv", table, delimiter="\t", header="t\tx\ty", comments="")
    for name in ("a.txt", "b.tsv"):
        s = read_series(tmp_path / name)
        assert s.names == ("x", "y") and s.dt == pytest.approx(0.01)
        np.testing.assert_allclose(s.values, xy)


def test_semicolon_csv_and_trailing_delimiter(tmp_path):
    s = read_series(_write(tmp_path / "d.csv", "a;b;\n1;2;\n3;4;\n"))
    assert s.names == ("a", "b")
    np.testing.assert_array_equal(s.values, [[1, 2], [3, 4]])


def test_trial_column_splits_trajectories(tmp_path):
    text = "t,trial,x\n0,0,1\n1,0,2\n2,0,3\n0,1,5\n1,1,6\n"
    s = read_series(_write(tmp_path / "d.csv", text))
    assert s.n_trials == 2 and s.lengths == [3, 2] and s.names == ("x",)
    assert s.meta["file"]["trial_column"] == "trial"
    np.testing.assert_array_equal(s.trials[1][:, 0], [5, 6])


def test_columns_selects_channels(tmp_path):
    p = _write(tmp_path / "d.csv", "t,a,b,c\n0,1,2,3\n1,4,5,6\n")
    assert read_series(p, columns=["c", "a"]).names == ("c", "a")
    assert read_series(p, columns=1).names == ("b",)
    with pytest.raises(DataError, match="no column 'd'"):
        read_series(p, columns=["d"])
    with pytest.raises(DataError, match="time stamps"):
        read_series(p, columns=["t"])
    assert read_series(p, time_column=None, columns=["t"]).names == ("t",)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("t,x\n0,1\n0.1,2\n0.5,3\n", "not evenly spaced"),
        ("t,x\n0,1\n0.1,2\n0.1,3\n", "do not increase at line 4"),
        ("x,y\n1,2\n3\n", r"line 3 has 1 value\(s\)"),
        ("x,y\n1,2\n3,abc\n", r"line 3, column 2 \('y'\) holds 'abc'"),
        ("x,y\n1,2\n3,\n", r"line 3, column 2 \('y'\) is empty"),
        ("x,y\n1,2\n3,nan\n", r"line 3, column 2 \('y'\) is 'nan'"),
        ("x,y\n1,inf\n3,4\n", "not a finite number"),
        ("x,y\n", "header but no data rows"),
        ("# just a comment\n\n", "has no data"),
        ("t,trial,x\n0,0.5,1\n1,0,2\n", "whole-number trial labels"),
    ],
)
def test_bad_text_files_name_the_file_and_the_place(tmp_path, text, match):
    p = _write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError, match=match) as info:
        read_series(p)
    assert str(p) in str(info.value)


def test_dt_argument_must_agree_with_time_column(tmp_path):
    p = _write(tmp_path / "d.csv", "t,x\n0,1\n0.1,2\n0.2,4\n")
    assert read_series(p, dt=0.1).dt == pytest.approx(0.1)
    with pytest.raises(DataError, match=r"dt = 0\.5 was passed"):
        read_series(p, dt=0.5)
    assert read_series(p, dt=0.5, time_column=None).dt == 0.5


def test_non_utf8_text_is_refused(tmp_path):
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(FileFormatError, match="not a UTF-8 text file"):
        read_series(tmp_path / "bin.csv")


# ---------------------------------------------------------------------------- paths
def test_path_problems(tmp_path):
    (tmp_path / "data.csv").write_text("1\n2\n")
    with pytest.raises(FileFormatError, match=r"no such file.*'data\.csv'"):
        read_series(tmp_path / "dta.csv")
    with pytest.raises(FileFormatError, match="is a directory"):
        read_series(tmp_path)
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(FileFormatError, match=r"'\.xlsx', which attractor cannot read"):
        read_series(tmp_path / "d.xlsx")
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(FileFormatError, match="is empty"):
        read_series(tmp_path / "empty.npy")
    with pytest.raises(FileFormatError, match="key= applies"):
        read_series(tmp_path / "data.csv", key="x")


# ---------------------------------------------------------------------------- arrays
def test_npy_shapes(tmp_path, xy):
    np.save(tmp_path / "a.npy", xy[:, 0])
    np.save(tmp_path / "b.npy", xy)
    np.save(tmp_path / "c.npy", np.stack([xy, xy + 1, xy + 2]))
    assert read_series(tmp_path / "a.npy").values.shape == (50, 1)
    s = read_series(tmp_path / "b.npy", dt=0.2)
    assert s.values.shape == (50, 2) and s.dt == 0.2 and s.meta["file"]["kind"] == "npy"
    c = read_series(tmp_path / "c.npy")
    assert c.n_trials == 3 and c.lengths == [50, 50, 50]
    np.testing.assert_array_equal(c.trials[2], xy + 2)


def test_npy_structured_array_gives_named_channels(tmp_path):
    rec = np.zeros(10, dtype=[("u", "f8"), ("v", "i4")])
    rec["u"] = np.arange(10)
    np.save(tmp_path / "r.npy", rec)
    assert read_series(tmp_path / "r.npy").names == ("u", "v")


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.float64(3.0), "single number"),
        (np.zeros((2, 2, 2, 2)), "4 dimensions"),
        (np.array(["a", "b"]), "holds text"),
        (np.array([1 + 1j, 2]), "complex"),
        (np.zeros((0, 3)), "is empty"),
        (np.array([[1.0, np.nan], [2.0, 3.0]]), "non-finite"),
    ],
)
def test_bad_npy_arrays(tmp_path, array, match):
    p = tmp_path / "bad.npy"
    np.save(p, array)
    with pytest.raises(DataError, match=match) as info:
        read_series(p)
    assert str(p) in str(info.value)


def test_pickles_are_never_loaded(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(FileFormatError, match="never loads"):
        read_series(tmp_path / "obj.npy")
    with open(tmp_path / "raw.npy", "wb") as f:
        pickle.dump([1.0, 2.0], f)
    with pytest.raises(FileFormatError, match="never loads"):
        read_series(tmp_path / "raw.npy")
    np.savez(tmp_path / "obj.npz", x=np.array([object()], dtype=object))
    with pytest.raises(FileFormatError, match="'x' holds Python objects"):
        read_series(tmp_path / "obj.npz")


def test_not_really_npy_or_npz(tmp_path):
    (tmp_path / "t.npy").write_text("1,2,3\n")
    with pytest.raises(FileFormatError, match=r"not a valid \.npy"):
        read_series(tmp_path / "t.npy")
    (tmp_path / "t.npz").write_text("1,2,3\n")
    with pytest.raises(FileFormatError, match=r"not a valid \.npz"):
        read_series(tmp_path / "t.npz")
    (tmp_path / "t.h5").write_text("1,2,3\n")
    with pytest.raises(FileFormatError, match="not a valid HDF5"):
        read_series(tmp_path / "t.h5")


def test_npz_members_time_dt_names_and_trials(tmp_path, xy):
    t = 0.05 * np.arange(50)
    np.savez(tmp_path / "one.npz", t=t, values=xy, names=np.array(["a", "b"]))
    s = read_series(tmp_path / "one.npz")
    assert s.dt == pytest.approx(0.05) and s.names == ("a", "b")
    assert s.meta["file"]["time_column"] == "t"
    np.savez(tmp_path / "many.npz", trial_10=xy[:5], trial_2=xy[5:20], dt=0.3)
    m = read_series(tmp_path / "many.npz")
    assert m.lengths == [15, 5] and m.dt == pytest.approx(0.3)  # natural order: 2 before 10
    assert read_series(tmp_path / "many.npz", key="trial_10").lengths == [5]
    with pytest.raises(
        FileFormatError, match="no array 'trial_3'; it has 'dt', 'trial_2', 'trial_10'"
    ):
        read_series(tmp_path / "many.npz", key="trial_3")


def test_npz_errors(tmp_path, xy):
    np.savez(tmp_path / "empty.npz")
    with pytest.raises(FileFormatError, match="contains no arrays"):
        read_series(tmp_path / "empty.npz")
    np.savez(tmp_path / "mixed.npz", a=xy, b=xy[:, :1])
    with pytest.raises(DataError, match="different numbers of channels"):
        read_series(tmp_path / "mixed.npz")
    np.savez(tmp_path / "meta_only.npz", dt=0.1)
    with pytest.raises(FileFormatError, match="no data arrays"):
        read_series(tmp_path / "meta_only.npz")
    np.savez(tmp_path / "text.npz", labels=np.array(["a", "b"]))
    with pytest.raises(DataError, match="holds text"):
        read_series(tmp_path / "text.npz")


def test_hdf5_datasets_groups_and_attributes(tmp_path, xy):
    p = tmp_path / "d.h5"
    with h5py.File(p, "w") as f:
        f.attrs["dt"] = 0.25
        g = f.create_group("runs")
        g.create_dataset("a", data=xy)
        g.create_dataset("b", data=xy[:30])
    s = read_series(p)
    assert s.lengths == [50, 30] and s.dt == 0.25 and s.meta["file"]["kind"] == "hdf5"
    assert read_series(p, key="runs/b").lengths == [30]
    with pytest.raises(FileFormatError, match="no array 'runs/c'"):
        read_series(p, key="runs/c")
    with h5py.File(tmp_path / "none.h5", "w") as f:
        f.create_group("empty")
    with pytest.raises(FileFormatError, match="contains no datasets"):
        read_series(tmp_path / "none.h5")


# ---------------------------------------------------------------------------- writing
@pytest.mark.parametrize("ext", [".csv", ".tsv", ".txt", ".npz", ".h5"])
def test_round_trip_keeps_values_names_and_dt(tmp_path, xy, ext):
    s = TimeSeries(xy, dt=0.02, names=["x(t)", "x(t-τ)"], units=["mV", ""])
    p = write_series(tmp_path / f"out{ext}", s)
    back = read_series(p)
    np.testing.assert_array_equal(back.values, xy)  # full precision
    assert back.dt == pytest.approx(0.02)
    assert back.names == ("x(t)", "x(t-τ)")
    assert back.units == ("mV", "")


@pytest.mark.parametrize("ext", [".csv", ".npz", ".h5", ".npy"])
def test_round_trip_several_trials(tmp_path, xy, ext):
    s = TimeSeries([xy[:20], xy[20:40]], dt=0.5)
    back = read_series(write_series(tmp_path / f"o{ext}", s))
    assert back.lengths == [20, 20]
    np.testing.assert_array_equal(back.trials[1], xy[20:40])


def test_write_array_is_atomic_and_creates_directories(tmp_path, xy):
    p = write_series(tmp_path / "new" / "dir" / "a.npy", xy)
    np.testing.assert_array_equal(np.load(p), xy)
    mask = os.umask(0)
    os.umask(mask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600
    assert [q.name for q in p.parent.iterdir()] == ["a.npy"]  # no temporary left behind
    with pytest.raises(DataError, match="different lengths"):
        write_series(tmp_path / "b.npy", [xy[:10], xy[:20]])
    assert not any(q.name.startswith(".b.npy") for q in tmp_path.iterdir())
    with pytest.raises(FileFormatError, match="cannot write"):
        write_series(tmp_path / "c.xlsx", xy)
