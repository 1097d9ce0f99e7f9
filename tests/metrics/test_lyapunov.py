"""Lyapunov spectra by the QR method: flows, maps, models, and the Kaplan–Yorke dimension."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attractor.errors import AttractorError, ConfigError, DataError
from attractor.metrics.lyapunov import (
    LyapunovResult,
    kaplan_yorke_dimension,
    lyapunov_spectrum,
    lyapunov_spectrum_flow,
    lyapunov_spectrum_map,
)
from attractor.models.base import DynamicalModel
from attractor.models.plrnn import ShallowPLRNN

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
LORENZ_LAMBDA_MAX = 0.9056
HENON_A, HENON_B = 1.4, 0.3
HENON_LAMBDA_MAX = 0.41922  # per iteration


def lorenz(x: np.ndarray) -> np.ndarray:
    x0, x1, x2 = x
    return np.array([SIGMA * (x1 - x0), x0 * (RHO - x2) - x1, x0 * x1 - BETA * x2])


def lorenz_jac(x: np.ndarray) -> np.ndarray:
    x0, x1, x2 = x
    return np.array([[-SIGMA, SIGMA, 0.0], [RHO - x2, -1.0, -x0], [x1, x0, -BETA]])


def henon(x: np.ndarray) -> np.ndarray:
    return np.array([1.0 - HENON_A * x[0] ** 2 + x[1], HENON_B * x[0]])


def henon_jac(x: np.ndarray) -> np.ndarray:
    return np.array([[-2.0 * HENON_A * x[0], 1.0], [HENON_B, 0.0]])


class HenonModel(DynamicalModel):
    """Test-only: the Hénon map as a model; its Jacobian comes from the base class (autograd)."""

    def __init__(self) -> None:
        super().__init__(2, 2)
        self.a = torch.nn.Parameter(torch.tensor(HENON_A))
        self.b = torch.nn.Parameter(torch.tensor(HENON_B))

    def step(self, z: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        return torch.stack([1.0 - self.a * z[:, 0] ** 2 + z[:, 1], self.b * z[:, 0]], dim=-1)


class LinearModel(DynamicalModel):
    """Test-only: ``z' = A z`` with an analytic Jacobian."""

    def __init__(self, a: np.ndarray, obs_dim: int = 1) -> None:
        super().__init__(obs_dim, a.shape[0])
        self.A = torch.nn.Parameter(torch.tensor(a, dtype=torch.float32))

    def step(self, z: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        return z @ self.A.T

    def jacobian(self, z: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        return self.A.expand(z.shape[0], *self.A.shape)


# ---------------------------------------------------------------------- flows
def test_lorenz63_spectrum():
    # 400 time units at dt = 0.02 (RK4), QR every 5 steps; finite-time scatter of λ_max ≈ 1.5 %.
    res = lyapunov_spectrum_flow(
        lorenz,
        lorenz_jac,
        [1.0, 1.0, 1.0],
        dt=0.02,
        n_steps=20_000,
        n_transient=500,
        renorm_every=5,
    )
    lam = res.exponents
    assert lam.shape == (3,)
    assert lam[0] == pytest.approx(LORENZ_LAMBDA_MAX, rel=0.05)
    assert lam[1] == pytest.approx(0.0, abs=0.03)
    assert lam.sum() == pytest.approx(-(SIGMA + 1.0 + BETA), abs=0.01)  # trace of J, constant
    assert res.kaplan_yorke_dimension == pytest.approx(2.06, abs=0.01)
    np.testing.assert_allclose(res.per_step, lam * 0.02)
    assert res.history.shape == (200, 3) and res.history_steps[-1] == 20_000
    np.testing.assert_allclose(res.history[-1], lam)


def test_flow_renormalisation_interval_does_not_change_the_result():
    kw = dict(dt=0.01, n_steps=1500, n_transient=100)
    a = lyapunov_spectrum_flow(lorenz, lorenz_jac, [1.0, 2.0, 20.0], renorm_every=1, **kw)
    b = lyapunov_spectrum_flow(lorenz, lorenz_jac, [1.0, 2.0, 20.0], renorm_every=7, **kw)
    np.testing.assert_allclose(a.exponents, b.exponents, rtol=1e-8)
    c = lyapunov_spectrum_flow(lorenz, lorenz_jac, [1.0, 2.0, 20.0], k=1, **kw)
    assert c.exponents.shape == (1,)
    assert c.exponents[0] == pytest.approx(a.exponents[0], rel=1e-6)


# ---------------------------------------------------------------------- maps
def test_henon_map():
    res = lyapunov_spectrum_map(henon, henon_jac, [0.1, 0.1], n_steps=10_000, n_transient=100)
    assert res.exponents[0] == pytest.approx(HENON_LAMBDA_MAX, rel=0.015)
    assert res.exponents.sum() == pytest.approx(math.log(HENON_B), abs=1e-9)  # |det J| = b
    assert res.dt == 1.0 and res.n_steps == 10_000 and res.n_transient == 100


def test_cat_map_has_the_log_eigenvalues_of_its_matrix():
    # Arnold's cat map on the torus: constant Jacobian [[2, 1], [1, 1]], bounded orbit.
    mat = np.array([[2.0, 1.0], [1.0, 1.0]])
    res = lyapunov_spectrum_map(
        lambda x: (mat @ x) % 1.0, lambda x: mat, [0.1, 0.3], n_steps=500, n_transient=20
    )
    golden = math.log((3 + math.sqrt(5)) / 2)
    np.testing.assert_allclose(res.exponents, [golden, -golden], atol=1e-3)


def test_map_renormalisation_interval_does_not_change_the_result():
    a = lyapunov_spectrum_map(henon, henon_jac, [0.1, 0.1], n_steps=3000, renorm_every=1)
    b = lyapunov_spectrum_map(henon, henon_jac, [0.1, 0.1], n_steps=3000, renorm_every=4)
    np.testing.assert_allclose(a.exponents, b.exponents, rtol=1e-9)


def _linear_map(moduli, angles, seed, triangular):
    """A real matrix with eigenvalue moduli ``moduli`` (2×2 rotation blocks where angle ≠ 0)."""
    rng = np.random.default_rng(seed)
    blocks, expected = [], []
    for r, phi in zip(moduli, angles, strict=True):
        if phi:
            blocks.append(
                r * np.array([[math.cos(phi), -math.sin(phi)], [math.sin(phi), math.cos(phi)]])
            )
            expected += [math.log(r)] * 2
        else:
            blocks.append(np.array([[r * rng.choice([-1.0, 1.0])]]))
            expected.append(math.log(r))
    m = sum(len(b) for b in blocks)
    d = np.zeros((m, m))
    above = np.zeros((m, m), dtype=bool)  # entries right of each diagonal block
    i = 0
    for b in blocks:
        d[i : i + len(b), i : i + len(b)] = b
        above[i : i + len(b), i + len(b) :] = True
        i += len(b)
    if triangular:  # block upper-triangular: same eigenvalues, non-normal
        a = d + np.where(above, rng.standard_normal((m, m)), 0.0)
    else:  # conditioned change of basis: singular values in [1, 3]
        u = np.linalg.qr(rng.standard_normal((m, m)))[0]
        w = np.linalg.qr(rng.standard_normal((m, m)))[0]
        v = u @ np.diag(rng.uniform(1.0, 3.0, m)) @ w
        a = v @ d @ np.linalg.inv(v)
    return a, np.sort(expected)[::-1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.floats(0.2, 1.0), st.sampled_from([0.0, 0.0, 0.7, 2.0])),
        min_size=1,
        max_size=3,
    ),
    st.integers(0, 2**16),
    st.booleans(),
)
def test_linear_map_gives_the_log_moduli_of_its_eigenvalues(blocks, seed, triangular):
    a, expected = _linear_map([b[0] for b in blocks], [b[1] for b in blocks], seed, triangular)
    res = lyapunov_spectrum_map(
        lambda x: a @ x, lambda x: a, np.ones(len(a)), n_steps=2000, n_transient=100
    )
    np.testing.assert_allclose(res.exponents, expected, atol=0.02)
    assert res.exponents.sum() == pytest.approx(math.log(abs(np.linalg.det(a))), abs=1e-6)


