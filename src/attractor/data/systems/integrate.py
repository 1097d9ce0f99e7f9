"""Fast, controlled integration of dysts right-hand sides: DOP853, LSODA where stiff, and DDEs.

ODEs ``ẋ = f(x, t; θ)`` are integrated by ``scipy.integrate.solve_ivp(method="DOP853")`` at
``rtol = atol = 1e-10``, much faster than dysts' own Radau at 1e-12 with the same attractor
statistics (see :mod:`attractor.data.systems`).

Delay systems are integrated by the method of steps: on each interval ``[kτ, (k+1)τ]`` the
delayed term is known — the constant history for ``k = 0``, the previous interval's
7th-order dense output otherwise — so the DDE is an ODE there, solved with DOP853 at the same
tolerances. The intervals end exactly at the breakpoints ``kτ`` where the solution's
derivatives jump, so the solver never steps across a discontinuity; against a fine fixed-step
RK4 reference the two agree to ~1e-10 before chaos amplifies the difference. dysts' own path
(``ddeint``: an ``scipy.integrate.ode`` stepper that only steps between sampling points and
reads the delayed state from a linear interpolant of those samples, rebuilt every step) takes
~2 s per 10,000 MackeyGlass points, ours ~0.6 s; more importantly its delayed value carries an
O(h²) interpolation error in the sampling step h, so its dynamics change with
``pts_per_period``, while ours do not.

A few systems turn stiff in places (e.g. CellCycle or BlinkingVortex from some initial
conditions), where an explicit solver crawls. DOP853 therefore gives up once it needs more than
``STIFF_EVALS_PER_SAMPLE`` right-hand-side evaluations per sampling interval (Lorenz needs ~11)
and the trajectory is recomputed with LSODA (stiff/non-stiff switching, same tolerances);
``meta["method"]`` says which one produced the values.
"""

from __future__ import annotations

import bisect
import os
import time
from typing import Any

import numpy as np

from attractor.errors import ConfigError, DataError

#: Explicit Runge–Kutta method of ``scipy.integrate.solve_ivp`` used for every system.
METHOD = "DOP853"
#: Relative and absolute tolerances of the integration.
RTOL = 1e-10
ATOL = 1e-10
#: Implicit-capable fallback used where DOP853 turns out stiff (scipy's LSODA, same tolerances).
FALLBACK_METHOD = "LSODA"
#: DOP853 counts as stiff when it needs more right-hand-side evaluations than this per sampling
#: interval (after a grace of STIFF_GRACE evaluations); Lorenz needs ~11.
STIFF_EVALS_PER_SAMPLE = 500
STIFF_GRACE = 50_000
#: Wall-clock limit (seconds) for integrating one trajectory, both methods together; a system
#: whose right-hand side is non-smooth or extremely stiff (e.g. StickSlipOscillator, where LSODA
#: at 1e-10 crawls) fails with a clear error instead of blocking a sweep for hours. Override with
#: the environment variable ``ATTRACTOR_MAX_INTEGRATION_SECONDS``.
MAX_INTEGRATION_SECONDS = 300.0
MAX_SECONDS_ENV = "ATTRACTOR_MAX_INTEGRATION_SECONDS"
#: The clock is read every this many right-hand-side evaluations.
DEADLINE_CHECK_EVERY = 2_000


# ---------------------------------------------------------------------------- integration
class _Stiff(Exception):
    """DOP853 needed more right-hand-side evaluations than the stiffness budget allows."""


def _guarded(fun: Any, h: float, t_start: float = 0.0) -> Any:
    """``fun`` that raises _Stiff once it is called more than ``STIFF_EVALS_PER_SAMPLE`` times per
    sampling interval ``h`` of progress (after ``STIFF_GRACE`` calls)."""
    count = 0

    def guarded(t: float, y: np.ndarray) -> Any:
        nonlocal count
        count += 1
        if count > STIFF_GRACE and count > STIFF_EVALS_PER_SAMPLE * (t - t_start) / h:
            raise _Stiff
        return fun(t, y)

    return guarded


