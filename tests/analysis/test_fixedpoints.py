"""Fixed points and cycles: exact search on hand-built piecewise-linear maps with known answers,
agreement with an independent brute-force enumeration on random small PLRNN/AL-RNN/shPLRNNs,
and the optimisation-based finder on smooth maps with analytic fixed points."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from attractor.analysis.fixedpoints import find_orbits
from attractor.analysis.piecewise import piecewise_linear_form
from attractor.errors import ConfigError
from attractor.models import ALRNN, PLRNN, ShallowPLRNN
from attractor.models.base import DynamicalModel
from toymodels import AffineModel, bistable_gru

pytestmark = pytest.mark.usefixtures("one_thread")


def alrnn_1d(a: float, w: float, h: float) -> ALRNN:
    """z' = a z + w ReLU(z) + h: slope a for z ≤ 0 and a + w for z > 0."""
    m = ALRNN(1, 1, n_relu=1)
    with torch.no_grad():
        m.A.fill_(a)
        m.W.fill_(w)
        m.h.fill_(h)
    return m


def points(search) -> list[np.ndarray]:
    return [o.points for o in search.orbits]


def same_orbit(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    return len(a) == len(b) and any(
        np.abs(np.roll(a, r, axis=0) - b).max() <= tol for r in range(len(a))
    )


def same_sets(found: list[np.ndarray], expected: list[np.ndarray]) -> bool:
    return len(found) == len(expected) and all(
        any(same_orbit(f, e) for f in found) for e in expected
    )


# ---------------------------------------------------------------------- hand-built maps
@pytest.mark.parametrize("method", ["exhaustive", "scyfi"])
def test_two_fixed_points_one_stable_one_unstable(method):
    # slope 0.5 on z ≤ 0, 1.5 on z > 0, h = −0.25: z* = −0.5 (stable) and z* = 0.5 (unstable)
    res = find_orbits(alrnn_1d(0.5, 1.0, -0.25), 1, method=method, n_inits=50)
    assert same_sets(points(res), [np.array([[-0.5]]), np.array([[0.5]])])
    by_z = {round(float(o.points[0, 0]), 6): o for o in res.orbits}
    assert by_z[-0.5].stability.stable and by_z[-0.5].stability.type == "stable node"
    assert by_z[0.5].stability.n_unstable == 1 and by_z[0.5].stability.type == "unstable node"
    np.testing.assert_allclose(by_z[0.5].multipliers.real, [1.5])
    assert max(o.residual for o in res.orbits) < 1e-12
    assert res.exhaustive == (method == "exhaustive")


@pytest.mark.parametrize("period", [1, 2, 3])
@pytest.mark.parametrize("method", ["exhaustive", "scyfi"])
def test_map_without_fixed_points_or_cycles(period, method):
    # z' = 0.5 z + 1 (z ≤ 0) and 2 z + 1 (z > 0): F(z) > z everywhere, so no orbit of any period
    res = find_orbits(alrnn_1d(0.5, 1.5, 1.0), period, method=method, n_inits=50)
    assert res.orbits == []


@pytest.mark.parametrize("method", ["exhaustive", "scyfi"])
def test_known_fixed_point_and_two_cycle(method):
    # slopes −4 (z ≤ 0) and −0.5 (z > 0), h = 1: fixed point 2/3; 2-cycle {−0.5, 3}, μ = 2
    model = alrnn_1d(-4.0, 3.5, 1.0)
    fp = find_orbits(model, 1, method=method, n_inits=50)
    assert same_sets(points(fp), [np.array([[2.0 / 3.0]])])
    assert fp.orbits[0].stability.flip
    cy = find_orbits(model, 2, method=method, n_inits=50)
    assert same_sets(points(cy), [np.array([[-0.5], [3.0]])])
    (orbit,) = cy.orbits
    np.testing.assert_allclose(orbit.multipliers.real, [2.0], rtol=1e-9)
    assert orbit.kind == "2-cycle" and orbit.regions in ([0, 1], [1, 0])


def test_decoupled_product_map_has_the_product_orbits():
    # two uncoupled copies of the map above: 1 fixed point and 4 two-cycles
    # (fixed point × cycle, cycle × fixed point, and the cycle × cycle in its two phases)
    model = ALRNN(2, 2, n_relu=2)
    with torch.no_grad():
        model.A.fill_(-4.0)
        model.W.copy_(torch.diag(torch.tensor([3.5, 3.5])))
        model.h.fill_(1.0)
    fp, c, lo, hi = 2.0 / 3.0, None, -0.5, 3.0
    del c
    expected_fp = [np.array([[fp, fp]])]
    expected_cycles = [
        np.array([[fp, lo], [fp, hi]]),
        np.array([[lo, fp], [hi, fp]]),
        np.array([[lo, lo], [hi, hi]]),
        np.array([[lo, hi], [hi, lo]]),
    ]
    for method in ("exhaustive", "scyfi"):
        assert same_sets(points(find_orbits(model, 1, method=method)), expected_fp)
        assert same_sets(points(find_orbits(model, 2, method=method)), expected_cycles)


def test_exhaustive_refuses_an_infeasible_enumeration_and_auto_falls_back():
    model = ShallowPLRNN(3, 3, hidden_dim=40)
    with pytest.raises(ConfigError, match="heuristic"):
        find_orbits(model, 1, method="exhaustive")
    res = find_orbits(model, 1, n_inits=200)
    assert res.method == "scyfi" and not res.exhaustive and "heuristic" in res.statement


# ---------------------------------------------------------------------- brute force
def reference_pieces(model, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """J and c of one activation pattern straight from the REFERENCE §1 formulas."""
    p = {k: v.detach().double().numpy() for k, v in model.named_parameters()}
    if isinstance(model, ALRNN):
        k = model.latent_dim - model.n_relu
        dd = np.concatenate([np.ones(k), d])
        return np.diag(p["A"]) + p["W"] @ np.diag(dd), p["h"]
    if isinstance(model, PLRNN):
        w = p["W"] * (1 - np.eye(model.latent_dim))
        return np.diag(p["A"]) + w @ np.diag(d), p["h"]
    n_l = model.hidden_dim
    a, b = (d[:n_l], d[n_l:]) if model.clipped else (d, np.zeros(n_l))
    jac = np.diag(p["A"]) + p["W1"] @ np.diag(a - b) @ p["W2"]
    return jac, p["h1"] + p["W1"] @ (a * p["h2"])


def reference_pattern(model, z: np.ndarray) -> np.ndarray:
    zt = torch.as_tensor(z[None], dtype=torch.float64)
    if isinstance(model, ALRNN):
        return (z[model.latent_dim - model.n_relu :] > 0).astype(float)
    if isinstance(model, PLRNN):
        return (z > 0).astype(float)
    twin = model.double()
    u = (zt @ twin.W2.T)[0].detach().numpy()
    a = (u + twin.h2.detach().numpy() > 0).astype(float)
    return np.concatenate([a, (u > 0).astype(float)]) if model.clipped else a


def brute_force(model, period: int) -> list[np.ndarray]:
    """Every isolated ``period``-cycle by solving all pattern sequences (independent code)."""
    n_bits = {ALRNN: lambda m: m.n_relu, PLRNN: lambda m: m.latent_dim}.get(
        type(model), lambda m: m.hidden_dim * (2 if m.clipped else 1)
    )(model)
    pats = [np.array(p, dtype=float) for p in itertools.product([0, 1], repeat=n_bits)]
    m = model.latent_dim
    twin = model.double()
    found: list[np.ndarray] = []
    for seq in itertools.product(pats, repeat=period):
        pieces = [reference_pieces(model, d) for d in seq]
        prod, q = np.eye(m), np.zeros(m)
        for jac, c in pieces:
            prod, q = jac @ prod, jac @ q + c
        if np.linalg.cond(np.eye(m) - prod) > 1e12:
            continue
        z = [np.linalg.solve(np.eye(m) - prod, q)]
        for jac, c in pieces[:-1]:
            z.append(jac @ z[-1] + c)
        z = np.array(z)
        if not all((reference_pattern(model, zj) == d).all() for zj, d in zip(z, seq, strict=True)):
            continue
        with torch.no_grad():
            nxt = twin.step(torch.as_tensor(z)).numpy()
        assert np.abs(nxt - np.roll(z, -1, axis=0)).max() < 1e-8  # really an orbit of F
        if any(np.abs(z[j] - z[0]).max() < 1e-9 for j in range(1, period)):
            continue  # lower period
        if not any(same_orbit(f, z) for f in found):
            found.append(z)
    return found


def random_model(family: str, seed: int, dims: tuple[int, int]) -> DynamicalModel:
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    m, k = dims
    if family == "alrnn":
        model = ALRNN(1, m, n_relu=min(k, m))
    elif family == "plrnn":
        model = PLRNN(1, m)
    else:
        model = ShallowPLRNN(1, m, hidden_dim=k, clipped=family == "shplrnn-clipped")
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "A":
                p.copy_(torch.rand(p.shape, generator=g) * 1.8 - 0.9)
            elif name != "L":
                p.copy_(torch.randn(p.shape, generator=g))
    return model.double()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(["alrnn", "plrnn", "shplrnn-clipped", "shplrnn-plain"]),
    seed=st.integers(0, 2**31 - 1),
    m=st.integers(2, 3),
    k=st.integers(1, 3),
    period=st.integers(1, 2),
)
def test_exact_search_misses_nothing_brute_force_finds(family, seed, m, k, period):
    model = random_model(family, seed, (m, k))
    expected = brute_force(model, period)
    exhaustive = find_orbits(model, period, method="exhaustive")
    assert exhaustive.exhaustive
    assert same_sets(points(exhaustive), expected)
    heuristic = find_orbits(model, period, method="scyfi", n_inits=400, seed=seed % 1000)
    found = points(heuristic)
    assert all(any(same_orbit(f, e) for e in expected) for f in found)  # no false orbits
    if period == 1:
        assert same_sets(found, expected)  # small problems: SCYFI finds every fixed point


@pytest.mark.parametrize("family", ["alrnn", "plrnn", "shplrnn-clipped", "shplrnn-plain"])
def test_piecewise_form_is_the_model(family):
    model = random_model(family, 7, (3, 2))
    form = piecewise_linear_form(model)
    z = torch.randn(64, 3, dtype=torch.float64)
    with torch.no_grad():
        np.testing.assert_allclose(form.step(z.numpy()), model.step(z).numpy(), atol=1e-12)
        np.testing.assert_allclose(form.jacobian(z.numpy()), model.jacobian(z).numpy(), atol=1e-12)


# ---------------------------------------------------------------------- smooth models
def test_smooth_finder_recovers_the_fixed_point_of_an_affine_map():
    a = np.array([[0.5, 0.3, 0.0], [0.0, 1.6, 0.2], [0.1, 0.0, -0.4]])
    b = np.array([1.0, -2.0, 0.5])
    model = AffineModel(a, b)
    starts = np.random.default_rng(0).normal(size=(20, 3)) * 3
    res = find_orbits(model, 1, states=starts)
    assert res.method == "optimisation" and not res.exhaustive
    (orbit,) = res.orbits
    np.testing.assert_allclose(orbit.points[0], np.linalg.solve(np.eye(3) - a, b), atol=1e-8)
    np.testing.assert_allclose(
        np.sort_complex(orbit.multipliers), np.sort_complex(np.linalg.eigvals(a)), atol=1e-10
    )
    assert orbit.stability.type == "saddle" and orbit.stability.n_unstable == 1
    assert not orbit.slow


def test_smooth_finder_recovers_all_nine_fixed_points_of_a_bistable_gru():
    model = bistable_gru()
    root = brentq(lambda h: h - np.tanh(2 * h), 0.5, 2.0)  # h = tanh(2h): ≈ 0.9575
    grid = np.array(list(itertools.product(np.linspace(-1.2, 1.2, 7), repeat=2)))
    res = find_orbits(model, 1, states=grid, n_starts=len(grid))
    expected = [np.array([[x, y]]) for x in (-root, 0, root) for y in (-root, 0, root)]
    assert same_sets([o.points for o in res.orbits], expected)
    types = sorted(o.stability.type for o in res.orbits)
    assert types == ["saddle"] * 4 + ["stable node"] * 4 + ["unstable node"]
    for o in res.orbits:  # per unit multiplier ½(1 − h²)·2 + ½ (analytic)
        mu = np.sort(0.5 * (1 - o.points[0] ** 2) * 2 + 0.5)
        np.testing.assert_allclose(np.sort(o.multipliers.real), mu, atol=1e-8)


class SlowModel(DynamicalModel):
    """Test-only: ``z' = z + ε + z²`` has no fixed point, only a slow point at 0 (speed ε)."""

    kind = "slow-test"

    def __init__(self, eps: float) -> None:
        super().__init__(1, 1)
        self.eps = eps

    def step(self, z, s=None):
        return z + self.eps + z**2


def test_smooth_finder_labels_a_ghost_as_a_slow_point():
    res = find_orbits(SlowModel(1e-5), 1, states=np.linspace(-0.5, 0.5, 11)[:, None])
    assert res.orbits, "the slow point was not found"
    assert all(o.slow and o.kind == "slow point" for o in res.orbits)
    assert abs(res.orbits[0].points[0, 0]) < 1e-2
    assert res.orbits[0].residual == pytest.approx(1e-5, rel=1e-2)


def test_exact_methods_refuse_smooth_models():
    with pytest.raises(ConfigError, match="piecewise-linear"):
        find_orbits(bistable_gru(), 1, method="scyfi")