def test_exponents_are_sorted_and_the_orbit_is_checked():
    a = np.diag([0.5, 0.9, 0.2])  # Q₀ is random, so the order comes out descending
    res = lyapunov_spectrum_map(lambda x: a @ x, lambda x: a, np.ones(3), n_steps=300)
    np.testing.assert_allclose(res.exponents, np.log([0.9, 0.5, 0.2]), atol=1e-2)
    with pytest.raises(AttractorError, match="non-finite after"), np.errstate(over="ignore"):
        lyapunov_spectrum_map(
            lambda x: 3.0 * x, lambda x: 3.0 * np.eye(2), [1.0, 1.0], n_steps=2000
        )


# ---------------------------------------------------------------------- models
def test_model_spectrum_matches_the_map_spectrum_of_the_same_system():
    model = HenonModel()
    res = lyapunov_spectrum(model, z0=[0.1, 0.1], n_steps=5000, n_transient=100, dt=0.5)
    ref = lyapunov_spectrum_map(henon, henon_jac, [0.1, 0.1], n_steps=5000, n_transient=100)
    # Same system, but float roundoff separates the chaotic orbits: compare statistically.
    assert res.per_step[0] == pytest.approx(ref.exponents[0], rel=0.03)
    assert res.per_step.sum() == pytest.approx(math.log(HENON_B), abs=1e-6)
    np.testing.assert_allclose(res.exponents, res.per_step / 0.5)
    assert model.a.dtype == torch.float32  # the model itself was not cast


