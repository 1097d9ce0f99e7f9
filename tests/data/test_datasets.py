"""Shipped real data: the ECG record, its provenance and checksum, and its delay embedding."""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pytest

from attractor.data.embedding import embed
from attractor.data.real import dataset_info, list_datasets, load_dataset
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
    folder = resources.files("attractor.data.datasets")
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
