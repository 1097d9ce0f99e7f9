"""Forcing strategies and the σ estimators of adaptive GTF."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from attractor.errors import ConfigError, UnknownNameError
from attractor.models import create
from attractor.train.forcing import (
    ESTIMATORS,
    GeneralizedForcing,
    alpha_star,
    estimate_sigma,
    make_forcing,
)


@given(st.floats(0.01, 100.0))
def test_alpha_star_keeps_backward_factor_at_most_one(sigma):
    a = alpha_star(sigma)
    assert 0.0 <= a < 1.0
    assert (1 - a) * sigma <= 1.0 + 1e-12
    if sigma <= 1:
        assert a == 0.0


def _diagonal_plrnn(a_values):
    model = create("plrnn", len(a_values), latent_dim=len(a_values)).double()
    with torch.no_grad():
        model.A.copy_(torch.tensor(a_values, dtype=torch.float64))
        model.W.zero_()
    return model


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_estimators_on_a_linear_model_give_its_norm(estimator):
    """With W = 0 the Jacobian is diag(A) everywhere: every estimator must return max|A|."""
    model = _diagonal_plrnn([0.5, -1.7, 1.2])
    x = torch.randn(4, 30, 3, dtype=torch.float64)
    assert estimate_sigma(model, x, estimator) == pytest.approx(1.7)


def test_geometric_mean_is_max_over_sequences_of_time_geometric_means():
    torch.manual_seed(0)
    model = create("plrnn", 2, latent_dim=2).double()
    with torch.no_grad():
        model.A.copy_(torch.tensor([0.1, 0.2], dtype=torch.float64))
        model.W.copy_(torch.tensor([[0.0, 3.0], [0.0, 0.0]], dtype=torch.float64))
    # sequence 0 always has unit 2 active (norm large), sequence 1 never (norm 0.2)
    x = torch.stack([torch.full((10, 2), 1.0), torch.full((10, 2), -1.0)]).double()
    norm_on = torch.linalg.matrix_norm(model.jacobian(x[0, :1]), ord=2).item()
    assert estimate_sigma(model, x, "geometric") == pytest.approx(norm_on)
    mean_j = (model.jacobian(x[0, :1])[0] + model.jacobian(x[1, :1])[0]) / 2
    assert estimate_sigma(model, x, "mean") == pytest.approx(
        torch.linalg.matrix_norm(mean_j, ord=2).item()
    )


def test_adaptive_alpha_jumps_up_and_anneals_down():
    f = GeneralizedForcing(alpha0=0.2, adaptive=True, anneal=0.9, every=1)
    big = _diagonal_plrnn([4.0, 0.1])  # σ = 4 → α* = 0.75 > 0.2: jump
    x = torch.zeros(2, 5, 2, dtype=torch.float64)
    f.update(big, x, 0)
    assert f.alpha == pytest.approx(0.75)
    small = _diagonal_plrnn([2.0, 0.1])  # α* = 0.5 < 0.75: α ← 0.9·0.75 + 0.1·0.5
    f.update(small, x, 1)
    assert f.alpha == pytest.approx(0.9 * 0.75 + 0.1 * 0.5)
    assert torch.all(f.alphas(7) == f.alpha)


def test_adaptive_alpha_updates_only_every_k_steps():
    f = GeneralizedForcing(alpha0=0.0, adaptive=True, every=5)
    model = _diagonal_plrnn([4.0, 0.1])
    x = torch.zeros(1, 3, 2, dtype=torch.float64)
    f.update(model, x, 3)
    assert f.alpha == 0.0
    f.update(model, x, 5)
    assert f.alpha == pytest.approx(0.75)


def test_sparse_forcing_pattern():
    a = make_forcing("stf", interval=4).alphas(12)
    assert a.tolist() == [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]


def test_names_and_errors():
    assert make_forcing("gtf", alpha=0.3).alpha == 0.3
    assert make_forcing("agtf").alpha == 1.0
    assert make_forcing("none").alphas(3).tolist() == [0, 0, 0]
    with pytest.raises(UnknownNameError, match="Did you mean 'stf'"):
        make_forcing("sft")
    with pytest.raises(ConfigError):
        make_forcing("gtf", alpha=1.5)
    with pytest.raises(ConfigError):
        make_forcing("stf", interval=0)
    with pytest.raises(UnknownNameError):
        GeneralizedForcing(estimator="median")
    assert math.isclose(alpha_star(float("inf")), 1.0)
