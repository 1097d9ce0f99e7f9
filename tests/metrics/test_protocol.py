"""Validation scores on held-out data, with and without matching the data's observation noise,
and with the D_stsp estimator a run asks for."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attractor.errors import ConfigError
from attractor.metrics.geometry import coverage, d_stsp
from attractor.metrics.protocol import TRANSIENT_FRACTION, evaluate, free_run, validate
from attractor.train.loop import TrainConfig
from toymodels import rotation_model as _rotation_model


def _noisy_circle(n: int, theta: float, noise: float, seed: int) -> np.ndarray:
    t = np.arange(n) * theta
    x = np.stack([np.cos(t), np.sin(t)], axis=1)
    return x + noise * np.random.default_rng(seed).standard_normal(x.shape)


def test_noise_matching_removes_the_penalty_for_noisy_held_out_data():
    theta, noise = 2 * math.pi / 97, 0.1
    model = _rotation_model(theta)
    trials = [_noisy_circle(4000, theta, noise, seed=1), _noisy_circle(3000, theta, noise, seed=2)]
    # the model's clean circle against noisy data is far off; observed with the same noise it fits
    plain = validate(model, trials, n_traj=4, length=2000)
    matched = validate(model, trials, n_traj=4, length=2000, noise_std=np.array([noise, noise]))
    assert not plain["diverged"] and not matched["diverged"]
    assert plain["D_stsp"] > 1.0
    assert matched["D_stsp"] < 0.5 * plain["D_stsp"]
    # a wrong model stays wrong even with noise matching: one that spirals slowly into the origin
    model.W.data *= 0.999
    wrong = validate(model, trials, n_traj=4, length=2000, noise_std=np.array([noise, noise]))
    assert wrong["D_stsp"] > 2 * matched["D_stsp"]


def test_diverging_model_is_reported_not_scored():
    model = _rotation_model(0.1)
    model.W.data *= 1.5  # spirals out to overflow
    trials = [_noisy_circle(3000, 0.1, 0.05, seed=0)]
    out = validate(model, trials, n_traj=2, length=2000)
    assert out["diverged"] and out["D_stsp"] == math.inf


def test_the_d_stsp_estimator_is_passed_through_to_validation_and_test():
    theta = 2 * math.pi / 50
    model = _rotation_model(theta)
    data = _noisy_circle(4_000, theta * 1.1, 0.05, seed=0)  # slightly wrong speed, same circle
    n_trans = round(TRANSIENT_FRACTION * len(data))
    gen = free_run(model, data[:1], len(data) + n_trans)[0, n_trans:]
    scores = {}
    for method in ("binned", "gmm"):
        v = validate(model, [data], n_traj=1, length=len(data), d_stsp_method=method)
        e = evaluate(model, data, lyapunov=False, d_stsp_method=method)
        scores[method] = d_stsp(data, gen, method=method)
        assert v["D_stsp"] == scores[method] == e["D_stsp"]
        # the binned estimate comes with its coverage of the test points' cells
        if method == "binned":
            assert e["uncovered"] == coverage(data, gen)["uncovered"]
            assert 0.0 < e["uncovered"] < 1.0  # a clean circle misses the noisy data's outer cells
        else:
            assert "uncovered" not in e
    assert scores["binned"] != scores["gmm"]


def test_unknown_d_stsp_estimator_is_refused_before_training():
    with pytest.raises(ConfigError, match="unknown D_stsp method 'kde'"):
        TrainConfig(d_stsp_method="kde").check()
