"""Newton (DEER) solves of h_t = f(h_{t−1}, u_t): exact in one iteration for linear f, equal to
the sequential loop for nonlinear f with every method, and an honest, reported fallback."""

from __future__ import annotations

import warnings

import pytest
import torch

from attractor.errors import ConfigError
from attractor.parallel.newton import (
    NewtonFallbackWarning,
    newton_solve,
    sequential_solve,
)


def linear_problem(b=3, t=200, m=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(m, m, generator=g, dtype=torch.float64) * 0.6 / m**0.5
    u = torch.randn(b, t, m, generator=g, dtype=torch.float64)
    h0 = torch.randn(b, m, generator=g, dtype=torch.float64)

    def step(h, ut):
        return h @ a.T + ut

    def jac(h, ut):
        return a.expand(h.shape[0], m, m)

    return step, jac, h0, u


def tanh_rnn(b=3, t=300, m=5, seed=1, gain=0.9):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(m, m, generator=g, dtype=torch.float64) * gain / m**0.5
    u = torch.randn(b, t, m, generator=g, dtype=torch.float64)
    h0 = torch.randn(b, m, generator=g, dtype=torch.float64)

    def step(h, ut):
        return torch.tanh(h @ w.T + ut)

    def jac(h, ut):
        d = 1 - step(h, ut) ** 2
        return d[:, :, None] * w

    return step, jac, h0, u


def test_linear_recurrence_is_exact_after_one_iteration():
    step, jac, h0, u = linear_problem()
    res = newton_solve(step, jac, h0, [u])
    assert res.converged and not res.fallback
    assert res.iterations == 1
    assert res.residuals[-1] < 1e-12
    torch.testing.assert_close(res.states, sequential_solve(step, h0, [u], u.shape[1]))


@pytest.mark.parametrize("method", ["newton", "quasi", "damped"])
def test_nonlinear_recurrence_matches_the_loop(method):
    step, jac, h0, u = tanh_rnn()
    res = newton_solve(step, jac, h0, [u], method=method, max_iter=200)
    ref = sequential_solve(step, h0, [u], u.shape[1])
    assert res.converged and not res.fallback
    torch.testing.assert_close(res.states, ref, rtol=1e-10, atol=1e-10)
    assert len(res.residuals) == res.iterations + 1
    if method == "newton":  # quadratic convergence: a handful of iterations
        assert res.iterations <= 10
        assert res.residuals[-1] < 1e-3 * res.residuals[-2]


def test_quasi_newton_needs_more_iterations_than_newton():
    step, jac, h0, u = tanh_rnn(gain=1.2)
    full = newton_solve(step, jac, h0, [u])
    quasi = newton_solve(step, jac, h0, [u], method="quasi", max_iter=300)
    assert full.converged and quasi.converged
    assert quasi.iterations > full.iterations


def test_chunked_evaluation_gives_the_same_answer():
    step, jac, h0, u = tanh_rnn(t=101)
    whole = newton_solve(step, jac, h0, [u])
    for chunk in (1, 7, 64):
        part = newton_solve(step, jac, h0, [u], chunk=chunk)
        torch.testing.assert_close(part.states, whole.states, rtol=1e-14, atol=1e-14)
        assert part.iterations == whole.iterations


def test_step_and_jacobian_together():
    step, jac, h0, u = tanh_rnn(t=50)
    res = newton_solve(step, None, h0, [u], step_and_jacobian=lambda h, x: (step(h, x), jac(h, x)))
    torch.testing.assert_close(res.states, sequential_solve(step, h0, [u], 50))
    # values and Jacobians at the solution are kept (time-major) for a backward pass
    assert res.values.shape == (50, 3, 5) and res.jacobians.shape == (50, 3, 5, 5)


def chaotic_sine(b=2, t=200):
    """The sine map h' = 0.97 sin(πh), chaotic on [0, 1]: Newton from a constant guess
    converges only slowly (|J| up to 3 makes the linearised products grow like 3^t)."""
    h0 = torch.tensor([[0.2], [0.6]], dtype=torch.float64)[:b]

    def step(h):
        return 0.97 * torch.sin(torch.pi * h)

    def jac(h):
        return 0.97 * torch.pi * torch.cos(torch.pi * h)

    return step, jac, h0, t


def test_fallback_to_sequential_is_reported():
    step, jac, h0, t = chaotic_sine()
    with pytest.warns(NewtonFallbackWarning, match="sequentially"):
        res = newton_solve(step, jac, h0, (), t, structure="diagonal", max_iter=5)
    assert res.fallback and not res.converged
    assert res.iterations == 5 and len(res.residuals) == 6
    torch.testing.assert_close(res.states, sequential_solve(step, h0, (), t), rtol=0, atol=0)


def test_no_fallback_returns_the_unconverged_iterate():
    step, jac, h0, t = chaotic_sine()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = newton_solve(step, jac, h0, (), t, structure="diagonal", max_iter=3, fallback=False)
    assert not res.converged and not res.fallback
    assert res.residuals[-1] > 1e-3


def test_newton_is_exact_after_at_most_t_iterations():
    """Even for the chaotic map: after k iterations the first k steps are exact (DEER's fact)."""
    step, jac, h0, _ = chaotic_sine(t=12)
    res = newton_solve(step, jac, h0, (), 12, structure="diagonal", max_iter=12)
    assert res.converged and res.iterations <= 12
    torch.testing.assert_close(res.states, sequential_solve(step, h0, (), 12))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "secant"}, "Newton method"),
        ({"structure": "sparse"}, "structure"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs, match):
    step, jac, h0, u = linear_problem(t=5)
    with pytest.raises(ConfigError, match=match):
        newton_solve(step, jac, h0, [u], **kwargs)


def test_missing_length_is_a_clear_error():
    step, jac, h0, _ = chaotic_sine()
    with pytest.raises(ConfigError, match="t_len"):
        newton_solve(step, jac, h0, ())


def test_a_non_finite_residual_in_a_late_block_stops_newton_and_falls_back():
    """A NaN anywhere (here in the last evaluation block, after finite ones) ends Newton at
    once and the trajectory is evaluated sequentially; the NaN is the recorded residual."""
    t_len, b, m = 64, 2, 3
    u = torch.rand(b, t_len, m, dtype=torch.float64) * 0.2

    def step(h, ut):  # NaN only where the previous state is far below the true trajectory
        return torch.where(h < -0.5, torch.nan, 0.5 * h + ut)

    def jac(h, ut):
        return torch.full_like(h, 0.5)

    init = torch.zeros(b, t_len, m, dtype=torch.float64)
    init[:, -3] = -1.0  # poisons the last block's evaluation only
    with pytest.warns(NewtonFallbackWarning):
        res = newton_solve(
            step,
            jac,
            torch.zeros(b, m, dtype=torch.float64),
            [u],
            structure="diagonal",
            init=init,
            chunk=8,
        )
    assert res.fallback and res.iterations == 0 and res.residuals[0] != res.residuals[0]
    torch.testing.assert_close(
        res.states, sequential_solve(step, torch.zeros(b, m, dtype=torch.float64), [u], t_len)
    )