def test_model_path_equals_a_step_by_step_map_of_the_same_model():
    torch.manual_seed(3)
    model = ShallowPLRNN(3, 3, 20)
    twin = ShallowPLRNN(3, 3, 20)
    twin.load_state_dict(model.state_dict())
    twin.double()

    def step(x):
        return twin.step(torch.tensor(x)[None])[0].detach().numpy()

    def jac(x):
        return twin.jacobian(torch.tensor(x)[None])[0].detach().numpy()

    z0 = np.array([0.3, -0.2, 0.5])
    res = lyapunov_spectrum(model, z0=z0, n_steps=1500, n_transient=100, renorm_every=2)
    ref = lyapunov_spectrum_map(step, jac, z0, n_steps=1500, n_transient=100, renorm_every=2)
    np.testing.assert_allclose(res.exponents, ref.exponents, rtol=1e-9, atol=1e-12)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_linear_model_start_options_dt_and_history():
    a = np.array([[0.9, 0.3], [0.0, -0.5]])
    model = LinearModel(a)
    expected = np.log([0.9, 0.5]) / 0.01
    for kw in ({}, {"z0": [1.0, 2.0]}, {"x0": [0.7]}):
        res = lyapunov_spectrum(model, n_steps=1000, n_transient=50, dt=0.01, **kw)
        assert isinstance(res, LyapunovResult)
        np.testing.assert_allclose(res.exponents, expected, rtol=2e-3)
    assert res.history.shape == (10, 2)
    np.testing.assert_array_equal(res.history_steps, np.arange(100, 1001, 100))
    assert res.lambda_max == res.exponents[0]
    one = lyapunov_spectrum(model, n_steps=1000, k=1, dt=0.01)
    assert one.exponents.shape == (1,) and one.exponents[0] == pytest.approx(expected[0], rel=2e-3)


def test_model_bad_input():
    model = LinearModel(np.eye(2) * 0.5)
    with pytest.raises(ConfigError, match="at most one"):
        lyapunov_spectrum(model, z0=[1.0, 1.0], x0=[1.0])
    with pytest.raises(ConfigError, match="k \\(number of exponents\\)"):
        lyapunov_spectrum(model, k=3)
    with pytest.raises(ConfigError, match="n_steps"):
        lyapunov_spectrum(model, n_steps=0)
    with pytest.raises(ConfigError, match="dt"):
        lyapunov_spectrum(model, dt=-1.0)
    with pytest.raises(DataError, match="latent size is 2"):
        lyapunov_spectrum(model, z0=[1.0, 2.0, 3.0])
    with pytest.raises(AttractorError, match="non-finite"):
        lyapunov_spectrum(LinearModel(np.eye(2) * 4.0), n_steps=2000, n_transient=0)


# ---------------------------------------------------------------------- Kaplan–Yorke
@pytest.mark.parametrize(
    ("spectrum", "expected"),
    [
        ([0.9056, 0.0, -14.5723], 2 + 0.9056 / 14.5723),  # Lorenz-63
        ([1.0, 0.0, -2.0], 2.5),
        ([-2.0, 1.0, 0.0], 2.5),  # order does not matter
        ([0.5, -1.0], 1.5),
        ([0.42, -1.62], 1 + 0.42 / 1.62),  # Hénon
        ([-0.1, -1.0], 0.0),  # a stable fixed point
        ([0.0, -1.0], 1.0),  # a limit cycle
        ([1.0, 1.0], 2.0),  # volume-expanding: the whole space
        ([0.5, -np.inf], 1.0),  # a singular Jacobian
    ],
)
def test_kaplan_yorke_dimension(spectrum, expected):
    assert kaplan_yorke_dimension(spectrum) == pytest.approx(expected)


def test_kaplan_yorke_rejects_nan():
    with pytest.raises(DataError):
        kaplan_yorke_dimension([0.5, np.nan])
    with pytest.raises(DataError):
        kaplan_yorke_dimension([])
