"""How faithful a reconstruction is: the field's metrics (REFERENCE §3).

* geometry — ``D_stsp``, the state-space divergence (binned for N ≤ 5, Gaussian mixture above).
* spectrum — ``D_H``, the Hellinger distance between smoothed power spectra.
* forecast — ``PE(n)``, ``sMAPE`` and the valid prediction time ``VPT``.
* lyapunov — Lyapunov spectra by the QR method (of a model, a map or a flow), ``D_KY``.

Every metric takes arrays of shape ``(T, N)`` (numpy, torch or a single-trial TimeSeries) and
returns Python floats or small dataclasses; bad input raises :class:`attractor.errors.DataError`.
"""

from attractor.metrics.forecast import (
    VPT,
    nrmse,
    prediction_error,
    prediction_error_curve,
    smape,
    valid_prediction_time,
)
from attractor.metrics.geometry import bin_edges, binned_distributions, coverage, d_stsp
from attractor.metrics.lyapunov import (
    LyapunovResult,
    kaplan_yorke_dimension,
    lyapunov_spectrum,
    lyapunov_spectrum_flow,
    lyapunov_spectrum_map,
)
from attractor.metrics.spectrum import d_h, d_h_per_dim, hellinger, power_spectrum

__all__ = [
    "VPT",
    "LyapunovResult",
    "bin_edges",
    "binned_distributions",
    "coverage",
    "d_h",
    "d_h_per_dim",
    "d_stsp",
    "hellinger",
    "kaplan_yorke_dimension",
    "lyapunov_spectrum",
    "lyapunov_spectrum_flow",
    "lyapunov_spectrum_map",
    "nrmse",
    "power_spectrum",
    "prediction_error",
    "prediction_error_curve",
    "smape",
    "valid_prediction_time",
]
