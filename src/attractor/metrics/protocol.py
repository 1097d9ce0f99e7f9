"""The evaluation protocol: how a trained model is scored against held-out data (REFERENCE §3).

``evaluate`` — the reported numbers. From the first test point, generate ``1.25·T`` steps with
the model running freely, drop the first ``0.25·T`` as transient and compare the remaining ``T``
points with the ``T`` test points:

* ``D_stsp`` (state-space divergence, binned for N ≤ 5, Gaussian mixture above),
* ``D_H`` (power-spectrum Hellinger distance),
* ``PE(n)`` (n-step prediction error from every test point, default n = 20),
* ``λ_max`` of the model (QR method on its Jacobians, per unit time), and the Lyapunov spectrum.

``validate`` — the cheap score used during training for model selection. It starts
``n_traj`` free runs at once (one batch) from points spread over the held-out data, each
``1.25·L`` long with ``0.25·L`` dropped, and pools their points for ``D_stsp`` (so the
comparison has ``n_traj·L`` points for the wall-time cost of ``1.25·L`` sequential steps);
``D_H`` is averaged over the runs, each compared with the held-out stretch it started from.

A model whose free run leaves the finite numbers is scored ``inf`` (and flagged
``diverged``) rather than raising, so training and benchmarks can record it as a failure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from attractor.errors import AttractorError
from attractor.metrics.forecast import prediction_error
from attractor.metrics.geometry import d_stsp
from attractor.metrics.lyapunov import lyapunov_spectrum
from attractor.metrics.registry import Comparison, free_run_metrics
from attractor.metrics.spectrum import d_h
from attractor.models.base import DynamicalModel

#: Fraction of the compared length generated first and dropped as transient.
TRANSIENT_FRACTION = 0.25
#: PE(n) horizon.
PE_STEPS = 20
#: Steps (after a transient) of the QR Lyapunov estimate.
LYAPUNOV_STEPS = 20_000
LYAPUNOV_TRANSIENT = 2_000
#: Leading Lyapunov exponents computed (all of them for latent sizes up to this). A 303-unit ESN's
#: full spectrum took ~4 of a 5-minute fit's minutes; λ_max and the Kaplan–Yorke dimension of a
#: low-dimensional attractor need only the leading few, which the matrix-free tangent path gets
#: in seconds.
LYAPUNOV_EXPONENTS = 10


def _model_dtype(model: DynamicalModel) -> tuple[torch.dtype, torch.device]:
    p = next(model.parameters())
    return p.dtype, p.device


@torch.no_grad()
def free_run(model: DynamicalModel, x0: np.ndarray, steps: int) -> np.ndarray:
    """Free run of ``steps`` points from observation(s) ``x0`` (``(N,)`` or ``(B, N)``)."""
    dtype, device = _model_dtype(model)
    x = torch.as_tensor(np.asarray(x0), dtype=dtype, device=device)
    return model.simulate(x, steps).cpu().numpy()


def _finite(x: np.ndarray) -> bool:
    return bool(np.isfinite(x).all()) and float(np.abs(x).max(initial=0.0)) < 1e6


def evaluate(
    model: DynamicalModel,
    test: np.ndarray,
    dt: float = 1.0,
    pe_steps: int = PE_STEPS,
    lyapunov: bool = True,
    lyapunov_steps: int = LYAPUNOV_STEPS,
    return_generated: bool = False,
    d_stsp_method: str = "auto",
) -> dict[str, Any]:
    """Score ``model`` on one held-out trajectory ``test`` ``(T, N)`` (in the model's units).

    ``d_stsp_method``: ``auto`` | ``binned`` | ``gmm`` (:func:`attractor.metrics.geometry.d_stsp`).

    Returns a dict with ``n_test``, ``dt``, the registry's free-run metrics (:func:`compare`:
    ``D_stsp``; where D_stsp is binned ``uncovered``, the share of the test points in cells the
    free run never visits; ``D_H``; any registered ones), ``diverged``, ``PE(n)``,
    ``lambda_max`` (per unit time), ``lyapunov_spectrum`` (the leading
    :data:`LYAPUNOV_EXPONENTS`) and ``kaplan_yorke_dimension``; with
    ``return_generated`` the compared generated trajectory under ``"generated"``.
    """
    test = np.asarray(test, dtype=float)
    t_len = test.shape[0]
    n_trans = round(TRANSIENT_FRACTION * t_len)
    gen = free_run(model, test[0], t_len + n_trans)[n_trans:]
    out: dict[str, Any] = {"n_test": t_len, "dt": dt}
    diverged = not _finite(gen)
    out.update(compare(Comparison(test, gen, dt, d_stsp_method), diverged=diverged))
    out["diverged"] = diverged
    out[f"PE({pe_steps})"] = _safe(lambda: prediction_error(model, test, n=pe_steps))
    if lyapunov:
        try:
            res = lyapunov_spectrum(
                model,
                x0=test[0],
                n_steps=lyapunov_steps,
                n_transient=LYAPUNOV_TRANSIENT,
                k=min(int(model.latent_dim), LYAPUNOV_EXPONENTS),
                dt=dt,
            )
            out["lambda_max"] = float(res.exponents[0])
            out["lyapunov_spectrum"] = [float(v) for v in res.exponents]
            out["kaplan_yorke_dimension"] = float(res.kaplan_yorke_dimension)
        except AttractorError:
            out.update({"lambda_max": math.nan, "lyapunov_spectrum": None})
    if return_generated:
        out["generated"] = gen
    return out


def compare(c: Comparison, diverged: bool = False) -> dict[str, float]:
    """Every free-run metric of the registry (:mod:`attractor.metrics.registry`), in its order:
    ``fn(c)`` for a finite free run, the entry's ``on_diverged`` value for a diverged one; a
    metric that is ``None`` (undefined for these data) is left out."""
    out: dict[str, float] = {}
    for m in free_run_metrics():
        v = m.on_diverged if diverged else m.fn(c)  # type: ignore[misc]
        if v is not None:
            out[m.key] = v
    return out


def _safe(fn: Any) -> float:
    try:
        v = float(fn())
    except (AttractorError, FloatingPointError, ValueError):
        return math.inf
    return v if math.isfinite(v) else math.inf


def validate(
    model: DynamicalModel,
    trials: Sequence[np.ndarray],
    n_traj: int = 10,
    length: int = 10_000,
    noise_std: np.ndarray | None = None,
    seed: int = 0,
    d_stsp_method: str = "auto",
) -> dict[str, float]:
    """Cheap pooled free-run score on held-out ``trials`` (list of ``(T_k, N)``); see module doc.

    ``noise_std`` (per channel): observe the free runs with this Gaussian noise before comparing,
    so noisy held-out data are compared with equally noisy model output
    (:func:`attractor.data.noise.estimate_noise`).
    """
    trials = [np.asarray(v, dtype=float) for v in trials]
    length = int(min(length, max(v.shape[0] for v in trials)))
    usable = [(k, v) for k, v in enumerate(trials) if v.shape[0] >= length]
    starts: list[tuple[int, int]] = []
    per = max(1, math.ceil(n_traj / len(usable)))
    for k, v in usable:
        for s in np.linspace(0, v.shape[0] - length, per).astype(int):
            starts.append((k, int(s)))
    starts = starts[:n_traj]
    x0 = np.stack([trials[k][s] for k, s in starts])
    n_trans = round(TRANSIENT_FRACTION * length)
    gen = free_run(model, x0, length + n_trans)[:, n_trans:]
    if not _finite(gen):
        return {"D_stsp": math.inf, "D_H": math.inf, "diverged": True}
    if noise_std is not None and np.any(np.asarray(noise_std) > 0):
        rng = np.random.default_rng(seed)
        gen = gen + np.asarray(noise_std) * rng.standard_normal(gen.shape)
    true_all = np.concatenate(trials, axis=0)
    ds = d_stsp(true_all, gen.reshape(-1, gen.shape[-1]), method=d_stsp_method)
    dh = float(np.mean([d_h(trials[k][s : s + length], gen[i]) for i, (k, s) in enumerate(starts)]))
    return {"D_stsp": float(ds), "D_H": dh, "diverged": False}
