"""Forecast metrics: the n-step prediction error PE(n), sMAPE and the valid prediction time.

**PE(n)** of a :class:`~attractor.models.base.DynamicalModel` on a test series ``x`` ``(T, N)``:
from every start ``t = 0 … T−1−n`` encode ``z = encode(x_t)``, apply the map ``n`` times and
compare the readout with the data ``n`` steps later (the error *at* step ``n``, not summed)::

    PE(n) = 1/((T−n) N) Σ_t ‖observe(F^n(encode(x_t))) − x_{t+n}‖²

**sMAPE** (0–200 scale) of a forecast ``ŷ`` against ``y``, both ``(H, N)``, averaged over all
``H·N`` entries (an entry with ``y = ŷ = 0`` counts 0)::

    sMAPE = 200/(H N) Σ_{t,d} |y_{t,d} − ŷ_{t,d}| / (|y_{t,d}| + |ŷ_{t,d}|)

**Valid prediction time** of a forecast ``ŷ_1 … ŷ_H`` (row ``t`` of the arrays is the forecast
``t + 1`` steps ahead), two variants:

* NRMSE (ours, the default): ``e_t = sqrt(mean_d ((y_{t,d} − ŷ_{t,d}) / σ_d)²)``; VPT is the
  number of steps before the first ``e_t > threshold`` (0.5), ``σ_d`` the standard deviation of
  each channel of ``y_true`` over the horizon unless given — pass the attractor's σ (1 for
  z-scored data) when the horizon is short.
* sMAPE (dysts literature): the number of steps before the cumulative sMAPE of steps ``1 … t``
  first exceeds 30.

Each is reported in steps, in time (``steps · dt``) and, given ``λ_max``, in Lyapunov times
(``steps · dt · λ_max``). When the threshold is never crossed the VPT is the whole horizon and
the result says it is *censored* (a lower bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from attractor.errors import ConfigError, DataError
from attractor.metrics.geometry import as_trajectory
from attractor.models.base import DynamicalModel

#: Forecast horizon of PE(n), in steps (GTF paper).
PE_STEPS = 20
#: Start points advanced together in one batch by PE(n).
PE_BATCH = 4096
#: NRMSE above which a forecast stops being valid (Pathak et al. 2018; dysts).
VPT_THRESHOLD = 0.5
#: Cumulative sMAPE above which a forecast stops being valid (dysts literature).
SMAPE_THRESHOLD = 30.0


# ---------------------------------------------------------------------- PE(n)
def _model_tensor(model: DynamicalModel, x: np.ndarray) -> torch.Tensor:
    ref = next(iter(model.parameters()), None)
    dtype = ref.dtype if ref is not None and ref.is_floating_point() else torch.float32
    device = ref.device if ref is not None else torch.device("cpu")
    if x.shape[1] != model.obs_dim:
        raise DataError(
            f"x has {x.shape[1]} channel(s) but the model observes {model.obs_dim}; "
            "pass data with the model's channels."
        )
    return torch.as_tensor(x, dtype=dtype, device=device)


@torch.no_grad()
def _pe_sums(
    model: DynamicalModel, x: torch.Tensor, n_max: int, batch: int, curve: bool
) -> np.ndarray:
    """Mean squared error at steps ``1 … n_max`` (``(n_max,)``; only the last if not ``curve``).

    Starts ``t`` with ``t + k ≤ T − 1`` contribute to step ``k``; with ``curve=False`` only
    starts valid for ``n_max`` are run.
    """
    t_len, n_obs = x.shape
    last_start = t_len - 1 - (1 if curve else n_max)
    sums = torch.zeros(n_max, dtype=torch.float64, device=x.device)
    counts = np.zeros(n_max)
    for a in range(0, last_start + 1, batch):
        starts = torch.arange(a, min(a + batch, last_start + 1), device=x.device)
        z = model.encode(x[starts])
        for k in range(1, n_max + 1):
            z = model.step(z)
            if not curve and k < n_max:
                continue
            n_valid = int(min(len(starts), t_len - k - a))  # starts a … t_len−1−k
            if n_valid <= 0:
                break
            err = model.observe(z[:n_valid]) - x[starts[:n_valid] + k]
            sums[k - 1] += (err.double() ** 2).sum()
            counts[k - 1] += n_valid * n_obs
    with np.errstate(invalid="ignore"):
        return sums.cpu().numpy() / counts


def _check_pe_args(x: Any, n: int, batch: int) -> np.ndarray:
    for v, name in ((n, "n"), (batch, "batch")):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ConfigError(f"{name} must be a positive integer, got {v!r}.")
    arr = as_trajectory(x, "x", min_length=1)
    if len(arr) <= n:
        raise DataError(
            f"x has {len(arr)} time point(s); PE({n}) needs more than {n} (a start and the point "
            f"{n} steps later)."
        )
    return arr


def prediction_error(
    model: DynamicalModel, x: Any, n: int = PE_STEPS, batch: int = PE_BATCH
) -> float:
    """``PE(n)``: MSE of the ``n``-step-ahead prediction from every test point (module docstring).

    ``x`` is ``(T, N)`` with ``T > n`` in the model's (usually z-scored) units; ``batch`` start
    points are advanced together. Runs without gradients on the model's device and dtype.
    """
    arr = _check_pe_args(x, n, batch)
    return float(_pe_sums(model, _model_tensor(model, arr), n, batch, curve=False)[-1])


def prediction_error_curve(
    model: DynamicalModel, x: Any, n_max: int = PE_STEPS, batch: int = PE_BATCH
) -> np.ndarray:
    """``[PE(1), …, PE(n_max)]``, shape ``(n_max,)``, in one pass over the data.

    Entry ``n − 1`` uses every start valid for ``n`` (``t ≤ T−1−n``), so it equals
    :func:`prediction_error` with that ``n``.
    """
    arr = _check_pe_args(x, n_max, batch)
    return _pe_sums(model, _model_tensor(model, arr), n_max, batch, curve=True)


# ---------------------------------------------------------------------- sMAPE
def _forecast_pair(y: Any, yhat: Any) -> tuple[np.ndarray, np.ndarray]:
    a = as_trajectory(y, "y_true", min_length=1)
    b = as_trajectory(yhat, "y_pred", min_length=1)
    if a.shape != b.shape:
        raise DataError(
            f"y_true has shape {a.shape} but y_pred has shape {b.shape}; a forecast must match "
            "its target step for step and channel for channel."
        )
    return a, b


def _smape_terms(y: np.ndarray, yhat: np.ndarray) -> np.ndarray:
    """``200 |y − ŷ| / (|y| + |ŷ|)`` elementwise, 0 where both are 0."""
    den = np.abs(y) + np.abs(yhat)
    num = np.abs(y - yhat)
    return 200.0 * np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def smape(y: Any, yhat: Any) -> float:
    """Symmetric mean absolute percentage error on the 0–200 scale, over all ``(H, N)`` entries.

    0 for a perfect forecast, 200 when every forecast has the opposite sign of its target (or
    one of the two is 0 and the other is not).
    """
    a, b = _forecast_pair(y, yhat)
    return float(_smape_terms(a, b).mean())


# ---------------------------------------------------------------------- valid prediction time
@dataclass(frozen=True)
class VPT:
    """Valid prediction time of one forecast, by the NRMSE and the cumulative-sMAPE criteria.

    ``steps`` / ``time`` / ``lyapunov_times``: NRMSE criterion (``lyapunov_times`` is None when
    no λ_max was given); ``censored``: the NRMSE never crossed the threshold within the horizon,
    so the VPT is a lower bound equal to the horizon. ``smape_*``: the same for the sMAPE
    criterion. ``horizon``: forecast length in steps.
    """

    steps: int
    time: float
    lyapunov_times: float | None
    censored: bool
    smape_steps: int
    smape_time: float
    smape_lyapunov_times: float | None
    smape_censored: bool
    horizon: int
    dt: float
    threshold: float
    smape_threshold: float


def nrmse(y_true: Any, y_pred: Any, sigma: Any = None) -> np.ndarray:
    """Pointwise normalised RMSE ``sqrt(mean_d ((y − ŷ)/σ_d)²)``, shape ``(H,)``.

    ``sigma``: a number or one value per channel; by default each channel's standard deviation
    over ``y_true``.
    """
    a, b = _forecast_pair(y_true, y_pred)
    if sigma is None:
        sd = a.std(axis=0)
        if len(a) < 2 or np.any(sd <= 0):
            raise DataError(
                "y_true has a constant channel (or a single step), so σ cannot be taken from it; "
                "pass sigma (e.g. the attractor's standard deviation, 1 for z-scored data)."
            )
    else:
        try:
            sd = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (a.shape[1],))
        except (TypeError, ValueError):
            raise ConfigError(
                f"sigma must be a number or one value per channel ({a.shape[1]}), got {sigma!r}."
            ) from None
        if not np.all(np.isfinite(sd)) or np.any(sd <= 0):
            raise ConfigError(f"sigma must be positive and finite, got {sigma!r}.")
    return np.sqrt(np.mean(((a - b) / sd) ** 2, axis=1))


def _first_exceedance(values: np.ndarray, threshold: float) -> tuple[int, bool]:
    over = np.flatnonzero(values > threshold)
    return (int(over[0]), False) if over.size else (len(values), True)


def valid_prediction_time(
    y_true: Any,
    y_pred: Any,
    dt: float = 1.0,
    lyapunov: float | None = None,
    threshold: float = VPT_THRESHOLD,
    sigma: Any = None,
    smape_threshold: float = SMAPE_THRESHOLD,
) -> VPT:
    """Valid prediction time of the forecast ``y_pred`` of ``y_true``, both ``(H, N)``.

    Row ``t`` is the forecast ``t + 1`` steps ahead. ``dt`` is the time per step, ``lyapunov``
    the system's λ_max per unit time (for Lyapunov times), ``sigma`` the per-channel scale of
    the NRMSE (see :func:`nrmse`). See the module docstring for both criteria.
    """
    if not (math.isfinite(dt) and dt > 0):
        raise ConfigError(f"dt must be a positive finite number, got {dt}.")
    if lyapunov is not None and not (math.isfinite(lyapunov) and lyapunov > 0):
        raise ConfigError(
            f"lyapunov (λ_max) must be positive to count Lyapunov times, got {lyapunov}."
        )
    for v, name in ((threshold, "threshold"), (smape_threshold, "smape_threshold")):
        if not (math.isfinite(v) and v > 0):
            raise ConfigError(f"{name} must be a positive finite number, got {v}.")
    a, b = _forecast_pair(y_true, y_pred)
    steps, censored = _first_exceedance(nrmse(a, b, sigma), threshold)
    per_step = _smape_terms(a, b).mean(axis=1)
    cumulative = np.cumsum(per_step) / np.arange(1, len(per_step) + 1)
    s_steps, s_censored = _first_exceedance(cumulative, smape_threshold)

    def lyap(k: int) -> float | None:
        return None if lyapunov is None else k * dt * float(lyapunov)

    return VPT(
        steps=steps,
        time=steps * dt,
        lyapunov_times=lyap(steps),
        censored=censored,
        smape_steps=s_steps,
        smape_time=s_steps * dt,
        smape_lyapunov_times=lyap(s_steps),
        smape_censored=s_censored,
        horizon=len(a),
        dt=float(dt),
        threshold=float(threshold),
        smape_threshold=float(smape_threshold),
    )
