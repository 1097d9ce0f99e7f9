"""Drift removal and downsampling before reconstruction (attractor.data.filters)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from attractor.cli import app
from attractor.data.filters import Preprocess, downsample, highpass, preprocess
from attractor.data.pipeline import prepare_data
from attractor.data.series import TimeSeries
from attractor.errors import DataError

FS = 100.0  # samples per time unit
T = np.arange(20_000) / FS


def _series(*columns: np.ndarray) -> TimeSeries:
    return TimeSeries(np.column_stack(columns), dt=1 / FS)


def test_highpass_removes_slow_drift_and_keeps_fast_oscillation_in_phase():
    slow, fast = np.sin(2 * np.pi * 0.05 * T), np.sin(2 * np.pi * 5.0 * T)
    y = highpass(_series(3 * slow + fast), cutoff=1.0).values[:, 0]
    fast = fast[100:-100]  # one cutoff period (100 samples) dropped at each end
    assert len(y) == len(fast)
    inner = slice(2_000, -2_000)
    # |H(f)|² of a 2nd-order Butterworth run forward and backward: 0.05 Hz → 6e-6, 5 Hz → 0.998
    assert np.abs(y[inner] - fast[inner]).max() < 0.01
    assert np.corrcoef(y[inner], fast[inner])[0, 1] > 0.9999  # zero phase: no shift


def test_highpass_drops_the_edges_where_the_filter_guesses():
    # offset, linear drift, and a fast sine that is far from 0 at the last sample: filtering
    # the whole trial would pull the end towards 0 (error ≈ 0.31 there)
    x = 2.0 + 0.5 * T / T[-1] + np.sin(2 * np.pi * 5.0 * T)
    y = highpass(_series(x), cutoff=1.0).values[:, 0]
    fast = np.sin(2 * np.pi * 5.0 * T)[100:-100]
    assert np.abs(y - fast)[:200].max() < 0.05 and np.abs(y - fast)[-200:].max() < 0.05


def test_downsample_scales_dt_keeps_slow_signal_and_removes_aliases():
    slow, alias = np.sin(2 * np.pi * 1.0 * T), 0.5 * np.sin(2 * np.pi * 30.0 * T)
    ts = downsample(_series(slow + alias), 5)  # new Nyquist: 10 per time unit
    assert ts.dt == pytest.approx(5 / FS) and ts.lengths == [4_000]
    inner = slice(100, -100)
    # without the anti-alias filter the 30 Hz line would fold onto 10 Hz at amplitude 0.5
    assert np.abs(ts.values[inner, 0] - slow[::5][inner]).max() < 0.01


def test_preprocess_records_steps_and_leaves_input_alone():
    ts = _series(np.sin(2 * np.pi * 2.0 * T) + 0.01 * T)
    before = ts.values.copy()
    out = preprocess(ts, Preprocess(highpass=0.5, downsample=2))
    assert out.meta["preprocess"] == {"highpass": 0.5, "downsample": 2}
    assert out.dt == pytest.approx(2 / FS) and out.lengths == [(20_000 - 2 * 200) // 2]
    np.testing.assert_array_equal(ts.values, before)
    assert preprocess(ts, Preprocess(0, 1)) is ts  # both steps off


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1_000, 3_000),
    channels=st.integers(1, 3),
    q=st.integers(1, 6),
    cutoff=st.floats(0.5, 20.0),
)
def test_preprocess_shapes_and_finiteness(n, channels, q, cutoff):
    x = np.random.default_rng(n).normal(size=(n, channels)).cumsum(axis=0)
    out = preprocess(TimeSeries(x, dt=1 / FS), Preprocess(highpass=cutoff, downsample=q))
    trim = max(9, round(FS / cutoff))  # one cutoff period, at least scipy's default padding
    assert out.lengths == [-(-(n - 2 * trim) // q)] and out.n_channels == channels
    assert np.isfinite(out.values).all()


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"highpass": -1.0}, "non-negative"),
        ({"highpass": float("nan")}, "non-negative"),
        ({"downsample": 0}, "integer"),
        ({"downsample": 1.5}, "integer"),
        ({"downsample": True}, "integer"),
    ],
)
def test_bad_settings_are_refused(kw, match):
    with pytest.raises(DataError, match=match):
        Preprocess(**kw)


def test_cutoff_above_nyquist_and_short_trials_are_refused():
    ts = _series(np.sin(T))
    with pytest.raises(DataError, match="Nyquist"):
        highpass(ts, 50.0)
    with pytest.raises(DataError, match="too short to high-pass"):
        highpass(ts.with_values(ts.values[:400]), 1.0)
    with pytest.raises(DataError, match="too short to downsample"):
        downsample(ts.with_values(ts.values[:100]), 4)
    with pytest.raises(DataError, match="before standardising"):
        preprocess(ts.standardise(), Preprocess(highpass=1.0))


def test_ecg_is_preprocessed_by_default_and_can_be_switched_off():
    p = prepare_data("ecg", embed=False)
    assert p.info["preprocess"] == {"highpass": 0.5, "downsample": 3}
    assert p.info["d_stsp_method"] == "gmm"  # 5-D embedding, ~7,000 test points: see datasets/ecg
    assert p.info["dt"] == pytest.approx(3 / 360)
    # 108,000 samples split 70/10/20, one cutoff period (2 s = 720 samples) dropped at both ends
    # of each split, then every third sample kept
    assert [p.train.lengths, p.val.lengths, p.test.lengths] == [[24_720], [3_120], [6_720]]
    emb = prepare_data("ecg")  # the dataset's measured embedding, unless one is given
    assert (emb.info["embedding"]["lag"], emb.info["embedding"]["dim"]) == (18, 8)
    assert emb.train.n_channels == 8
    own = prepare_data("ecg", lag=10, dim=4)
    assert (own.info["embedding"]["lag"], own.info["embedding"]["dim"]) == (10, 4)
    raw = prepare_data("ecg", embed=False, highpass=0, downsample=1)
    assert "preprocess" not in raw.info and raw.info["dt"] == pytest.approx(1 / 360)

    # the drift is gone: the filtered training part has far less power below 0.3 Hz
    def low_power(x, dt):
        f = np.fft.rfftfreq(len(x), dt)
        return (np.abs(np.fft.rfft(x - x.mean())) ** 2)[f < 0.3].sum() / len(x)

    assert low_power(p.train.values[:, 0], 3 / 360) < 0.01 * low_power(
        raw.train.values[:, 0], 1 / 360
    )


@pytest.mark.slow
def test_cli_eval_on_a_file_repeats_the_runs_preprocessing(tmp_path):
    x = np.sin(2 * np.pi * 5.0 * T[:8_000]) + 0.3 * np.sin(2 * np.pi * 0.05 * T[:8_000])
    path = tmp_path / "scalar.csv"
    np.savetxt(path, np.column_stack([T[:8_000], x]), delimiter=",", header="t,x", comments="")
    out = tmp_path / "runs"
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            str(a)
            for a in (
                "fit",
                path,
                "--model",
                "shplrnn",
                "--epochs",
                1,
                "--hidden",
                16,
                "--out",
                out,
                "--highpass",
                2.0,
                "--downsample",
                2,
                "--lag",
                3,
                "--dim",
                3,
                "--d-stsp",
                "gmm",
            )
        ],
    )
    assert res.exit_code == 0, res.output
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    cfg = (run_dir / "config.json").read_text()
    assert '"highpass": 2.0' in cfg and '"downsample": 2' in cfg
    assert '"d_stsp_method": "gmm"' in cfg  # eval scores with the estimator the run used
    res = runner.invoke(app, ["eval", str(run_dir), "--data", str(path)])
    assert res.exit_code == 0, res.output
    assert "D_stsp" in res.output
    # no time stamps: the file is taken at the run's raw sampling (dt 0.01, before downsampling)
    np.save(tmp_path / "scalar.npy", x)
    res = runner.invoke(app, ["eval", str(run_dir), "--data", str(tmp_path / "scalar.npy")])
    assert res.exit_code == 0, res.output
    # time stamps at another sampling: one clear line, exit 2
    slow = tmp_path / "slow.csv"
    np.savetxt(slow, np.column_stack([2 * T[:8_000], x]), delimiter=",", header="t,x", comments="")
    res = runner.invoke(app, ["eval", str(run_dir), "--data", str(slow)])
    assert res.exit_code == 2 and "sampled every 0.02" in res.output, res.output


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--highpass", "-1"], "non-negative"),
        (["--downsample", "0"], "integer"),
        (["--highpass", "500"], "Nyquist"),
    ],
)
def test_cli_bad_preprocessing_exits_2_and_writes_nothing(args, match, tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "fit",
            "ecg",
            *args,
            "--model",
            "shplrnn",
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "runs"),
        ],
    )
    assert res.exit_code == 2, res.output
    assert match.lower() in res.output.lower() and "Traceback" not in res.output
    assert not (tmp_path / "runs").exists() or not any(
        p.is_dir() for p in (tmp_path / "runs").iterdir()
    )


def test_cli_too_short_split_names_the_part(tmp_path):
    """Each split is filtered on its own, so the error says which one is too short."""
    f = tmp_path / "short.npy"
    np.save(f, np.sin(np.arange(300) * 0.3)[:, None])
    res = CliRunner().invoke(
        app,
        [
            "fit",
            str(f),
            "--highpass",
            "0.1",
            "--model",
            "shplrnn",
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert res.exit_code == 2, res.output
    assert "the validation part of the data: a trial of" in res.output, res.output
    assert "Traceback" not in res.output and not (tmp_path / "r").exists()
