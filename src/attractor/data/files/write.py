"""Writing a TimeSeries or bare arrays to .csv/.tsv/.txt, .npy, .npz or .h5, atomically.

The file is written through :func:`attractor.io.atomic_path`, so a crash never leaves a
half-written file and an existing one is replaced only once the new one is complete.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from attractor.data.files.arrays import as_table_trials
from attractor.data.files.validate import (
    DT_KEY,
    NAMES_KEY,
    SUPPORTED,
    UNITS_KEY,
    WRITE_KINDS,
)
from attractor.data.series import TimeSeries
from attractor.errors import DataError, FileFormatError
from attractor.io import atomic_path


def _trials_of(data: TimeSeries | np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(data, TimeSeries):
        return list(data.trials)
    if isinstance(data, (list, tuple)) and all(isinstance(v, np.ndarray) for v in data) and data:
        trials = [np.asarray(v) for v in data]
    else:
        arr = np.asarray(data)
        if arr.ndim not in (1, 2, 3):
            raise DataError(
                f"expected an array of shape (T,), (T, N) or (trials, T, N), got {arr.shape}."
            )
        trials = as_table_trials(arr)
    out = []
    for v in trials:
        v = v[:, None] if v.ndim == 1 else v
        if v.ndim != 2 or v.dtype.kind not in "biuf":
            raise DataError(f"cannot write an array of shape {v.shape} and dtype {v.dtype}.")
        out.append(np.asarray(v, dtype=np.float64))
    if len({v.shape[1] for v in out}) != 1:
        raise DataError("the trajectories have different numbers of channels; they must agree.")
    return out


def write_series(
    path: str | os.PathLike[str],
    data: TimeSeries | np.ndarray | Sequence[np.ndarray],
    names: Sequence[str] | None = None,
    dt: float | None = None,
    units: Sequence[str] | None = None,
) -> Path:
    """Write a TimeSeries or array(s) to .csv/.tsv/.txt, .npy, .npz or .h5, atomically.

    The data go to a temporary file in the same directory that is renamed over ``path`` only when
    complete, so a crash never leaves a half-written file (missing parent directories are
    created). ``names``, ``dt`` and ``units`` default to the TimeSeries' own; arrays get
    ``x0, x1, …``, no units and no time stamps. What each kind stores, so that :func:`read_series`
    reads it back:

    * text: a header row (``name [unit]`` where a unit is known), a ``t`` column when ``dt`` is
      known (``t = k·dt`` within each trial), a ``trial`` column when there are several trials;
      numbers at full precision;
    * ``.npy``: the bare array ``(T, N)``, or ``(trials, T, N)`` for equal-length trials (names and
      dt are not stored; use .npz or .csv to keep them);
    * ``.npz``/``.h5``: ``values`` (or ``trial_0``, ``trial_1``, …), ``dt``, ``names`` and
      ``units`` (HDF5: ``dt``, ``names`` and ``units`` as file attributes).

    Returns the path written.
    """
    p = Path(path)
    kind = WRITE_KINDS.get(p.suffix.lower())
    if kind is None:
        raise FileFormatError(
            f"{p}: cannot write files with extension {p.suffix or '(none)'!r}; use one of "
            f"{SUPPORTED}."
        )
    trials = _trials_of(data)
    if isinstance(data, TimeSeries):
        names = list(data.names) if names is None else list(names)
        units = list(data.units) if units is None else list(units)
        dt = data.dt if dt is None else dt
    width = trials[0].shape[1]
    names = [f"x{j}" for j in range(width)] if names is None else [str(n) for n in names]
    units = [""] * width if units is None else [str(u) for u in units]
    if len(names) != width or len(units) != width:
        raise DataError(f"{len(names)} names and {len(units)} units given for {width} channels.")
    if dt is not None and not (np.isfinite(dt) and dt > 0):
        raise DataError(f"dt must be a positive number, got {dt}.")
    with atomic_path(p) as tmp:
        if kind in ("csv", "tsv", "txt"):
            _write_text(tmp, kind, trials, names, units, dt)
        elif kind == "npy":
            if len({len(v) for v in trials}) > 1:
                raise DataError(
                    f"{p}: trials of different lengths cannot share one .npy array; write .npz "
                    "or .csv instead."
                )
            arr = trials[0] if len(trials) == 1 else np.stack(trials)
            with open(tmp, "wb") as f:
                np.save(f, arr, allow_pickle=False)
        elif kind == "npz":
            members: dict[str, np.ndarray] = _member_arrays(trials)
            members[NAMES_KEY] = np.asarray(names, dtype=str)
            members[UNITS_KEY] = np.asarray(units, dtype=str)
            if dt is not None:
                members[DT_KEY] = np.asarray(float(dt))
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **members)
        else:
            import h5py

            with h5py.File(tmp, "w") as f:
                for k, v in _member_arrays(trials).items():
                    f.create_dataset(k, data=v, compression="gzip")
                f.attrs[NAMES_KEY] = np.asarray(names, dtype=h5py.string_dtype())
                f.attrs[UNITS_KEY] = np.asarray(units, dtype=h5py.string_dtype())
                if dt is not None:
                    f.attrs[DT_KEY] = float(dt)
    return p


def _member_arrays(trials: list[np.ndarray]) -> dict[str, np.ndarray]:
    if len(trials) == 1:
        return {"values": trials[0]}
    return {f"trial_{k}": v for k, v in enumerate(trials)}


def _write_text(
    tmp: Path,
    kind: str,
    trials: list[np.ndarray],
    names: list[str],
    units: list[str],
    dt: float | None,
) -> None:
    delim = {"csv": ",", "tsv": "\t", "txt": " "}[kind]
    names = [f"{n} [{u}]" if u else n for n, u in zip(names, units, strict=True)]
    if kind == "txt":
        names = [re.sub(r"\s+", "", n) for n in names]  # whitespace separates .txt columns
    header = (["t"] if dt is not None else []) + (["trial"] if len(trials) > 1 else []) + names
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=delim, lineterminator="\n")
        w.writerow(header)
        for k, v in enumerate(trials):
            lead = []
            if dt is not None:
                lead.append((np.arange(len(v)) * float(dt))[:, None])
            if len(trials) > 1:
                lead.append(np.full((len(v), 1), k, dtype=np.float64))
            block = np.concatenate([*lead, v], axis=1) if lead else v
            if len(trials) > 1:  # keep the trial label an integer in the text
                j = 1 if dt is not None else 0
                rows = [[*r[:j], k, *r[j + 1 :]] for r in block.tolist()]
            else:
                rows = block.tolist()
            w.writerows(rows)
