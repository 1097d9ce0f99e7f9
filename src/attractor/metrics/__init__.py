"""How faithful a reconstruction is: the field's metrics (REFERENCE §3).

* registry — one entry per metric: key, label, direction, how it is computed; ``register``.
* geometry — ``D_stsp``, the state-space divergence (binned for N ≤ 5, Gaussian mixture above).
* spectrum — ``D_H``, the Hellinger distance between smoothed power spectra.
* forecast — ``PE(n)``, ``sMAPE`` and the valid prediction time ``VPT``.
* lyapunov — Lyapunov spectra by the QR method (of a model, a map or a flow), ``D_KY``.
* protocol — the evaluation protocol of a trained model (``evaluate``, ``validate``).

Every metric takes arrays of shape ``(T, N)`` (numpy, torch or a single-trial TimeSeries) and
returns Python floats or small dataclasses; bad input raises :class:`attractor.errors.DataError`.
The names below are imported on first use (PEP 562), so the registry loads without torch.
"""

from __future__ import annotations

from attractor import lazy_exports

_EXPORTS: dict[str, str] = {
    "VPT": "forecast",
    "nrmse": "forecast",
    "prediction_error": "forecast",
    "prediction_error_curve": "forecast",
    "smape": "forecast",
    "valid_prediction_time": "forecast",
    "bin_edges": "geometry",
    "binned_distributions": "geometry",
    "coverage": "geometry",
    "d_stsp": "geometry",
    "LyapunovResult": "lyapunov",
    "kaplan_yorke_dimension": "lyapunov",
    "lyapunov_spectrum": "lyapunov",
    "lyapunov_spectrum_flow": "lyapunov",
    "lyapunov_spectrum_map": "lyapunov",
    "d_h": "spectrum",
    "d_h_per_dim": "spectrum",
    "hellinger": "spectrum",
    "power_spectrum": "spectrum",
    "Comparison": "registry",
    "MetricEntry": "registry",
    "get_metric": "registry",
    "metric_keys": "registry",
    "register": "registry",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"{__name__}.{module}" for name, module in _EXPORTS.items()}
)
