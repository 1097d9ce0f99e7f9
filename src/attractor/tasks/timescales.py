"""Single-neuron τ versus network-mediated timescales τ_net (REFERENCE §4).

Autocorrelation with unbiased normalisation of a centred series x_t (t = 1 … T), per trial::

    C(k) = [1/(T−k) Σ_{t=1}^{T−k} x_t x_{t+k}] / [1/T Σ_t x_t²],      C(0) = 1

averaged over trials. Fits over lags 0 … 30 (scipy ``curve_fit``)::

    single: C(k) ≈ a e^{−k/τ}                      (k_params = 2)
    double: C(k) ≈ a₁ e^{−k/τ₁} + a₂ e^{−k/τ₂}      (k_params = 4)
    AIC = 2 k_params + n ln(RSS / n)

The model with the lower AIC is chosen and its slowest τ is the neuron's τ_net. The trained net
is driven with random bits (10 trials of 10,000 steps, i.e. 10⁵ steps in all; the first 500 of
each trial dropped). Also: the population autocorrelation (of the population-mean activity) and
the dimensionality (PCA: number of components for 90 % of the variance).

τ_λ, the timescale of the slowest mode (not in the published procedure; added because the
per-neuron fits miss slow modes that carry little of a neuron's variance — on a linear network
with one mode at 0.95 per step, i.e. 19.5 steps, and all neurons at 1.44 steps, median τ_net
came out at 9.3 in the benchmark's check, 40 units and 10 × 10,000 steps): drive the net with
random bits and follow a tangent vector, ``v_{t+1} = J(h_t, x_t) v_t / ‖·‖``; the mean log
growth is the largest Lyapunov exponent λ₁ of the input-driven network, and ``τ_λ = −1/λ₁``
(∞ when λ₁ ≥ 0). For a linear network ``λ₁ = ln ρ(M)`` exactly.

The autocorrelation is computed here with numpy's FFT (zero-padded, O(T log T) for all neurons
at once) because the library ACF routines (statsmodels) work on one series at a time and use the
biased normalisation by default.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy.optimize import OptimizeWarning, curve_fit

from attractor.errors import ConfigError, DataError
from attractor.tasks.heads import TaskNetwork

#: Lags used in the exponential fits (0 … MAX_LAG).
MAX_LAG = 30
N_TRIALS = 10
TRIAL_STEPS = 10_000
TRANSIENT = 500
VARIANCE_EXPLAINED = 0.9
_TAU_BOUNDS = (1e-3, 1e4)


def autocorrelation(x: np.ndarray, max_lag: int = MAX_LAG) -> np.ndarray:
    """Unbiased, normalised autocorrelation of each column.

    ``x``: ``(T,)``, ``(T, M)`` or trials ``(R, T, M)``; returns ``(max_lag + 1,)`` or
    ``(max_lag + 1, M)`` averaged over trials. Constant columns give NaN.
    """
    a = np.asarray(x, dtype=np.float64)
    squeeze = a.ndim == 1
    if squeeze:
        a = a[:, None]
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise DataError(f"autocorrelation needs (T,), (T, M) or (R, T, M) data, got {a.shape}.")
    t = a.shape[1]
    if max_lag < 0 or max_lag >= t:
        raise DataError(
            f"max_lag must lie in [0, {t - 1}] for series of length {t}, got {max_lag}."
        )
    a = a - a.mean(axis=1, keepdims=True)
    n = 1 << math.ceil(math.log2(2 * t))
    f = np.fft.rfft(a, n=n, axis=1)
    raw = np.fft.irfft(f * np.conj(f), n=n, axis=1)[:, : max_lag + 1]  # Σ x_t x_{t+k}
    cov = raw / (t - np.arange(max_lag + 1))[None, :, None]
    var = raw[:, :1] / t
    with np.errstate(invalid="ignore", divide="ignore"):
        ac = np.where(var > 1e-12 * np.maximum(1.0, np.abs(a).max()), cov / var, np.nan)
    out = ac.mean(axis=0)
    return out[:, 0] if squeeze else out


def _single(k: np.ndarray, a: float, tau: float) -> np.ndarray:
    return a * np.exp(-k / tau)


def _double(k: np.ndarray, a1: float, t1: float, a2: float, t2: float) -> np.ndarray:
    return a1 * np.exp(-k / t1) + a2 * np.exp(-k / t2)


@dataclass(frozen=True)
class ExpFit:
    """Result of :func:`fit_timescale`: the chosen model and its slowest timescale."""

    tau: float  # slowest timescale of the chosen model (steps)
    model: str  # "single" or "double"
    params: tuple[float, ...]
    aic_single: float
    aic_double: float


def _aic(rss: float, n: int, k: int) -> float:
    return 2 * k + n * math.log(max(rss, 1e-300) / n)


def fit_timescale(ac: np.ndarray, lags: np.ndarray | None = None) -> ExpFit:
    """Fit single and double exponentials to one autocorrelation curve and choose by AIC."""
    y = np.asarray(ac, dtype=np.float64)
    k = np.arange(len(y), dtype=np.float64) if lags is None else np.asarray(lags, float)
    nan = ExpFit(math.nan, "none", (), math.nan, math.nan)
    if len(y) < 5 or not np.isfinite(y).all():
        return nan
    below = np.nonzero(y < math.exp(-1) * y[0])[0]
    tau0 = float(k[below[0]]) if len(below) and k[below[0]] > 0 else float(k[-1])
    tau0 = min(max(tau0, 0.5), _TAU_BOUNDS[1] / 10)
    n = len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            p1, _ = curve_fit(
                _single,
                k,
                y,
                p0=(y[0], tau0),
                bounds=((0.0, _TAU_BOUNDS[0]), (2.0, _TAU_BOUNDS[1])),
                maxfev=5000,
            )
            rss1 = float(((y - _single(k, *p1)) ** 2).sum())
        except (RuntimeError, ValueError):
            return nan
        try:
            p2, _ = curve_fit(
                _double,
                k,
                y,
                p0=(0.5 * y[0], tau0 / 3, 0.5 * y[0], tau0 * 2),
                bounds=(
                    (0.0, _TAU_BOUNDS[0], 0.0, _TAU_BOUNDS[0]),
                    (2.0, _TAU_BOUNDS[1], 2.0, _TAU_BOUNDS[1]),
                ),
                maxfev=10000,
            )
            rss2 = float(((y - _double(k, *p2)) ** 2).sum())
        except (RuntimeError, ValueError):
            p2, rss2 = None, math.inf
    aic1 = _aic(rss1, n, 2)
    aic2 = _aic(rss2, n, 4) if p2 is not None else math.inf
    if aic2 < aic1 and p2 is not None:
        return ExpFit(float(max(p2[1], p2[3])), "double", tuple(map(float, p2)), aic1, aic2)
    return ExpFit(float(p1[1]), "single", tuple(map(float, p1)), aic1, aic2)


def dimensionality(states: np.ndarray, fraction: float = VARIANCE_EXPLAINED) -> int:
    """Number of principal components explaining ``fraction`` of the variance of ``(T, M)``."""
    x = np.asarray(states, dtype=np.float64).reshape(-1, np.shape(states)[-1])
    ev = np.linalg.eigvalsh(np.cov(x, rowvar=False))[::-1].clip(min=0)
    if ev.sum() <= 0:
        return 0
    return int(np.searchsorted(np.cumsum(ev) / ev.sum(), fraction) + 1)


@torch.no_grad()
def perturbation_timescale(
    net: TaskNetwork,
    n_trials: int = N_TRIALS,
    steps: int = 2_000,
    transient: int = TRANSIENT,
    p: float = 0.5,
    seed: int = 0,
) -> tuple[float, float]:
    """``(λ₁, τ_λ)`` of a task network's core driven by Bernoulli(p) bits (module docstring);
    ``(nan, nan)`` for cores that are not registry models (PyTorch's GRU/LSTM)."""
    from attractor.tasks.heads import DynamicalCore

    if not isinstance(net.core, DynamicalCore):
        return math.nan, math.nan
    if transient >= steps:
        raise ConfigError(f"{steps} steps leave nothing after a transient of {transient}.")
    model = net.core.model
    g = torch.Generator().manual_seed(seed)
    p_ = next(model.parameters())
    x = (torch.rand(n_trials, steps, model.n_inputs, generator=g) < p).to(p_)
    v = torch.randn(n_trials, model.latent_dim, generator=g).to(p_)
    v /= v.norm(dim=-1, keepdim=True)
    z = torch.zeros_like(v)
    log_growth = torch.zeros(n_trials, dtype=torch.float64)
    for t in range(steps):
        s = x[:, t]
        v = torch.bmm(model.jacobian(z, s), v[..., None])[..., 0]
        z = model.step(z, s)
        r = v.norm(dim=-1)
        if t >= transient:
            log_growth += torch.log(r.double().clamp_min(1e-300))
        v = v / r.clamp_min(1e-300)[:, None]
    lam = float(log_growth.mean()) / (steps - transient)
    return lam, (-1.0 / lam if lam < 0 else math.inf)


@dataclass
class NetworkTimescales:
    """τ (trained), τ_net per neuron, the population timescale and the dimensionality."""

    tau: np.ndarray | None  # (M,) trained single-neuron τ (None for cores without τ)
    tau_net: np.ndarray  # (M,) NaN for silent neurons or failed fits
    model: list[str]  # "single" / "double" / "none" per neuron
    ac: np.ndarray  # (MAX_LAG + 1, M)
    population_ac: np.ndarray  # (MAX_LAG + 1,)
    tau_population: float
    dimension: int
    lyapunov: float = math.nan  # λ₁ of the input-driven network (per step)
    tau_lambda: float = math.nan  # −1/λ₁
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        ok = np.isfinite(self.tau_net)
        return {
            "tau_mean": float(np.mean(self.tau)) if self.tau is not None else None,
            "tau_median": float(np.median(self.tau)) if self.tau is not None else None,
            "tau_net_mean": float(np.mean(self.tau_net[ok])) if ok.any() else math.nan,
            "tau_net_median": float(np.median(self.tau_net[ok])) if ok.any() else math.nan,
            "tau_population": self.tau_population,
            "dimension_90": self.dimension,
            "fraction_double": float(np.mean([m == "double" for m in self.model])),
            "n_fitted": int(ok.sum()),
            "lyapunov": self.lyapunov,
            "tau_lambda": self.tau_lambda,
        }


@torch.no_grad()
def drive(
    net: TaskNetwork,
    n_trials: int = N_TRIALS,
    steps: int = TRIAL_STEPS,
    p: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """States ``(n_trials, steps, H)`` of ``net.core`` driven by Bernoulli(p) bits from zero."""
    if n_trials < 1 or steps < 2:
        raise ConfigError(f"need ≥ 1 trial of ≥ 2 steps, got {n_trials} × {steps}.")
    g = torch.Generator().manual_seed(seed)
    dev = next(net.parameters()).device
    x = (torch.rand(n_trials, steps, 1, generator=g) < p).float().to(dev)
    return net.core(x).cpu().numpy()


def network_timescales(
    net: TaskNetwork,
    n_trials: int = N_TRIALS,
    steps: int = TRIAL_STEPS,
    transient: int = TRANSIENT,
    max_lag: int = MAX_LAG,
    seed: int = 0,
    lyapunov_steps: int = 2_000,
) -> NetworkTimescales:
    """Drive ``net`` with random bits and measure τ_net per neuron, and τ_λ over
    ``lyapunov_steps`` steps (0: skip) (see module docstring)."""
    if transient >= steps - max_lag - 1:
        raise ConfigError(
            f"{steps} steps are too few after dropping {transient} (lags ≤ {max_lag})."
        )
    states = drive(net, n_trials, steps, seed=seed)[:, transient:]
    tau = net.timescales()
    ts = timescales_from_states(states, None if tau is None else tau.cpu().numpy(), max_lag)
    if lyapunov_steps:
        ts.lyapunov, ts.tau_lambda = perturbation_timescale(
            net, n_trials, lyapunov_steps, min(transient, lyapunov_steps // 2), seed=seed
        )
    return ts


def timescales_from_states(
    states: np.ndarray, tau: np.ndarray | None = None, max_lag: int = MAX_LAG
) -> NetworkTimescales:
    """τ_net per neuron from recorded activity ``(R, T, M)`` (see module docstring)."""
    ac = autocorrelation(states, max_lag)
    fits = [fit_timescale(ac[:, i]) for i in range(ac.shape[1])]
    pop = autocorrelation(states.mean(-1)[..., None], max_lag)[:, 0]
    return NetworkTimescales(
        tau=tau,
        tau_net=np.array([f.tau for f in fits]),
        model=[f.model for f in fits],
        ac=ac,
        population_ac=pop,
        tau_population=fit_timescale(pop).tau,
        dimension=dimensionality(states.reshape(-1, states.shape[-1])),
    )
