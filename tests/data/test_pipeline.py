"""attractor.data.pipeline: one DataPipeline (split → noise → filters → embedding → scaler) that
fit, bench and eval share, with one meaning of ``noise`` for every source."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.data.filters import Preprocess
from attractor.data.pipeline import (
    DataPipeline,
    Split,
    prepare_data,
)
from attractor.data.series import Scaler, TimeSeries
from attractor.errors import DataError
from conftest import lorenz

FS = 100.0
T = np.arange(12_000) / FS


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)


def _scalar_series() -> TimeSeries:
    """A scalar oscillation on a slow drift, sampled at 100 Hz."""
    x = np.sin(2 * np.pi * 1.3 * T) + 0.4 * np.sin(2 * np.pi * 3.1 * T) + 0.5 * T / T[-1]
    return TimeSeries(x[:, None], dt=1 / FS, names=["x"], units=["V"])


@pytest.fixture(scope="module")
def lorenz_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipeline") / "lorenz.csv"
    x = lorenz(3000)
    np.savetxt(
        path,
        np.column_stack([np.arange(len(x)) * 0.01, x]),
        delimiter=",",
        header="t,x,y,z",
        comments="",
    )
    return path


# ------------------------------------------------------------------------------ round trip
_splits = st.one_of(
    st.builds(
        Split,
        st.just("trajectory"),
        st.integers(1, 10**6),
        st.integers(1, 10**6),
        st.integers(1, 10**6),
    ),
    st.builds(Split, st.just("trial"), st.integers(1, 50), st.integers(1, 50), st.integers(1, 50)),
    st.tuples(st.floats(0.05, 0.8), st.floats(0.01, 0.15)).map(
        lambda fr: Split("time", fr[0], fr[1], 1.0 - fr[0] - fr[1])
    ),
)
_finite = st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def _pipelines(draw) -> DataPipeline:
    n = draw(st.integers(1, 4))
    emb = draw(st.none() | st.tuples(st.integers(1, 50), st.integers(1, 10)))
    width = n * (emb[1] if emb else 1)
    scaler = draw(
        st.none()
        | st.builds(
            lambda m, s: Scaler(np.asarray(m), np.asarray(s)),
            st.lists(_finite, min_size=width, max_size=width),
            st.lists(st.floats(1e-6, 1e6), min_size=width, max_size=width),
        )
    )
    return DataPipeline(
        split=draw(_splits),
        noise=draw(st.floats(0, 2)),
        seed=draw(st.integers(0, 2**31)),
        preprocess=Preprocess(
            draw(st.none() | st.floats(0, 10)), draw(st.none() | st.integers(1, 10))
        ),
        lag=emb[0] if emb else None,
        dim=emb[1] if emb else None,
        scaler=scaler,
        dt=draw(st.none() | st.floats(1e-6, 1e3)),
        n_channels=draw(st.none() | st.just(n)),
    )


@settings(max_examples=60, deadline=None)
@given(_pipelines())
def test_to_dict_from_dict_round_trip_through_json(pipe):
    d = pipe.to_dict()
    text = json.dumps(d)  # JSON-able as it is
    back = DataPipeline.from_dict(json.loads(text))
    assert back.to_dict() == d
    assert back.split == pipe.split and back.preprocess == pipe.preprocess
    assert (back.noise, back.seed, back.lag, back.dim, back.dt, back.n_channels) == (
        pipe.noise,
        pipe.seed,
        pipe.lag,
        pipe.dim,
        pipe.dt,
        pipe.n_channels,
    )
    if pipe.scaler is not None:
        assert _bits(back.scaler.mean).tolist() == _bits(pipe.scaler.mean).tolist()
        assert _bits(back.scaler.std).tolist() == _bits(pipe.scaler.std).tolist()
    assert d["noise_streams"] == {"train": "noise/train", "val": "noise/val"}


def test_prepared_data_carries_a_json_able_pipeline():
    p = prepare_data(_scalar_series(), highpass=0.5, downsample=2, lag=4, dim=3, noise=0.05)
    pipe = p.pipeline
    assert isinstance(pipe, DataPipeline)
    assert pipe.split == Split("time", 0.7, 0.1, pipe.split.test)
    assert (pipe.noise, pipe.lag, pipe.dim, pipe.dt, pipe.n_channels) == (0.05, 4, 3, 0.01, 1)
    assert pipe.preprocess == Preprocess(0.5, 2)
    again = DataPipeline.from_dict(json.loads(json.dumps(pipe.to_dict())))
    assert again.to_dict() == pipe.to_dict()


# ------------------------------------------------------------------------------ apply
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"noise": 0.1, "seed": 4},
        {"highpass": 0.5, "downsample": 2, "lag": 4, "dim": 3, "noise": 0.05, "seed": 1},
        {"highpass": 0.5, "downsample": 3},  # embedding chosen automatically (scalar series)
    ],
)
def test_apply_on_the_training_data_reproduces_the_prepared_training_series(kw):
    ts = _scalar_series()
    p = prepare_data(ts, **kw)
    pipe = p.pipeline
    train, val, _ = pipe.split.apply(ts)
    noisy_train, noisy_val = pipe.add_noise(train, val)
    out = pipe.apply(noisy_train)
    assert out.n_channels == p.train.n_channels and out.dt == p.train.dt
    np.testing.assert_array_equal(_bits(out.values), _bits(p.train.values))
    np.testing.assert_array_equal(_bits(pipe.apply(noisy_val).values), _bits(p.val.values))
    np.testing.assert_array_equal(
        _bits(pipe.apply(pipe.split.apply(ts)[2]).values), _bits(p.test.values)
    )


def test_apply_on_a_file_source_reproduces_training_and_test(lorenz_file):
    from attractor.data.files import read_series

    p = prepare_data(lorenz_file, noise=0.2, seed=9)
    ts = read_series(lorenz_file)
    train, val, test = p.pipeline.split.apply(ts)
    np.testing.assert_array_equal(
        _bits(p.pipeline.apply(p.pipeline.add_noise(train, val)[0]).values), _bits(p.train.values)
    )
    np.testing.assert_array_equal(_bits(p.pipeline.apply(test).values), _bits(p.test.values))


def test_apply_refuses_data_sampled_or_shaped_differently():
    p = prepare_data(_scalar_series(), lag=4, dim=3)
    ts = _scalar_series()
    with pytest.raises(DataError, match=r"sampled every 0\.02 but the pipeline was fitted"):
        p.pipeline.apply(ts.with_values(list(ts.trials), dt=0.02))
    two = TimeSeries(np.column_stack([ts.values[:, 0], ts.values[:, 0] ** 2]), dt=ts.dt)
    with pytest.raises(DataError, match="2 channel"):
        p.pipeline.apply(two, label="two.csv")


def test_runs_without_a_stored_pipeline_get_one_from_their_old_keys():
    p = prepare_data(_scalar_series(), highpass=0.5, downsample=2, lag=4, dim=3)
    old = {  # what config.json held before the pipeline was stored
        "kind": "array",
        "preprocess": p.info["preprocess"],
        "embedding": p.info["embedding"],
        "scaler": p.train.scaler.to_dict(),
        "dt": p.info["dt"],
    }
    legacy = DataPipeline.from_config(old)
    assert (legacy.lag, legacy.dim, legacy.preprocess) == (4, 3, Preprocess(0.5, 2))
    assert legacy.dt == pytest.approx(0.01)
    test = p.pipeline.split.apply(_scalar_series())[2]
    np.testing.assert_array_equal(
        _bits(legacy.apply(test).values), _bits(p.pipeline.apply(test).values)
    )
    new = DataPipeline.from_config({**old, "pipeline": p.pipeline.to_dict()})
    assert new.to_dict() == p.pipeline.to_dict()


# ------------------------------------------------------------------------------ noise
def _stream(seed: int, name: str) -> np.random.SeedSequence:
    """The named stream of ``seed``, written out independently of attractor.seeds."""
    return np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),))


def _raw(part: TimeSeries) -> np.ndarray:
    return part.destandardise().values


def test_noise_is_on_training_and_validation_not_on_test_for_a_file(lorenz_file):
    clean = prepare_data(lorenz_file)
    noisy = prepare_data(lorenz_file, noise=0.1, seed=3)
    assert clean.info["noise"] == 0.0 and noisy.info["noise"] == 0.1  # recorded for files too
    np.testing.assert_array_equal(noisy.test_raw, clean.test_raw)  # the test part is clean
    for part, seed in (("train", _stream(3, "noise/train")), ("val", _stream(3, "noise/val"))):
        x0, x1 = _raw(getattr(clean, part)), _raw(getattr(noisy, part))
        eps = x1 - x0
        # noise × per-channel std of that part, drawn from the part's own named stream
        want = 0.1 * x0.std(0) * np.random.default_rng(seed).standard_normal(x0.shape)
        np.testing.assert_allclose(eps, want, atol=1e-9 * np.abs(x0).max())
    assert noisy.pipeline.noise == 0.1 and noisy.pipeline.seed == 3


def test_noise_is_on_training_and_validation_not_on_test_for_a_system():
    clean = prepare_data("Lorenz", n_train=500)
    noisy = prepare_data("Lorenz", n_train=500, noise=0.1, seed=2)
    assert noisy.info["noise"] == 0.1 and noisy.info["kind"] == "system"
    np.testing.assert_array_equal(noisy.test_raw, clean.test_raw)
    for part, seed in (("train", _stream(2, "noise/train")), ("val", _stream(2, "noise/val"))):
        x0, x1 = _raw(getattr(clean, part)), _raw(getattr(noisy, part))
        want = 0.1 * x0.std(0) * np.random.default_rng(seed).standard_normal(x0.shape)
        np.testing.assert_allclose(x1 - x0, want, atol=1e-9 * np.abs(x0).max())
    assert noisy.pipeline.split == Split("trajectory", 500, 1000, 1000)


# ------------------------------------------------------------------------------ bad values
TRIAL = {"by": "trial", "train": 2, "val": 1, "test": 1}


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"noise": -0.1}, "noise must be a non-negative number"),
        ({"noise": float("nan")}, "noise must be a non-negative number"),
        ({"noise": "0.1"}, "noise must be a non-negative number"),
        ({"seed": -1}, "seed must be an integer"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"embed": "yes"}, "embed must be 'auto', True or False"),
        ({"highpass": -1.0}, "non-negative"),
        ({"downsample": 0}, "integer"),
        ({"lag": 0, "dim": 3}, "positive whole number"),
    ],
)
def test_bad_values_raise_data_error_in_python_terms(kw, match):
    with pytest.raises(DataError, match=match):
        prepare_data(_scalar_series(), **kw)


def test_bad_sources_raise_data_error():
    with pytest.raises(DataError, match="cannot fit object"):
        prepare_data(object())
    with pytest.raises(DataError, match="n_train must be at least 100"):
        prepare_data("Lorenz", n_train=50)
    with pytest.raises(DataError, match="too short to split"):
        prepare_data(np.arange(10.0)[:, None])


@pytest.mark.parametrize(
    ("d", "match"),
    [
        ("not a dict", "must be a dict with a 'split'"),
        ({"noise": 0.1}, "must be a dict with a 'split'"),
        ({"split": {"by": "random", "train": 1, "val": 1, "test": 1}}, "split.by must be one of"),
        ({"split": {"by": "time", "train": 0.9, "val": 0.2, "test": 0.0}}, "summing to less"),
        ({"split": {"by": "trial", "train": 1.5, "val": 1, "test": 1}}, "split.train must be"),
        ({"split": {"by": "time"}}, "keys by, train, val, test"),
        ({"split": TRIAL, "noise": -1}, "noise must"),
        ({"split": TRIAL, "seed": "x"}, "seed must"),
        (
            {"split": TRIAL, "embedding": {"lag": 2}},
            "lag and dim go together",
        ),
        ({"split": TRIAL, "dt": 0}, "dt must be"),
        ({"split": TRIAL, "scaler": {"m": 1}}, "mean"),
        (
            {
                "split": {"by": "trial", "train": 2, "val": 1, "test": 1},
                "preprocess": {"downsample": 0},
            },
            "integer",
        ),
    ],
)
def test_from_dict_rejects_what_to_dict_never_writes(d, match):
    with pytest.raises(DataError, match=match):
        DataPipeline.from_dict(d)


def test_split_by_trajectory_cannot_cut_a_series():
    with pytest.raises(DataError, match="cannot cut"):
        Split("trajectory", 10, 10, 10).apply(_scalar_series())


# ------------------------------------------------------------------------------ fit and eval
def test_a_run_records_its_pipeline_and_eval_reapplies_it_old_runs_included(lorenz_file, tmp_path):
    """config.json holds data.noise and data.pipeline; ``attractor eval RUN --data FILE`` gives
    the same numbers from the stored pipeline as from a run written before it was stored."""
    import shutil

    from typer.testing import CliRunner

    from attractor.cli import app

    runner = CliRunner()
    out = tmp_path / "runs"
    args = ["fit", lorenz_file, "--model", "shplrnn", "--epochs", 1, "--hidden", 16]
    args += ["--noise", 0.05, "--out", out]
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["data"]["noise"] == 0.05 and cfg["data"]["pipeline"]["noise"] == 0.05
    pipe = DataPipeline.from_dict(cfg["data"]["pipeline"])
    assert pipe.scaler.to_dict() == cfg["data"]["scaler"] and pipe.n_channels == 3
    old = tmp_path / "old" / run_dir.name  # same name: same title
    shutil.copytree(run_dir, old)
    del cfg["data"]["pipeline"], cfg["data"]["noise"]
    (old / "config.json").write_text(json.dumps(cfg))
    new_res = runner.invoke(app, ["eval", str(run_dir), "--data", str(lorenz_file)])
    old_res = runner.invoke(app, ["eval", str(old), "--data", str(lorenz_file)])
    assert new_res.exit_code == 0 and old_res.exit_code == 0, (new_res.output, old_res.output)
    assert "D_stsp" in new_res.output
    assert new_res.output == old_res.output
