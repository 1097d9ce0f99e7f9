"""TimeSeries: measured or simulated trajectories with their sampling step and provenance.

A ``TimeSeries`` holds one or several trajectories ("trials") of the same N channels, each an
array of shape ``(T_k, N)``, together with the sampling interval ``dt`` (physical time per
step), channel names, units and a free-form ``source``. It validates what it is given (finite,
2-D, at least two samples) so every later stage can trust its input, and it carries the
:class:`Scaler` used to z-score it so results can be reported in the data's own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attractor.errors import DataError

#: Relative standard deviation below which a channel counts as constant.
CONSTANT_TOL = 1e-10


@dataclass(frozen=True)
class Scaler:
    """Per-channel affine map ``x_std = (x - mean) / std`` (z-scoring), invertible."""

    mean: np.ndarray
    std: np.ndarray

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x) - self.mean) / self.std

    def inverse(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x) * self.std + self.mean

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scaler:
        return cls(np.asarray(d["mean"], dtype=float), np.asarray(d["std"], dtype=float))

    @classmethod
    def fit(cls, trials: Sequence[np.ndarray], names: Sequence[str] | None = None) -> Scaler:
        """Mean and standard deviation of every channel over all trials.

        Raises DataError if a channel is constant (it cannot be z-scored and carries no dynamics).
        """
        allx = np.concatenate(list(trials), axis=0)
        mean = allx.mean(axis=0)
        std = allx.std(axis=0)
        scale = np.maximum(np.abs(mean), 1.0)
        const = np.flatnonzero(std <= CONSTANT_TOL * scale)
        if const.size:
            which = ", ".join(
                repr(names[i]) if names is not None else str(int(i)) for i in const[:5]
            )
            raise DataError(
                f"channel {which} is constant, so it carries no dynamics and cannot be "
                "standardised; drop it before fitting."
            )
        return cls(mean, std)


def _as_trials(values: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Normalise the accepted inputs to a tuple of float64 arrays of shape (T_k, N)."""
    is_trial_list = isinstance(values, (list, tuple)) and all(
        isinstance(v, np.ndarray) for v in values
    )
    if not is_trial_list:
        try:
            arr = np.asarray(values)
        except (ValueError, TypeError) as exc:
            raise DataError(f"could not read the values as a numeric array ({exc}).") from None
        if arr.ndim == 0:
            raise DataError("expected an array of shape (T, N), got a single number.")
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim == 2:
            raw = [arr]
        elif arr.ndim == 3:
            raw = list(arr)
        else:
            raise DataError(
                f"expected an array of shape (T, N) or (trials, T, N), got {arr.ndim} dimensions "
                f"{arr.shape}."
            )
    else:
        raw = [np.asarray(v) for v in values]
        if not raw:
            raise DataError("no trajectories were given; pass at least one array of shape (T, N).")
        raw = [v[:, None] if v.ndim == 1 else v for v in raw]
    out = []
    for k, v in enumerate(raw):
        if v.dtype == object or not (
            np.issubdtype(v.dtype, np.number) or np.issubdtype(v.dtype, np.bool_)
        ):
            raise DataError(
                f"trajectory {k} has dtype {v.dtype}, not numbers; convert it to floats first."
            )
        if np.iscomplexobj(v):
            raise DataError(f"trajectory {k} is complex; pass real-valued measurements.")
        if v.ndim != 2:
            raise DataError(f"trajectory {k} has shape {v.shape}; expected (T, N).")
        out.append(np.ascontiguousarray(v, dtype=np.float64))
    n = {v.shape[1] for v in out}
    if len(n) != 1:
        raise DataError(
            f"trajectories have different numbers of channels {sorted(n)}; they must agree."
        )
    return tuple(out)


