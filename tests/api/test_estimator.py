"""attractor.Reconstructor: the scikit-learn contract (parameters, fit → simulate / score,
save → load in the run format) built on attractor.fit, with tiny data and one epoch."""

from __future__ import annotations

import gc
import inspect

import numpy as np
import pytest

from attractor.api.estimator import NotFittedError, Reconstructor
from attractor.api.fit import fit as fit_run
from attractor.data.series import TimeSeries
from attractor.errors import AttractorError, ConfigError, DataError, RunError, UnknownNameError
from attractor.metrics.protocol import free_run
from attractor.metrics.registry import METRICS
from attractor.runs.directory import load_run
from conftest import lorenz

pytestmark = pytest.mark.usefixtures("one_thread")

DT = 0.01
TINY = dict(epochs=1, hidden=16, seed=5)
COMPARED = ("D_stsp", "uncovered", "D_H", "PE(20)", "lambda_max", "vpt_steps", "best_epoch")


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return lorenz(2000, dt=DT)


@pytest.fixture(scope="module")
def fitted(one_thread, x) -> Reconstructor:
    return Reconstructor(**TINY).fit(x, dt=DT)


@pytest.fixture(scope="module")
def fitted_scalar(one_thread, x) -> Reconstructor:
    """A scalar series: delay-embedded before training."""
    return Reconstructor(**TINY).fit(x[:, 0], dt=DT)


# ---------------------------------------------------------------------------- parameters
def test_params_round_trip_and_clone():
    r = Reconstructor("alrnn", epochs=3, seed=2, lag=7, train_config={"seq_len": 50})
    p = r.get_params()
    assert p["model"] == "alrnn" and p["epochs"] == 3 and p["lag"] == 7 and p["preset"] == "quick"
    clone = Reconstructor(**p)
    assert clone.get_params() == p and clone is not r
    assert r.set_params(epochs=5, hidden=8) is r
    assert r.get_params()["epochs"] == 5 and r.hidden == 8
    with pytest.raises(ConfigError, match=r"no parameter 'epoch'.*Did you mean 'epochs'"):
        r.set_params(epoch=2)
    assert r.epochs == 5  # a failed set_params changes nothing
    assert "model='alrnn'" in repr(r) and "epochs=5" in repr(r) and "preset" not in repr(r)


def test_scikit_learn_can_clone_it():
    base = pytest.importorskip("sklearn.base")
    r = Reconstructor("plrnn", epochs=2, noise=0.1)
    c = base.clone(r)
    assert c.get_params() == r.get_params() and c is not r


def test_defaults_are_those_of_attractor_fit():
    ours = inspect.signature(Reconstructor.__init__).parameters
    theirs = inspect.signature(fit_run).parameters
    shared = [k for k in ours if k in theirs and k not in ("self", "out", "figures")]
    assert len(shared) >= 20
    for k in shared:
        assert ours[k].default == theirs[k].default, k


def test_constructor_does_no_work_and_fit_checks_the_settings(x):
    r = Reconstructor("no-such-model", epochs=1)  # stored as given
    assert r.model == "no-such-model"
    with pytest.raises(UnknownNameError, match="unknown model 'no-such-model'"):
        r.fit(x, dt=DT)
    assert not hasattr(r, "model_")


def test_using_it_before_fit_says_so():
    r = Reconstructor()
    for call in (lambda: r.simulate(10), lambda: r.score(np.zeros((50, 3))), lambda: r.save("x")):
        with pytest.raises(NotFittedError, match=r"not fitted yet; call fit\(x, dt=...\)") as e:
            call()
        assert isinstance(e.value, AttractorError)


def test_fit_input_errors(x):
    r = Reconstructor(**TINY)
    with pytest.raises(ConfigError, match="dt is required"):
        r.fit(x)
    with pytest.raises(ConfigError, match=r"sampled every 0.01 but dt=0.02"):
        r.fit(TimeSeries(x, dt=DT), dt=0.02)
    with pytest.raises(DataError, match="takes arrays or a TimeSeries"):
        r.fit("lorenz63", dt=DT)


# ---------------------------------------------------------------------------- fit → simulate
def test_fit_sets_the_learned_attributes(fitted, x):
    assert fitted.n_channels_ == 3 and fitted.dt_ == DT
    assert fitted.model_.obs_dim == 3 and fitted.scaler_ is fitted.run_.scaler
    assert fitted.metrics_["epochs_run"] == 1 and len(fitted.history_) == 1
    assert fitted.run_.config["data"]["dt"] == DT
    np.testing.assert_allclose(fitted.scaler_.mean, x[: int(0.7 * len(x))].mean(axis=0))


