"""Lyapunov spectra with convergence reporting, and their comparison with the true system.

A thin layer over :mod:`attractor.metrics.lyapunov` (QR/Benettin on a model's Jacobians along a
free run). It adds what a reader needs to trust the numbers:

* **standard errors** by batch means: the run of ``n`` steps is cut into ``N_BLOCKS`` blocks
  whose exponents ``λ^{(b)}`` are recovered from the running estimates
  (``λ^{(b)} = (S_b − S_{b−1}) / (n_b − n_{b−1})``, ``S_b`` the running sum after ``n_b``
  steps); ``stderr = std_b(λ^{(b)}) / √N_BLOCKS``;
* **drift**: ``|λ(n) − λ(n/2)|``, how much the estimate still moved over the second half;
* **converged**: the leading exponent's drift is at most ``CONVERGED_RTOL · max(|λ_1|,
  CONVERGED_FLOOR_PER_STEP / Δt)``;
* the Kaplan–Yorke dimension ``D_KY``.

:func:`compare_spectra` puts a model's spectrum next to the true one (computed from the
equations, :func:`attractor.analysis.truesystem.true_spectrum`) and dysts' stored estimates,
which are approximate (dysts' Lorenz λ_max 0.892 vs ≈ 0.906 from the equations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from attractor.metrics.lyapunov import LyapunovResult, lyapunov_spectrum
from attractor.models.base import DynamicalModel

#: Blocks of the batch-means standard error.
N_BLOCKS = 10
#: Convergence criterion of the leading exponent (relative drift, with a floor per map step).
CONVERGED_RTOL = 0.05
CONVERGED_FLOOR_PER_STEP = 1e-3
#: Default length of a model's spectrum run (steps after the transient).
N_STEPS = 20_000
N_TRANSIENT = 2_000
DYSTS_NOTE = (
    "dysts' stored Lyapunov estimates are approximate (e.g. its Lorenz λ_max 0.892 vs ≈ 0.906 "
    "from the equations); the 'true' column is computed here from the equations."
)


@dataclass(frozen=True)
class SpectrumReport:
    """A Lyapunov spectrum (per unit time, descending) with its convergence diagnostics."""

    exponents: np.ndarray
    stderr: np.ndarray
    drift: np.ndarray
    converged: bool
    kaplan_yorke: float
    dt: float
    n_steps: int
    history_steps: np.ndarray
    history: np.ndarray

    @property
    def lambda_max(self) -> float:
        return float(self.exponents[0])

    def to_dict(self, history: bool = False) -> dict[str, Any]:
        """JSON-able numbers; ``history`` adds the running estimates (for plots and caches)."""
        out = {
            "exponents": self.exponents.tolist(),
            "per_step": (self.exponents * self.dt).tolist(),
            "lambda_max": self.lambda_max,
            "stderr": self.stderr.tolist(),
            "drift": self.drift.tolist(),
            "converged": self.converged,
            "kaplan_yorke_dimension": self.kaplan_yorke,
            "dt": self.dt,
            "n_steps": self.n_steps,
        }
        if history:
            out["history_steps"] = self.history_steps.tolist()
            out["history"] = self.history.tolist()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpectrumReport:
        """Inverse of :meth:`to_dict` with ``history=True``."""
        k = len(d["exponents"])
        return cls(
            exponents=np.asarray(d["exponents"], dtype=float),
            stderr=np.asarray(d["stderr"], dtype=float),
            drift=np.asarray(d["drift"], dtype=float),
            converged=bool(d["converged"]),
            kaplan_yorke=float(d["kaplan_yorke_dimension"]),
            dt=float(d["dt"]),
            n_steps=int(d["n_steps"]),
            history_steps=np.asarray(d["history_steps"], dtype=np.int64),
            history=np.asarray(d["history"], dtype=float).reshape(-1, k),
        )


def _block_stderr(history_steps: np.ndarray, history: np.ndarray) -> np.ndarray:
    """Batch-means standard error from running means ``history`` ``(R, k)`` at steps ``(R,)``."""
    k = history.shape[1] if history.ndim == 2 else 0
    if len(history_steps) < 2:
        return np.full(k, np.nan)
    sums = history * history_steps[:, None]
    n = history_steps[-1]
    edges = np.linspace(0, n, N_BLOCKS + 1)[1:]
    idx = np.unique(
        np.searchsorted(history_steps, edges, side="left").clip(0, len(history_steps) - 1)
    )
    s = np.vstack([np.zeros(k), sums[idx]])
    t = np.concatenate([[0], history_steps[idx]])
    blocks = np.diff(s, axis=0) / np.diff(t)[:, None]
    if len(blocks) < 2:
        return np.full(k, np.nan)
    return blocks.std(axis=0, ddof=1) / np.sqrt(len(blocks))


def report_from_result(res: LyapunovResult) -> SpectrumReport:
    """Convergence diagnostics of a :class:`~attractor.metrics.lyapunov.LyapunovResult`.

    The running estimates are sorted per row, so exponent i is the i-th largest throughout.
    """
    hist, steps = np.asarray(res.history), np.asarray(res.history_steps)
    exps = np.asarray(res.exponents)
    if len(hist):
        half = hist[int(np.searchsorted(steps, steps[-1] / 2, side="left"))]
        drift = np.abs(exps - half)
    else:
        drift = np.full(exps.shape, np.nan)
    stderr = _block_stderr(steps, hist) if len(hist) else np.full(exps.shape, np.nan)
    floor = CONVERGED_FLOOR_PER_STEP / res.dt
    converged = bool(drift[0] <= CONVERGED_RTOL * max(abs(exps[0]), floor))
    return SpectrumReport(
        exponents=exps,
        stderr=stderr,
        drift=drift,
        converged=converged,
        kaplan_yorke=float(res.kaplan_yorke_dimension),
        dt=float(res.dt),
        n_steps=int(res.n_steps),
        history_steps=steps,
        history=hist,
    )


def model_spectrum(
    model: DynamicalModel,
    dt: float = 1.0,
    z0: Any = None,
    x0: Any = None,
    n_steps: int = N_STEPS,
    n_transient: int = N_TRANSIENT,
    k: int | None = None,
    seed: int = 0,
) -> SpectrumReport:
    """The model's Lyapunov spectrum (per unit time, ``dt`` per step) with diagnostics.

    Start from latent ``z0`` ``(M,)`` or observation ``x0`` ``(N,)`` (model units); ``k``
    leading exponents (all M by default).
    """
    res = lyapunov_spectrum(
        model, z0=z0, x0=x0, n_steps=n_steps, n_transient=n_transient, k=k, dt=dt, seed=seed
    )
    return report_from_result(res)


def compare_spectra(
    model: SpectrumReport,
    true: SpectrumReport | None = None,
    dysts_spectrum: Any = None,
    dysts_lambda_max: float | None = None,
) -> dict[str, Any]:
    """Model vs true vs dysts, exponent by exponent (the first ``len(true)`` of the model).

    Returns ``rows`` (``index``, ``model``, ``model_stderr``, ``true``, ``dysts``), the
    relative error of λ_max, and the note on dysts' estimates.
    """
    n = len(model.exponents)
    ref_len = len(true.exponents) if true is not None else n
    dy = None if dysts_spectrum is None else np.asarray(dysts_spectrum, dtype=float)
    rows = []
    for i in range(min(n, max(ref_len, 1))):
        rows.append(
            {
                "index": i + 1,
                "model": float(model.exponents[i]),
                "model_stderr": float(model.stderr[i]),
                "true": float(true.exponents[i]) if true is not None and i < ref_len else None,
                "dysts": float(dy[i]) if dy is not None and i < len(dy) else None,
            }
        )
    out: dict[str, Any] = {"rows": rows, "note": DYSTS_NOTE}
    if true is not None:
        out["lambda_max_relative_error"] = (model.lambda_max - true.lambda_max) / abs(
            true.lambda_max
        )
        out["kaplan_yorke_true"] = true.kaplan_yorke
    out["kaplan_yorke_model"] = model.kaplan_yorke
    if dysts_lambda_max is not None:
        out["lambda_max_dysts"] = float(dysts_lambda_max)
    return out