class _TooSlow(Exception):
    """The integration ran past its wall-clock limit."""


def _max_seconds() -> float:
    raw = os.environ.get(MAX_SECONDS_ENV)
    if raw is None:
        return MAX_INTEGRATION_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{MAX_SECONDS_ENV} must be a number of seconds, got {raw!r}.") from None
    if not value > 0:
        raise ConfigError(f"{MAX_SECONDS_ENV} must be positive, got {raw!r}.")
    return value


def _with_deadline(fun: Any, deadline: float) -> Any:
    """``fun`` that raises _TooSlow once ``time.perf_counter()`` passes ``deadline``."""
    count = 0

    def timed(t: float, y: np.ndarray) -> Any:
        nonlocal count
        count += 1
        if count % DEADLINE_CHECK_EVERY == 0 and time.perf_counter() > deadline:
            raise _TooSlow
        return fun(t, y)

    return timed


def _fail(name: str, t_end: float, message: str) -> DataError:
    return DataError(
        f"integrating {name} up to t = {t_end:.6g} failed ({message.rstrip('.')}); "
        "try another seed or initial condition."
    )


def _integrate_ode(
    system: Any, y0: np.ndarray, t_eval: np.ndarray, h: float
) -> tuple[np.ndarray, str]:
    """Integrate ``ẋ = system.rhs(x, t)`` from ``y0`` at ``t = 0``; the states at ``t_eval``.

    Returns ``(T, D)`` values and the method that produced them. DOP853 first; if it turns
    out stiff (see ``STIFF_EVALS_PER_SAMPLE``) the whole trajectory is recomputed with
    ``FALLBACK_METHOD``. Applies dysts' ``_postprocessing`` where the system has one.
    """
    from scipy.integrate import solve_ivp

    def fun(t: float, y: np.ndarray) -> Any:
        return system.rhs(y, t)

    name = type(system).__name__
    t_end = float(t_eval[-1])
    limit = _max_seconds()
    deadline = time.perf_counter() + limit
    for method in (METHOD, FALLBACK_METHOD):
        f = _with_deadline(_guarded(fun, h) if method == METHOD else fun, deadline)
        try:
            with np.errstate(all="ignore"):
                sol = solve_ivp(
                    f, (0.0, t_end), y0, method=method, t_eval=t_eval, rtol=RTOL, atol=ATOL
                )
        except _Stiff:
            continue
        except _TooSlow:
            raise _fail(
                name,
                t_end,
                f"{method} did not finish within {limit:g} s; the right-hand side is probably "
                f"non-smooth or very stiff. Ask for fewer samples, or raise {MAX_SECONDS_ENV}",
            ) from None
        if sol.status != 0 or np.shape(sol.y)[-1] != len(t_eval):
            raise _fail(name, t_end, sol.message)
        break
    y = sol.y
    if hasattr(system, "_postprocessing"):
        with np.errstate(all="ignore"):
            parts = system._postprocessing(*y)
            y = np.stack([np.broadcast_to(np.asarray(c, dtype=float), y.shape[1:]) for c in parts])
    return np.ascontiguousarray(y.T, dtype=np.float64), method


class _History:
    """A scalar solution ``x(t)`` on one delay interval, from ``solve_ivp``'s dense output.

    For DOP853 the 7th-order interpolating polynomial of each step is evaluated in plain Python
    (the same formula as scipy's ``Dop853DenseOutput``), ~10× faster per scalar call than
    ``OdeSolution.__call__``; that call is the bottleneck of the method of steps, since every
    right-hand-side evaluation needs one delayed value. Other dense outputs use the scipy call.
    """

    def __init__(self, sol: Any) -> None:
        self.sol = sol
        ips = sol.interpolants
        self.fast = all(hasattr(ip, "F") and hasattr(ip, "y_old") for ip in ips)
        if self.fast:
            self.t_old = [float(ip.t_old) for ip in ips]
            self.h = [float(ip.h) for ip in ips]
            self.y_old = [float(ip.y_old[0]) for ip in ips]
            self.coef = [np.asarray(ip.F)[::-1, 0].tolist() for ip in ips]

    def __call__(self, t: float) -> float:
        if not self.fast:
            return float(self.sol(t)[0])
        i = max(bisect.bisect_right(self.t_old, t) - 1, 0)
        x = (t - self.t_old[i]) / self.h[i]
        xs = (x, 1.0 - x)
        y = 0.0
        for j, f in enumerate(self.coef[i]):
            y = (y + f) * xs[j & 1]
        return y + self.y_old[i]