@dataclass(frozen=True, init=False)
class TimeSeries:
    """One or several trajectories ``(T_k, N)`` sampled every ``dt`` time units.

    Attributes
    ----------
    trials: tuple of float64 arrays, each ``(T_k, N)``.
    dt: sampling interval in physical time units (1.0 when unknown).
    names: one name per channel.
    units: one unit string per channel (may be empty strings).
    source: where the data came from (system name and settings, file path, …).
    scaler: the z-scoring applied to get these values, if any (``None`` for raw data).
    meta: free-form provenance (integration settings, embedding lag and dimension, …).
    """

    trials: tuple[np.ndarray, ...]
    dt: float = 1.0
    names: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    source: str = ""
    scaler: Scaler | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __init__(
        self,
        values: np.ndarray | Sequence[np.ndarray],
        dt: float = 1.0,
        names: Sequence[str] | None = None,
        units: Sequence[str] | None = None,
        source: str = "",
        scaler: Scaler | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        trials = _as_trials(values)
        n = trials[0].shape[1]
        if n == 0:
            raise DataError("the data have no channels; expected shape (T, N) with N ≥ 1.")
        for k, v in enumerate(trials):
            if v.shape[0] < 2:
                raise DataError(
                    f"trajectory {k} has {v.shape[0]} sample(s); a time series needs at least 2."
                )
            bad = ~np.isfinite(v)
            if bad.any():
                t, c = np.argwhere(bad)[0]
                what = "NaN" if np.isnan(v[t, c]) else "infinite"
                raise DataError(
                    f"trajectory {k} has {int(bad.sum())} non-finite value(s) (first: {what} at "
                    f"time index {t}, channel {c}); remove or interpolate them before fitting."
                )
        if not np.isfinite(dt) or dt <= 0:
            raise DataError(f"dt must be a positive finite number, got {dt}.")
        names = tuple(names) if names is not None else tuple(f"x{i}" for i in range(n))
        if len(names) != n:
            raise DataError(f"{len(names)} channel names given for {n} channels.")
        units = tuple(units) if units is not None else ("",) * n
        if len(units) != n:
            raise DataError(f"{len(units)} units given for {n} channels.")
        object.__setattr__(self, "trials", trials)
        object.__setattr__(self, "dt", float(dt))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "scaler", scaler)
        object.__setattr__(self, "meta", dict(meta or {}))

    # ------------------------------------------------------------------ basic facts
    @property
    def n_channels(self) -> int:
        return self.trials[0].shape[1]

    @property
    def n_trials(self) -> int:
        return len(self.trials)

    @property
    def lengths(self) -> list[int]:
        return [v.shape[0] for v in self.trials]

    @property
    def values(self) -> np.ndarray:
        """The single trajectory ``(T, N)``; raises if there are several trials."""
        if len(self.trials) != 1:
            raise DataError(
                f"this series has {len(self.trials)} trials; use .trials to access them one by one."
            )
        return self.trials[0]

    def __len__(self) -> int:
        return sum(self.lengths)

    def __repr__(self) -> str:
        shape = self.trials[0].shape if self.n_trials == 1 else f"{self.n_trials} trials"
        return (
            f"TimeSeries({shape}, dt={self.dt:g}, names={list(self.names)}, "
            f"source={self.source!r}, standardised={self.scaler is not None})"
        )

    def with_values(self, trials: np.ndarray | Sequence[np.ndarray], **changes: Any) -> TimeSeries:
        """A copy with new values (same dt, names, units, source unless given)."""
        kw: dict[str, Any] = dict(
            dt=self.dt,
            names=self.names,
            units=self.units,
            source=self.source,
            scaler=self.scaler,
            meta=self.meta,
        )
        kw.update(changes)
        return TimeSeries(trials, **kw)

    # ------------------------------------------------------------------ transforms
    def standardise(self, scaler: Scaler | None = None) -> TimeSeries:
        """Z-score every channel: ``(x − mean) / std``, over all trials.

        Pass a ``scaler`` to apply an existing one (e.g. the training set's to test data).
        The returned series remembers the scaler; :meth:`destandardise` undoes it.
        """
        if self.scaler is not None:
            raise DataError("this series is already standardised; call destandardise() first.")
        sc = scaler if scaler is not None else Scaler.fit(self.trials, self.names)
        return self.with_values([sc.transform(v) for v in self.trials], scaler=sc)

    def destandardise(self) -> TimeSeries:
        """Back to the data's own units (inverse of :meth:`standardise`)."""
        if self.scaler is None:
            return self
        sc = self.scaler
        return self.with_values([sc.inverse(v) for v in self.trials], scaler=None)

    def split(self, train_fraction: float = 0.8) -> tuple[TimeSeries, TimeSeries]:
        """Split into a training part and a held-out part.

        One trial: the first ``train_fraction`` of the samples trains, the rest is held out.
        Several trials: whole trials are held out (at least one each side).
        """
        if not 0 < train_fraction < 1:
            raise DataError(f"train_fraction must lie in (0, 1), got {train_fraction}.")
        if self.n_trials == 1:
            v = self.trials[0]
            k = round(train_fraction * len(v))
            if k < 2 or len(v) - k < 2:
                raise DataError(f"a series of {len(v)} samples is too short to split.")
            return self.with_values(v[:k]), self.with_values(v[k:])
        k = min(max(1, round(train_fraction * self.n_trials)), self.n_trials - 1)
        return self.with_values(list(self.trials[:k])), self.with_values(list(self.trials[k:]))

    def add_noise(
        self, level: float, seed: int | np.random.SeedSequence | np.random.Generator = 0
    ) -> TimeSeries:
        """Add Gaussian observation noise with standard deviation ``level × std`` per channel.

        ``seed``: an int, a SeedSequence (a named stream of :class:`attractor.seeds.Seeds`) or a
        numpy Generator.
        """
        if level < 0:
            raise DataError(f"noise level must be ≥ 0, got {level}.")
        if level == 0:
            return self
        rng = np.random.default_rng(seed)
        std = np.concatenate(self.trials).std(axis=0)
        noisy = [v + level * std * rng.standard_normal(v.shape) for v in self.trials]
        meta = {**self.meta, "noise": level}
        if isinstance(seed, int):
            meta["noise_seed"] = seed
        return self.with_values(noisy, meta=meta)

    def select(self, channels: Sequence[int | str]) -> TimeSeries:
        """Keep only some channels (by index or name)."""
        idx = []
        for c in channels:
            if isinstance(c, str):
                if c not in self.names:
                    raise DataError(f"no channel named {c!r}; channels are {list(self.names)}.")
                idx.append(self.names.index(c))
            else:
                if not -self.n_channels <= c < self.n_channels:
                    raise DataError(
                        f"channel index {c} out of range for {self.n_channels} channels."
                    )
                idx.append(int(c) % self.n_channels)
        sc = self.scaler
        if sc is not None:
            sc = Scaler(sc.mean[idx], sc.std[idx])
        return self.with_values(
            [v[:, idx] for v in self.trials],
            names=[self.names[i] for i in idx],
            units=[self.units[i] for i in idx],
            scaler=sc,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (no values): what a run records about its data."""
        return {
            "dt": self.dt,
            "names": list(self.names),
            "units": list(self.units),
            "source": self.source,
            "lengths": self.lengths,
            "n_channels": self.n_channels,
            "scaler": self.scaler.to_dict() if self.scaler else None,
            "meta": self.meta,
        }


def as_series(x: TimeSeries | np.ndarray | Sequence[np.ndarray], dt: float = 1.0) -> TimeSeries:
    """Accept a TimeSeries or raw array(s) and return a TimeSeries."""
    return x if isinstance(x, TimeSeries) else TimeSeries(x, dt=dt)
