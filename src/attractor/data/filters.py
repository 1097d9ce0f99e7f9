"""Pre-processing of measured series before reconstruction: drift removal and downsampling.

Real recordings rarely arrive ready for a dynamical model. An ECG, for instance, rides on a
baseline that wanders with breathing and electrode motion (record 208's strongest spectral peak
is at 0.22 Hz, below the ~2 Hz heart rate), and it is sampled far faster than its dynamics need.
Fed raw to the delay embedding, the slow drift sets the lag (the mutual information's first
minimum then measures the drift, 166 samples = 0.46 s) and a model learns the drift, not the
heart. Two standard operations fix this:

* **high-pass** — a zero-phase Butterworth filter of order 2 (``scipy.signal.butter`` as
  second-order sections, applied forward and backward by ``sosfiltfilt``, so the effective order
  is 4 and nothing is shifted in time) removes components below ``cutoff`` cycles per time unit
  (Hz when ``dt`` is in seconds); one cutoff period at each end of a trial, where the filter
  sees the edge, is dropped;
* **downsample** — keep every ``q``-th sample after a zero-phase anti-aliasing FIR low-pass
  (``scipy.signal.decimate(..., ftype="fir", zero_phase=True)``); ``dt`` becomes ``q·dt``.

Both come from SciPy rather than being written here; this module only checks the inputs, applies
the steps trial by trial in a fixed order (high-pass, then downsample), and records what was done
in ``meta["preprocess"]`` so that a run can be re-evaluated on new data with the same steps.
Each split (training, validation, test) is filtered on its own, so no sample of the test part
leaks into the filtered training data.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from attractor.data.series import TimeSeries
from attractor.errors import DataError

#: Order of the Butterworth high-pass (doubled by the forward-backward pass).
HIGHPASS_ORDER = 2


@dataclass(frozen=True)
class Preprocess:
    """What to do to a raw series before embedding: ``highpass`` cutoff (cycles per time unit,
    ``None`` or 0 for none) and integer ``downsample`` factor (``None`` or 1 for none)."""

    highpass: float | None = None
    downsample: int | None = None

    def __post_init__(self) -> None:
        hp, q = self.highpass, self.downsample
        if hp is not None and (not isinstance(hp, (int, float)) or not math.isfinite(hp) or hp < 0):
            raise DataError(f"the high-pass cutoff must be a non-negative number, got {hp!r}.")
        if q is not None and (isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 1):
            raise DataError(f"the downsampling factor must be an integer ≥ 1, got {q!r}.")

    @property
    def active(self) -> bool:
        return bool(self.highpass) or (self.downsample or 1) > 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Preprocess:
        d = d or {}
        return cls(highpass=d.get("highpass"), downsample=d.get("downsample"))


def highpass(ts: TimeSeries, cutoff: float) -> TimeSeries:
    """Zero-phase Butterworth high-pass of every channel of every trial.

    ``cutoff`` is in cycles per time unit of ``ts.dt`` and must lie below the Nyquist frequency
    ``1 / (2·dt)``. One cutoff period (at least 9 samples) is dropped at each end of every trial;
    a trial shorter than four cutoff periods is an error.
    """
    from scipy.signal import butter, sosfiltfilt  # imported when used: slow to import

    nyquist = 0.5 / ts.dt
    if not 0 < cutoff < nyquist:
        raise DataError(
            f"the high-pass cutoff must lie between 0 and the Nyquist frequency {nyquist:g} "
            f"(half the sampling rate 1/dt), got {cutoff:g}."
        )
    sos = butter(HIGHPASS_ORDER, cutoff, btype="highpass", fs=1.0 / ts.dt, output="sos")
    # Edges: any extension of the signal beyond its ends is a guess (scipy's odd extension
    # forces the filtered end points to 0), and the guess leaks in over the filter's impulse
    # response (time constant 1/(2π·cutoff)). So pad by one cutoff period and then drop one
    # cutoff period at each end of every trial: what is kept is free of edge effects.
    trim = max(3 * (2 * len(sos) + 1), round(1.0 / (cutoff * ts.dt)))
    short = min(ts.lengths)
    if short <= 4 * trim:
        raise DataError(
            f"a trial of {short} samples is too short to high-pass filter at {cutoff:g} (needs "
            f"more than four cutoff periods, {4 * trim} samples); use longer trials or a "
            "higher cutoff."
        )
    out = [sosfiltfilt(sos, v, axis=0, padlen=trim)[trim:-trim] for v in ts.trials]
    return ts.with_values(out)


def downsample(ts: TimeSeries, q: int) -> TimeSeries:
    """Anti-aliased decimation by ``q`` (zero-phase FIR); ``dt`` becomes ``q·dt``."""
    if q == 1:
        return ts
    short = min(ts.lengths)
    if short < 30 * q:  # decimate's FIR has 20·q + 1 taps; keep a margin for its padding
        raise DataError(
            f"a trial of {short} samples is too short to downsample by {q}; "
            "use longer trials or a smaller downsample=."
        )
    from scipy.signal import decimate

    trials = [decimate(v, q, ftype="fir", axis=0, zero_phase=True) for v in ts.trials]
    return ts.with_values(trials, dt=ts.dt * q)


def preprocess(ts: TimeSeries, steps: Preprocess) -> TimeSeries:
    """Apply ``steps`` (high-pass, then downsample) and record them in ``meta["preprocess"]``."""
    if ts.scaler is not None:
        raise DataError("pre-process raw data, before standardising it.")
    if not steps.active:
        return ts
    out = ts
    if steps.highpass:
        out = highpass(out, float(steps.highpass))
    if (steps.downsample or 1) > 1:
        out = downsample(out, int(steps.downsample))  # type: ignore[arg-type]
    return out.with_values(list(out.trials), meta={**ts.meta, "preprocess": steps.to_dict()})