def test_simulate_continues_the_data_in_data_units(fitted, x):
    y = fitted.simulate(200)
    assert y.shape == (200, 3) and np.isfinite(y).all()
    # in data units: the model's own free run from the last data point, mapped back
    sc = fitted.scaler_
    z = free_run(fitted.model_, sc.transform(x[-1]), 201)
    np.testing.assert_array_equal(y, sc.inverse(z)[1:])
    # the default start is the end of the data; a stretch of data starts from its last sample
    np.testing.assert_array_equal(fitted.simulate(200, x0=x[-1]), y)
    np.testing.assert_array_equal(fitted.simulate(200, x0=x[-50:]), y)
    with pytest.raises(ConfigError, match="positive number of steps"):
        fitted.simulate(0)
    with pytest.raises(DataError, match="x0 has shape"):
        fitted.simulate(5, x0=np.zeros(4))


def test_embedded_data_simulate_and_score_in_the_data_own_channels(fitted_scalar, x):
    r = fitted_scalar
    emb = r.run_.config["data"]["embedding"]
    assert r.model_.obs_dim == emb["dim"] > 1 and r.n_channels_ == 1
    y = r.simulate(100)
    assert y.shape == (100, 1) and np.isfinite(y).all()
    need = (emb["dim"] - 1) * emb["lag"] + 1
    np.testing.assert_array_equal(r.simulate(100, x0=x[-need:, 0]), y)  # the end of the data
    with pytest.raises(DataError, match=f"needs at least {need}"):
        r.simulate(5, x0=x[-need + 1 :, 0])
    s = r.score(x[-600:, :1])
    assert {"D_stsp", "D_H", "PE(20)"} <= set(s) and np.isfinite(s["D_H"])
    with pytest.raises(DataError, match="3 channel"):
        r.score(x[-600:])


# ---------------------------------------------------------------------------- score
def test_score_keys_are_the_registry_keys_and_reproduce_the_test_metrics(fitted):
    test = fitted.run_.test_data()  # the held-out part, data units
    s = fitted.score(test)
    assert set(s) <= set(METRICS)
    assert {"D_stsp", "D_H", "PE(20)", "lambda_max"} <= set(s)
    for k in ("D_stsp", "D_H", "PE(20)", "lambda_max"):
        assert s[k] == pytest.approx(fitted.metrics_[k], rel=1e-9, abs=1e-12), k
    with pytest.raises(DataError, match=r"sampled every 0.02"):
        fitted.score(TimeSeries(test, dt=0.02))


# ---------------------------------------------------------------------------- save → load
def test_save_load_gives_the_same_model_in_the_run_format(fitted, x, tmp_path):
    path = fitted.save(tmp_path / "rec")
    assert {"config.json", "model.safetensors", "metrics.json", "test.npy"} <= {
        f.name for f in path.iterdir()
    }
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())
    run = load_run(path)  # what attractor.load_run and `attractor eval` read
    assert run.metrics["D_stsp"] == fitted.metrics_["D_stsp"]
    loaded = Reconstructor.load(path)
    assert loaded.get_params()["seed"] == 5 and loaded.get_params()["epochs"] == 1
    np.testing.assert_array_equal(loaded.simulate(150), fitted.simulate(150))
    np.testing.assert_array_equal(loaded.simulate(50, x0=x[100]), fitted.simulate(50, x0=x[100]))
    assert loaded.score(x[-400:]) == fitted.score(x[-400:])
    with pytest.raises(RunError, match="already exists"):
        fitted.save(path)


def test_a_saved_run_is_read_by_attractor_eval(fitted, tmp_path):
    from typer.testing import CliRunner

    from attractor.cli import app

    path = fitted.save(tmp_path / "rec")
    res = CliRunner().invoke(app, ["eval", str(path)])
    assert res.exit_code == 0, res.output
    assert "D_stsp" in res.output


def test_the_temporary_run_goes_with_the_estimator(x, tmp_path):
    x = x[:1000]
    r = Reconstructor(**TINY).fit(x, dt=DT)
    first = r.run_.path
    assert first.exists()
    r.fit(x, dt=DT)  # a new fit replaces the previous temporary run
    assert not first.exists() and r.run_.path.exists()
    second = r.run_.path
    del r
    gc.collect()
    assert not second.exists()
    kept = Reconstructor(**TINY, out=tmp_path).fit(x, dt=DT)
    assert kept.run_.path.parent == tmp_path and (tmp_path / "attractor.sqlite").exists()


# ---------------------------------------------------------------------------- reproducibility
def test_same_seed_same_metrics_and_the_same_as_attractor_fit(fitted, x):
    again = Reconstructor(**TINY).fit(x, dt=DT)
    run = fit_run(TimeSeries(x, dt=DT), out=None, figures=False, **TINY)
    for k in COMPARED:
        assert again.metrics_[k] == fitted.metrics_[k], k
        assert run.metrics[k] == fitted.metrics_[k], k
    for name, p in fitted.model_.state_dict().items():
        assert (p == run.model.state_dict()[name]).all(), name
