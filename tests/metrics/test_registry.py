"""The metric registry: keys, labels and directions in one place; evaluate computes every
free-run entry (built-in and registered) with the numbers of the metric functions themselves."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from attractor.bench import leaderboard
from attractor.errors import ConfigError, UnknownNameError
from attractor.metrics.geometry import coverage, d_stsp
from attractor.metrics.protocol import compare, evaluate
from attractor.metrics.registry import (
    METRICS,
    Comparison,
    MetricEntry,
    get_metric,
    metric_keys,
    register,
    unregister,
)
from attractor.metrics.spectrum import d_h
from toymodels import rotation_model as _rotation_model

pytestmark = pytest.mark.usefixtures("one_thread")


def _circle(n: int, theta: float, noise: float = 0.05) -> np.ndarray:
    t = np.arange(n) * theta
    x = np.stack([np.cos(t), np.sin(t)], axis=1)
    return x + noise * np.random.default_rng(0).standard_normal(x.shape)


@pytest.fixture
def user_metric():
    """A registered RMSE metric, removed again after the test."""
    entry = register(
        MetricEntry(
            "rmse_free_run",
            "RMSE of the free run",
            True,
            fn=lambda c: float(np.sqrt(np.mean((c.true - c.generated) ** 2))),
        )
    )
    yield entry
    unregister(entry.key)


def test_leaderboard_reads_keys_labels_and_directions_from_the_registry():
    # the leaderboard's table before the registry existed: keys, labels, directions, protocols
    before = [
        ("D_stsp", "D_stsp", True, "reconstruction"),
        ("D_H", "D_H", True, "reconstruction"),
        ("PE(20)", "PE(20)", True, "reconstruction"),
        ("lambda_max_error", "λ_max rel. error", True, "reconstruction"),
        ("vpt_lyapunov", "VPT (Lyapunov times, NRMSE)", False, "forecast"),
        ("vpt_smape_lyapunov", "VPT (Lyapunov times, sMAPE)", False, "forecast"),
        ("smape_2p", "sMAPE, 2 periods", True, "forecast"),
        ("smape", "sMAPE, 50 periods", True, "forecast"),
    ]
    got = [(m.key, m.label, m.lower_is_better, m.protocol) for m in leaderboard.METRICS]
    assert got == before
    assert all(m is METRICS[m.key] for m in leaderboard.METRICS)
    assert get_metric("vpt_lyapunov").worst == 0.0 and get_metric("D_H").worst == math.inf


def test_unknown_metric_names_the_known_ones():
    with pytest.raises(UnknownNameError, match=r"unknown metric 'D_stps'.*Did you mean 'D_stsp'"):
        get_metric("D_stps")
    assert isinstance(UnknownNameError("x"), KeyError)


def test_evaluate_computes_the_registry_entries_with_the_metric_functions():
    theta = 2 * math.pi / 97
    test = _circle(3000, theta)
    m = evaluate(_rotation_model(theta), test, lyapunov=False, return_generated=True)
    gen = m["generated"]
    assert m["D_stsp"] == d_stsp(test, gen)
    assert m["uncovered"] == coverage(test, gen)["uncovered"]
    assert m["D_H"] == d_h(test, gen)
    free_run_keys = [k for k in m if k in METRICS and METRICS[k].fn is not None]
    assert free_run_keys == ["D_stsp", "uncovered", "D_H"]  # registry order, as in metrics.json
    assert list(m)[:6] == ["n_test", "dt", "D_stsp", "uncovered", "D_H", "diverged"]
    gmm = evaluate(_rotation_model(theta), test, lyapunov=False, d_stsp_method="gmm")
    assert "uncovered" not in gmm  # coverage is defined on the binned estimator's grid only


def test_a_diverged_free_run_scores_each_entry_by_its_on_diverged_value():
    x = _circle(500, 0.1)
    out = compare(Comparison(x, np.full_like(x, np.inf)), diverged=True)
    assert out == {"D_stsp": math.inf, "D_H": math.inf}


def test_a_registered_metric_is_reported_by_evaluate(user_metric):
    theta = 2 * math.pi / 97
    test = _circle(2000, theta)
    m = evaluate(_rotation_model(theta), test, lyapunov=False, return_generated=True)
    want = float(np.sqrt(np.mean((test - m["generated"]) ** 2)))
    assert m[user_metric.key] == want
    assert metric_keys()[-1] == user_metric.key and get_metric(user_metric.key) is user_metric


def test_register_refuses_to_overwrite_or_remove_silently(user_metric):
    with pytest.raises(ConfigError, match="already registered; pass replace=True"):
        register(MetricEntry(user_metric.key, "other", False))
    with pytest.raises(ConfigError, match="built-in"):
        unregister("D_stsp")
    with pytest.raises(ConfigError, match="takes a MetricEntry"):
        register(("rmse", "RMSE", True))  # type: ignore[arg-type]
    with pytest.raises(UnknownNameError):
        unregister("no_such_metric")


def test_the_registry_loads_without_torch():
    code = "import sys, attractor.metrics.registry; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
