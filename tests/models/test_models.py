"""Models: analytic Jacobians vs autograd, shapes, parameter counts, registry, bad settings."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.errors import ConfigError, UnknownNameError
from attractor.models import DynamicalModel, create, from_config, model_names
from attractor.models.base import init_diagonal_A

SMALL = {
    "shplrnn": {"latent_dim": 4, "hidden_dim": 9},
    "shplrnn-plain": {"latent_dim": 4, "hidden_dim": 9},
    "plrnn": {"latent_dim": 5},
    "alrnn": {"latent_dim": 6, "n_relu": 2},
    "alrnn-lsq": {"latent_dim": 6, "n_relu": 2},
    "gru": {"latent_dim": 5},
    "lstm": {"latent_dim": 8},
    "diaggru": {"latent_dim": 5},
    "diaglstm": {"latent_dim": 8},
    "leaky": {"latent_dim": 6, "n_inputs": 0},
    "ssm": {"width": 4, "modes": 2, "layers": 2},
    "esn": {"reservoir": 12, "connectivity": 0.5},
    "naive-last": {},
    "naive-mean": {},
}
#: Fitted in closed form from data (``fit_direct``); they cannot step before they are fitted, so
#: their Jacobians and simulation are tested after fitting in test_adapters.py.
DIRECT = {"esn-rpy", "sindy", "parroting"}


def autograd_jacobian(model: DynamicalModel, z: torch.Tensor) -> torch.Tensor:
    return torch.stack(
        [torch.autograd.functional.jacobian(lambda v: model.step(v[None])[0], zi) for zi in z]
    )


@pytest.mark.parametrize("name", model_names())
def test_every_registered_model_has_small_settings(name):
    assert name in SMALL or name in DIRECT


@pytest.mark.parametrize("name", sorted(SMALL))
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 5.0))
def test_analytic_jacobian_matches_autograd(name, seed, scale):
    torch.manual_seed(seed)
    model = create(name, 3, **SMALL[name]).double()
    z = scale * torch.randn(5, model.latent_dim, dtype=torch.float64)
    torch.testing.assert_close(model.jacobian(z), autograd_jacobian(model, z))


@pytest.mark.parametrize("name", sorted(SMALL))
def test_shapes_and_simulate(name):
    model = create(name, 3, **SMALL[name])
    z = torch.randn(7, model.latent_dim)
    assert model.step(z).shape == (7, model.latent_dim)
    x0 = torch.randn(7, 3)
    traj = model.simulate(x0, 11)
    assert traj.shape == (7, 11, 3)
    torch.testing.assert_close(traj[:, 0], x0)  # first point is the start state
    assert model.simulate(torch.randn(3), 4).shape == (4, 3)
    assert model.simulate(z0=z, steps=4, return_latent=True).shape == (7, 4, model.latent_dim)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_rebuild_from_config(name):
    model = create(name, 2, **SMALL[name])
    clone = from_config(name, model.config())
    clone.load_state_dict(model.state_dict())
    z = torch.randn(3, model.latent_dim)
    torch.testing.assert_close(model.step(z), clone.step(z))


def test_shplrnn_parameter_count_matches_reference():
    # REFERENCE §1: 2M + 2ML + L parameters for M=3, L=50 → 356 (no extra latent, so L is 0×3)
    assert create("shplrnn", 3, latent_dim=3, hidden_dim=50).n_parameters() == 356


def test_clipped_shplrnn_is_bounded():
    """|φ| ≤ |h₂| for the clipped nonlinearity, so orbits stay bounded when max|A| < 1."""
    torch.manual_seed(0)
    model = create("shplrnn", 3, latent_dim=3, hidden_dim=20).double()
    z = 1e3 * torch.randn(100, 3, dtype=torch.float64)
    assert torch.all(model.hidden(z).abs() <= model.h2.abs() + 1e-9)
    with torch.no_grad():
        model.A.clamp_(max=0.9)
        model.W1.mul_(5)
    traj = model.simulate(z0=torch.randn(4, 3, dtype=torch.float64), steps=2000)
    assert torch.isfinite(traj).all()
    drive = (model.W1.abs() @ model.h2.abs()).max() + model.h1.abs().max()
    bound = drive / (1 - 0.9)  # |z_i| ≤ 0.9 |z_i| + drive at the fixed point of the bound
    assert traj[:, -100:].abs().max() <= bound * 1.01


def test_plrnn_diagonal_stays_zero():
    model = create("plrnn", 2, latent_dim=4)
    with torch.no_grad():
        model.W.fill_(1.0)
    assert torch.all(torch.diagonal(model.weight()) == 0)


def test_alrnn_symbols_and_regions():
    model = create("alrnn", 2, latent_dim=5, n_relu=2)
    z = torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, -1.0, 2.0]])
    assert model.symbols(z).tolist() == [3, 2]
    d = model.slope(z)
    assert d.tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 1]]


def test_init_diagonal_A_in_unit_interval():
    a = init_diagonal_A(10, torch.Generator().manual_seed(0))
    assert torch.all(a > 0) and torch.all(a <= 1)


def test_latent_smaller_than_observed_is_a_clear_error():
    with pytest.raises(ConfigError, match="smaller than the observed dimension"):
        create("shplrnn", 5, latent_dim=3)


def test_unknown_model_suggests_a_name():
    with pytest.raises(UnknownNameError, match="Did you mean 'shplrnn'"):
        create("shplrn", 3)


def test_bad_model_setting_is_a_config_error():
    with pytest.raises(ConfigError):
        create("alrnn", 3, hidden_dim=4)
    with pytest.raises(ConfigError):
        create("alrnn", 3, latent_dim=4, n_relu=9)


def test_encode_observe_roundtrip():
    model = create("alrnn", 3, latent_dim=6)
    x = torch.randn(5, 3)
    torch.testing.assert_close(model.observe(model.encode(x)), x)