def _integrate_dde(
    system: Any, x0: float, t_eval: np.ndarray, lags: np.ndarray, h: float
) -> tuple[np.ndarray, str]:
    """Method of steps for the scalar DDE ``ẋ = f(x(t), x(t − τ), t)``, ``x = x0`` for ``t ≤ 0``.

    Returns ``x(t_eval[k] − lags[j])`` as an array ``(T, len(lags))`` and the method used. Each
    interval ``[kτ, (k+1)τ]`` is an ODE solved by DOP853 with dense output; its delayed term
    comes from the previous interval's dense output (the constant history on the first). If
    DOP853 turns out stiff, everything is recomputed with ``FALLBACK_METHOD``.
    """
    try:
        return _method_of_steps(system, x0, t_eval, lags, h, METHOD), METHOD
    except _Stiff:
        return _method_of_steps(system, x0, t_eval, lags, h, FALLBACK_METHOD), FALLBACK_METHOD


def _method_of_steps(
    system: Any, x0: float, t_eval: np.ndarray, lags: np.ndarray, h: float, method: str
) -> np.ndarray:
    from scipy.integrate import solve_ivp

    tau = float(system.tau)
    params = system.param_list
    rhs = system._rhs
    t_end = float(t_eval[-1])
    name = type(system).__name__
    bounds = [0.0]
    dense: list[Any] = []
    y = np.array([x0], dtype=float)
    while bounds[-1] < t_end:
        a = bounds[-1]
        b = min(a + tau, t_end)
        if not dense:

            def fun(t: float, y: np.ndarray) -> list[float]:
                return [rhs(y[0], x0, t, *params)]

        else:
            past = _History(dense[-1])

            def fun(t: float, y: np.ndarray, past: _History = past) -> list[float]:
                return [rhs(y[0], past(t - tau), t, *params)]

        f = _guarded(fun, h, a) if method == METHOD else fun
        with np.errstate(all="ignore"):
            sol = solve_ivp(f, (a, b), y, method=method, dense_output=True, rtol=RTOL, atol=ATOL)
        if sol.status != 0 or not np.all(np.isfinite(sol.y[:, -1])):
            raise _fail(f"the delay system {name}", t_end, sol.message)
        dense.append(sol.sol)
        bounds.append(b)
        y = sol.y[:, -1]
    times = (t_eval[:, None] - lags[None, :]).ravel()
    out = np.full(times.shape, float(x0))
    seg = np.clip(np.searchsorted(bounds, times, side="left") - 1, 0, len(dense) - 1)
    for k in np.unique(seg[times > 0]):
        sel = (seg == k) & (times > 0)
        out[sel] = dense[k](times[sel])[0]
    return out.reshape(len(t_eval), len(lags))


def generate(
    system: Any, start: np.ndarray, t_eval: np.ndarray, h: float, lags: np.ndarray | None
) -> tuple[np.ndarray, str]:
    """Integrate from ``start``; the finite states at ``t_eval`` ``(T, D)`` and the method used."""
    if lags is not None:
        values, method = _integrate_dde(system, float(start[0]), t_eval, lags, h)
    else:
        values, method = _integrate_ode(system, start, t_eval, h)
    bad = ~np.isfinite(values)
    if bad.any():
        t = int(np.argwhere(bad)[0][0])
        raise DataError(
            f"the trajectory of {type(system).__name__} left the finite numbers at sample {t} "
            "(it blew up); try another seed or initial condition."
        )
    return values, method
