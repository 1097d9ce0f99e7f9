"""The two evaluation protocols of a benchmark job, applied to a trained model.

**Reconstruction** (REFERENCE §3): the evaluation protocol of
:func:`attractor.metrics.protocol.evaluate` on the held-out test trajectory — ``D_stsp``,
``D_H``, ``PE(20)`` — plus the model's ``λ_max`` (QR method, leading exponent only, per unit
time) and its error against dysts' estimate, ``|λ_model − λ_ref| / |λ_ref|``.

**Forecast** (dysts long-horizon protocol): on a fresh trajectory from a new initial condition
at 100 points per period, ``context`` periods (10) warm the model up with the observations
written into its observed units at every step (teacher forcing with α = 1, so hidden units and
reservoirs synchronise), then the model forecasts ``horizon`` periods (50) freely. Per forecast:
the valid prediction time by both criteria (NRMSE > 0.5 with σ = 1 on z-scored data, and
cumulative sMAPE > 30; :func:`attractor.metrics.forecast.valid_prediction_time`) in steps and in
Lyapunov times (dysts' λ_max), and sMAPE (0–200, in the data's own units) over the first two
periods (the horizon of the published dysts medians) and over the whole horizon. The median over
``starts`` forecasts (start points ``context`` periods apart) is reported.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from attractor.data.series import Scaler
from attractor.metrics.forecast import smape, valid_prediction_time
from attractor.metrics.lyapunov import lyapunov_spectrum
from attractor.metrics.protocol import evaluate
from attractor.models.base import DynamicalModel

#: Forecast protocol: periods of context, periods forecast, points per period, sMAPE horizon.
CONTEXT_PERIODS = 10
HORIZON_PERIODS = 50
PTS_PER_PERIOD = 100
SMAPE_PERIODS = 2
#: Transient (steps) before the λ_max estimate.
LYAPUNOV_TRANSIENT = 1_000
#: Free-run states beyond this magnitude (z-scored units) count as diverged.
DIVERGED = 1e6


def reconstruction(
    model: DynamicalModel,
    test: np.ndarray,
    dt: float,
    lyapunov_ref: float | None,
    lyapunov_steps: int,
) -> tuple[dict[str, Any], np.ndarray]:
    """Reconstruction metrics of ``model`` on the z-scored ``test`` ``(T, N)``; also returns the
    compared free run ``(T, N)``."""
    m = evaluate(model, test, dt=dt, lyapunov=False, return_generated=True)
    generated = np.asarray(m.pop("generated"))
    out: dict[str, Any] = {k: m[k] for k in ("D_stsp", "D_H", "PE(20)", "diverged") if k in m}
    lam = math.nan
    if not m["diverged"]:
        try:
            res = lyapunov_spectrum(
                model,
                x0=test[0],
                n_steps=lyapunov_steps,
                n_transient=LYAPUNOV_TRANSIENT,
                k=1,
                dt=dt,
            )
            lam = float(res.exponents[0])
        except Exception:  # a model whose Jacobian cannot be evaluated: no λ_max, not a failure
            lam = math.nan
    out["lambda_max"] = lam
    out["lambda_max_ref"] = lyapunov_ref
    if lyapunov_ref and math.isfinite(lam):
        out["lambda_max_error"] = abs(lam - lyapunov_ref) / abs(lyapunov_ref)
    else:
        out["lambda_max_error"] = math.nan
    return out, generated


@torch.no_grad()
def warm_forecast(model: DynamicalModel, context: np.ndarray, horizon: int) -> np.ndarray:
    """Forecasts ``(B, horizon, N)`` after forcing ``model`` with ``context`` ``(B, C, N)``.

    ``z = encode(c_0)``; for ``t = 1…C−1``: ``z ← F(z)`` with the observed units then set to
    ``c_t``; row ``k`` of the result is ``observe(F^{k+1}(z))``, the forecast of ``c``'s
    successor ``k + 1`` steps ahead.
    """
    p = next(model.parameters())
    ctx = torch.as_tensor(context, dtype=p.dtype, device=p.device)
    n = model.obs_dim
    z = model.encode(ctx[:, 0])
    for t in range(1, ctx.shape[1]):
        z = model.step(z).clone()
        z[:, :n] = ctx[:, t]
    out = torch.empty(ctx.shape[0], horizon, n, dtype=p.dtype, device=p.device)
    for k in range(horizon):
        z = model.step(z)
        out[:, k] = model.observe(z)
    return out.cpu().numpy()


def forecast_length(starts: int) -> int:
    """Points of the forecast test trajectory needed for ``starts`` forecasts."""
    return (CONTEXT_PERIODS * (starts - 1) + CONTEXT_PERIODS + HORIZON_PERIODS) * PTS_PER_PERIOD


def forecast(
    model: DynamicalModel,
    series: np.ndarray,
    scaler: Scaler,
    dt: float,
    lyapunov_ref: float | None,
    starts: int,
) -> dict[str, Any]:
    """Forecast metrics on the z-scored ``series`` ``(≥ forecast_length(starts), N)``."""
    c = CONTEXT_PERIODS * PTS_PER_PERIOD
    h = HORIZON_PERIODS * PTS_PER_PERIOD
    offsets = [i * c for i in range(starts)]
    ctx = np.stack([series[o : o + c] for o in offsets])
    truth = np.stack([series[o + c : o + c + h] for o in offsets])
    pred = warm_forecast(model, ctx, h)
    lam = lyapunov_ref if lyapunov_ref and lyapunov_ref > 0 else None
    rows = []
    for y, yhat in zip(truth, pred, strict=True):
        if not np.isfinite(yhat).all() or np.abs(yhat).max() > DIVERGED:
            yhat = np.where(np.isfinite(yhat), yhat, DIVERGED).clip(-DIVERGED, DIVERGED)
        v = valid_prediction_time(y, yhat, dt=dt, lyapunov=lam, sigma=1.0)
        y_data, yhat_data = scaler.inverse(y), scaler.inverse(yhat)
        k = SMAPE_PERIODS * PTS_PER_PERIOD
        rows.append(
            {
                "vpt_steps": v.steps,
                "vpt_lyapunov": v.lyapunov_times,
                "vpt_smape_steps": v.smape_steps,
                "vpt_smape_lyapunov": v.smape_lyapunov_times,
                "smape_2p": smape(y_data[:k], yhat_data[:k]),
                "smape": smape(y_data, yhat_data),
            }
        )
    out: dict[str, Any] = {}
    for key in rows[0]:
        vals = [r[key] for r in rows if r[key] is not None]
        out[key] = float(np.median(vals)) if vals else None
    out["forecast_starts"] = starts
    return out
