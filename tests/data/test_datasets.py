"""Shipped real data: the ECG record, its provenance and checksum, and its delay embedding."""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pytest

from attractor.data.datasets import dataset_info, list_datasets, load_dataset
from attractor.data.embedding import embed
from attractor.errors import UnknownNameError

ECG_SHA256 = "f20ad3365fb9b7f845d0e5c48b6fe67081377ee466c3a220b7f69f35c8958baf"


@pytest.fixture(scope="module")
def ecg():
    return load_dataset("ecg")


def test_list_and_info():
    assert "ecg" in list_datasets()
    info = dataset_info("ecg")
    assert info["sha256"] == ECG_SHA256
    assert info["n_samples"] == 108_000 and info["units"] == ["mV"]
    assert any("Moody" in c for c in info["citation"])
    assert "ODC-By" in info["license"]


def test_packaged_file_and_source_note_are_there():
    folder = resources.files("attractor.data.datasets").joinpath("ecg")
    raw = folder.joinpath("ecg208.npz").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == ECG_SHA256
    note = folder.joinpath("SOURCE.md").read_text(encoding="utf-8")
    assert ECG_SHA256 in note and "record 208" in note


def test_ecg_matches_scipy_documented_values(ecg):
    assert ecg.values.shape == (108_000, 1)
    assert ecg.dt == pytest.approx(1 / 360)
    assert ecg.units == ("mV",) and ecg.source == "MIT-BIH record 208 via scipy.misc"
    x = ecg.values[:, 0]
    # scipy.misc.electrocardiogram() docstring (SciPy 1.14.1)
    np.testing.assert_allclose(x[:3], [-0.245, -0.215, -0.185])
    np.testing.assert_allclose(x[-3:], [-0.405, -0.395, -0.385])
    assert x.mean() == pytest.approx(-0.16510875, abs=1e-8)
    assert x.std() == pytest.approx(0.5992473991177294, rel=1e-10)
    assert x.min() == pytest.approx(-3.485) and x.max() == pytest.approx(3.65)
    assert ecg.meta["dataset"]["sha256"] == ECG_SHA256


def test_unknown_dataset_suggests_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'ecg'"):
        load_dataset("ekg")
    with pytest.raises(UnknownNameError, match="no dataset named 'sunspots'"):
        dataset_info("sunspots")


def test_ecg_embedding_choice(ecg):
    e = embed(ecg)
    info = e.meta["embedding"]
    lag, dim = info["lag"], info["dim"]
    # recorded choice: lag 166 samples (0.46 s, the first significant MI minimum), dim 6 (fewest
    # false neighbours; none below 1 % for this noisy, quantised record). GTF used 5 dimensions.
    assert (lag, dim) == (166, 6)
    assert 4 <= dim <= 7 and 0.05 <= info["lag_time"] <= 0.6
    assert e.values.shape == (108_000 - (dim - 1) * lag, dim)
    assert e.names[:2] == ("ecg(t)", "ecg(t-τ)") and e.dt == ecg.dt


# ------------------------------------------------------------------------------ folders
def _toy_folder(root, name="toy", **changes):
    """A dataset folder: a two-channel CSV of integer counts plus its meta.json."""
    import json

    folder = root / name
    folder.mkdir(parents=True)
    counts = np.arange(40, dtype=float).reshape(20, 2)
    np.savetxt(folder / "counts.csv", counts, delimiter=",", header="a,b", comments="", fmt="%d")
    meta = {
        "description": "a toy",
        "file": "counts.csv",
        "sha256": hashlib.sha256((folder / "counts.csv").read_bytes()).hexdigest(),
        "decode": {"zero": 10, "gain": 2.0},
        "dt": 0.5,
        "dt_unit": "s",
        "n_samples": 20,
        "names": ["a", "b"],
        "units": ["mV", "mV"],
        "source": "made up",
        "license": "CC0",
        "lag": 2,
        "dim": 3,
        **changes,
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder, counts


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    from attractor.data import datasets

    monkeypatch.setattr(datasets, "_root", lambda: tmp_path)
    return tmp_path


def test_the_shipped_folder_holds_data_meta_and_source():
    import json

    folder = resources.files("attractor.data.datasets").joinpath("ecg")
    meta = json.loads(folder.joinpath("meta.json").read_text(encoding="utf-8"))
    assert meta["sha256"] == ECG_SHA256 and meta["file"] == "ecg208.npz"
    assert (meta["highpass"], meta["downsample"], meta["lag"], meta["dim"]) == (0.5, 3, 18, 8)
    assert meta["d_stsp_method"] == "gmm" and meta["dt"] == 1 / 360
    assert dataset_info("ecg") == {"name": "ecg", **meta}


def test_adding_a_dataset_is_adding_a_folder(data_root):
    _, counts = _toy_folder(data_root)
    (data_root / "notes").mkdir()  # a folder without meta.json is not a dataset
    assert list_datasets() == ["toy"]
    ts = load_dataset("Toy")
    np.testing.assert_array_equal(ts.values, (counts - 10) / 2.0)
    assert ts.dt == 0.5 and ts.names == ("a", "b") and ts.units == ("mV", "mV")
    assert ts.meta["dataset"]["license"] == "CC0" and dataset_info("toy")["lag"] == 2


def test_a_damaged_data_file_is_reported(data_root):
    from attractor.errors import FileFormatError

    folder, _ = _toy_folder(data_root)
    (folder / "counts.csv").write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(FileFormatError, match="'toy' is damaged"):
        load_dataset("toy")
    (folder / "counts.csv").unlink()
    with pytest.raises(FileFormatError, match="missing"):
        load_dataset("toy")


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"dt": -1}, "positive number"),
        ({"sha256": None, "colour": "red"}, "unknown keys"),
        ({"units": ["mV"]}, "one unit per channel"),
        ({"decode": {"offset": 1}}, "decode must be"),
    ],
)
def test_a_bad_meta_json_is_reported(data_root, changes, match):
    from attractor.errors import FileFormatError

    _toy_folder(data_root, **changes)
    with pytest.raises(FileFormatError, match=match):
        list_datasets()


def test_meta_json_must_agree_with_the_data(data_root):
    from attractor.errors import FileFormatError

    _toy_folder(data_root, n_samples=21)
    with pytest.raises(FileFormatError, match="says 2 and 21"):
        load_dataset("toy")
