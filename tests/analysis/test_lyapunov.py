"""Lyapunov spectra with convergence reporting, stability types, and the true system (dysts)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.analysis.lyapunov import (
    N_BLOCKS,
    SpectrumReport,
    compare_spectra,
    model_spectrum,
    report_from_result,
)
from attractor.analysis.stability import classify_flow, classify_map, flow_equivalent
from attractor.analysis.truesystem import true_equilibria, true_spectrum
from attractor.errors import ConfigError
from attractor.metrics.lyapunov import LyapunovResult
from attractor.models.base import DynamicalModel

pytestmark = pytest.mark.usefixtures("one_thread")


class LinearMap(DynamicalModel):
    """Test-only ``z' = A z`` with an analytic Jacobian."""

    kind = "linear-test"

    def __init__(self, a: np.ndarray) -> None:
        super().__init__(1, a.shape[0])
        self.A = torch.nn.Parameter(torch.tensor(a))

    def step(self, z, s=None):
        return z @ self.A.T

    def jacobian(self, z, s=None):
        return self.A.expand(z.shape[0], *self.A.shape)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(2, 4))
def test_spectrum_of_a_linear_map_is_the_log_moduli_of_its_eigenvalues(seed, m):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(m, m)))
    moduli = np.sort(rng.uniform(0.3, 1.2, size=m))[::-1]
    while np.min(np.diff(-moduli)) < 0.05:  # distinct moduli
        moduli = np.sort(rng.uniform(0.3, 1.2, size=m))[::-1]
    a = q @ np.diag(moduli) @ q.T  # symmetric: eigenvalues = moduli
    dt = 0.1
    rep = model_spectrum(LinearMap(a), dt=dt, n_steps=2000, n_transient=200, seed=seed)
    np.testing.assert_allclose(rep.exponents, np.log(moduli) / dt, atol=2e-2 / dt)
    assert rep.converged
    assert np.all(rep.stderr < 1e-3 / dt)  # a linear map has no fluctuations
    assert rep.kaplan_yorke == pytest.approx(_ky(np.log(moduli)), abs=5e-2)


def _ky(lam: np.ndarray) -> float:
    """Independent Kaplan–Yorke dimension for a sorted spectrum."""
    total = 0.0
    for j, v in enumerate(lam):
        if total + v < 0:
            return j + total / abs(v)
        total += v
    return float(len(lam))


def _synthetic(blocks: np.ndarray, per_block: int, dt: float = 1.0) -> LyapunovResult:
    """A result whose running means come from known per-step exponents in ``blocks`` ``(B, k)``,
    recorded every ``per_block // 2`` steps."""
    every = per_block // 2
    steps, hist, total = [], [], np.zeros(blocks.shape[1])
    for b in blocks:
        for _ in range(2):
            total = total + b * every
            steps.append(len(steps) * every + every)
            hist.append(total / steps[-1])
    final = hist[-1]
    return LyapunovResult(
        exponents=final / dt,
        per_step=final,
        history=np.array(hist) / dt,
        history_steps=np.array(steps),
        dt=dt,
        n_steps=steps[-1],
        n_transient=0,
    )


def test_batch_means_standard_error_and_drift_are_exact_for_known_blocks():
    rng = np.random.default_rng(1)
    blocks = np.column_stack([0.9 + 0.1 * rng.normal(size=N_BLOCKS), -np.ones(N_BLOCKS)])
    rep = report_from_result(_synthetic(blocks, 100))
    expected = blocks.std(axis=0, ddof=1) / math.sqrt(N_BLOCKS)
    np.testing.assert_allclose(rep.stderr, expected, rtol=1e-10, atol=1e-12)
    half = blocks[: N_BLOCKS // 2].mean(0)
    np.testing.assert_allclose(rep.drift, np.abs(blocks.mean(0) - half), atol=1e-12)


def test_a_still_moving_estimate_is_flagged_not_converged():
    steady = np.tile([[1.0, -1.0]], (N_BLOCKS, 1))
    assert report_from_result(_synthetic(steady, 100)).converged
    rising = np.column_stack([np.linspace(0.2, 2.0, N_BLOCKS), -np.ones(N_BLOCKS)])
    rep = report_from_result(_synthetic(rising, 100))
    assert not rep.converged and rep.drift[0] > 0.3


def test_report_round_trips_through_json_dict():
    rep = report_from_result(_synthetic(np.tile([[0.5, -2.0]], (N_BLOCKS, 1)), 40, dt=0.1))
    back = SpectrumReport.from_dict(rep.to_dict(history=True))
    np.testing.assert_array_equal(back.exponents, rep.exponents)
    np.testing.assert_array_equal(back.history, rep.history)
    assert back.converged == rep.converged and back.dt == rep.dt


def test_compare_spectra_rows_and_relative_error():
    model = report_from_result(_synthetic(np.tile([[1.0, 0.0, -10.0]], (N_BLOCKS, 1)), 40))
    true = report_from_result(_synthetic(np.tile([[0.8, 0.0, -14.0]], (N_BLOCKS, 1)), 40))
    cmp = compare_spectra(model, true, dysts_spectrum=[1.09, 0.03, -14.9], dysts_lambda_max=0.89)
    assert [r["index"] for r in cmp["rows"]] == [1, 2, 3]
    assert cmp["rows"][2]["true"] == pytest.approx(-14.0) and cmp["rows"][0]["dysts"] == 1.09
    assert cmp["lambda_max_relative_error"] == pytest.approx(0.25)
    assert "approximate" in cmp["note"]


# ---------------------------------------------------------------------- stability
def test_stability_types_of_maps():
    assert classify_map([0.5, 0.2]).type == "stable node"
    assert classify_map([0.5 + 0.5j, 0.5 - 0.5j, 0.1]).type == "stable focus"
    s = classify_map([1.5, 0.3])
    assert (s.type, s.n_unstable, s.n_stable) == ("saddle", 1, 1)
    assert classify_map([1.01 + 0.2j, 1.01 - 0.2j, 0.8]).type == "saddle-focus"
    assert classify_map([2.0, 3.0]).type == "unstable node"
    assert classify_map([1.0, 0.5]).type == "non-hyperbolic"
    assert classify_map([-2.0, 0.5]).flip and not classify_map([2.0, 0.5]).flip


def test_flow_equivalent_inverts_the_sampled_exponential():
    nu = np.array([0.094 + 10.2j, -13.85, 11.83])
    dt = 0.01
    np.testing.assert_allclose(flow_equivalent(np.exp(nu * dt), dt), nu, rtol=1e-12)
    assert classify_map(np.exp(nu * dt)).type == classify_flow(nu).type == "saddle-focus"


# ---------------------------------------------------------------------- the true system
def test_lorenz_equilibria_are_the_analytic_ones_with_their_types():
    eq, how = true_equilibria("lorenz63")
    assert "analytic" in how
    beta, rho = 2.667, 28.0  # dysts' parameters
    r = math.sqrt(beta * (rho - 1))
    expected = {
        (0.0, 0.0, 0.0): "saddle",
        (r, r, rho - 1): "saddle-focus",
        (-r, -r, rho - 1): "saddle-focus",
    }
    assert len(eq) == 3
    for e in eq:
        key = min(expected, key=lambda k: np.linalg.norm(np.array(k) - e.point))
        np.testing.assert_allclose(e.point, key, atol=1e-8)
        assert e.stability.type == expected[key]
    origin = next(e for e in eq if np.abs(e.point).max() < 1e-8)
    lam = np.sort(origin.eigenvalues.real)  # −β and (−11 ± √(81 + 40ρ))/2
    disc = math.sqrt(81 + 40 * rho)
    np.testing.assert_allclose(lam, np.sort([-beta, (-11 - disc) / 2, (-11 + disc) / 2]))


def test_lorenz_true_spectrum_from_the_equations():
    rep = true_spectrum("Lorenz", periods=60)  # 90 time units: a few % finite-time scatter
    lam1, lam2, lam3 = rep.exponents
    assert abs(lam1 - 0.9056) < 3 * rep.stderr[0] + 0.02
    assert abs(lam2) < 0.05
    assert lam3 == pytest.approx(-14.57, abs=0.2)
    assert rep.exponents.sum() == pytest.approx(-(10 + 1 + 2.667), abs=1e-3)  # = trace of Df


def test_true_system_refuses_delay_equations():
    with pytest.raises(ConfigError, match="delay"):
        true_equilibria("MackeyGlass")
