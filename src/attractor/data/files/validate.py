"""The shared conventions and checks that turn what a reader found into a TimeSeries.

Every reader (:mod:`.text`, :mod:`.arrays`, :mod:`.hdf5`) returns a :class:`Raw`: the file's
columns as float64 tables, their names and units, and any time stamps or stored ``dt``.
:func:`finish` then splits trials by a ``trial`` column, takes out the time column, picks the
requested channels, settles ``dt`` (time stamps, stored ``dt``, the ``dt`` argument or 1.0, see
:mod:`attractor.data.files`) and builds the validated TimeSeries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from attractor.data.series import TimeSeries
from attractor.errors import DataError, FileFormatError, did_you_mean

# ---------------------------------------------------------------------------- conventions
#: Extension → file kind, for reading.
READ_KINDS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "txt",
    ".npy": "npy",
    ".npz": "npz",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
}
#: Extension → file kind, for writing.
WRITE_KINDS = READ_KINDS
#: Column or member names (lower case, unit stripped) that hold time stamps.
TIME_NAMES = ("t", "time")
#: Column names that label trajectories in a text file.
TRIAL_NAMES = ("trial",)
#: Members of .npz/.h5 files (and HDF5 attributes) holding metadata rather than data.
DT_KEY, NAMES_KEY, UNITS_KEY = "dt", "names", "units"
#: Time stamps may deviate from an even grid by this fraction of a step.
SPACING_RTOL = 0.01
#: A ``dt`` argument may differ from the file's by this fraction before it is an error.
DT_AGREE_RTOL = 0.01
#: Largest array rank accepted: (trials, T, N).
MAX_NDIM = 3

_UNIT_RE = re.compile(r"^(.*?)(?:\s*\[([^\]]*)\]|\s+\(([^)]*)\))\s*$")
_TIME_RE = re.compile(
    rf"^({'|'.join(TIME_NAMES)})(_(s|ms|us|ns|sec|secs|seconds|min|minutes|h|hours|days?))?$"
)
SUPPORTED = ", ".join(sorted(set(READ_KINDS)))


def fail(path: Path, what: str) -> FileFormatError:
    return FileFormatError(f"{path}: {what}")


def split_unit(header: str) -> tuple[str, str]:
    """``"x [mV]"``, ``"x[mV]"``, ``"x (mV)"`` → ``("x", "mV")``; ``"x(t-τ)"`` has no unit."""
    m = _UNIT_RE.match(header.strip())
    if m and m.group(1):
        return m.group(1).strip(), (m.group(2) if m.group(2) is not None else m.group(3)).strip()
    return header.strip(), ""


def is_time_name(name: str) -> bool:
    """``t``, ``time``, ``Time (s)``, ``t [ms]``, ``time_s``, ``t_ms`` … are time columns."""
    return _TIME_RE.match(split_unit(name)[0].lower()) is not None


# ---------------------------------------------------------------------------- the raw content
@dataclass
class Raw:
    """What a reader found, before channels, time and dt are sorted out."""

    kind: str
    trials: list[np.ndarray]  # each (T_k, K) float64: every column of the file
    columns: list[str]  # K column names (x0, x1, … when the file has none)
    units: list[str]  # K units ("" when unknown)
    named: bool = False  # the column names come from the file
    lines: list[np.ndarray] | None = None  # text: file line number of every row, per trial
    times: list[np.ndarray] | None = None  # npz/h5: time stamps per trial
    time_key: str | None = None
    file_dt: float | None = None
    keys: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def split_trials(path: Path, raw: Raw, col: int) -> None:
    """Split the single table of a text file into trials by the label column ``col``."""
    table, lines = raw.trials[0], raw.lines[0] if raw.lines else None
    labels = table[:, col]
    if not np.all(labels == np.round(labels)):
        r = int(np.flatnonzero(labels != np.round(labels))[0])
        where = f"line {lines[r]}" if lines is not None else f"row {r}"
        raise DataError(
            f"{path}: the {raw.columns[col]!r} column must hold whole-number trial labels, but "
            f"{where} has {labels[r]:g}."
        )
    _, first = np.unique(labels, return_index=True)
    order = labels[np.sort(first)]
    keep = [j for j in range(table.shape[1]) if j != col]
    raw.trials = [table[labels == k][:, keep] for k in order]
    if lines is not None:
        raw.lines = [lines[labels == k] for k in order]
    raw.columns = [raw.columns[j] for j in keep]
    raw.units = [raw.units[j] for j in keep]


# ---------------------------------------------------------------------------- time and dt
def grid_dt(path: Path, t: np.ndarray, label: str, lines: np.ndarray | None) -> float:
    """The step of evenly spaced time stamps ``t``, or a DataError saying what is wrong."""
    if len(t) < 2:
        raise DataError(f"{path}: a trajectory has a single time stamp; it needs at least two.")
    step = np.diff(t)
    if np.any(step <= 0):
        r = int(np.flatnonzero(step <= 0)[0]) + 1
        where = f"line {lines[r]}" if lines is not None else f"sample {r}"
        raise DataError(
            f"{path}: the time stamps {label} do not increase at {where} ({t[r - 1]:g} then "
            f"{t[r]:g}); sort the rows by time and remove duplicates."
        )
    dt = (t[-1] - t[0]) / (len(t) - 1)
    if np.max(np.abs(t - (t[0] + dt * np.arange(len(t))))) > SPACING_RTOL * dt:
        raise DataError(
            f"{path}: the time stamps {label} are not evenly spaced (steps from {step.min():g} to "
            f"{step.max():g}); resample the data onto a uniform grid, or pass time_column=None "
            "and dt=… to ignore them."
        )
    return float(dt)


def resolve_column(path: Path, raw: Raw, col: str | int, what: str) -> int:
    k = len(raw.columns)
    if isinstance(col, (int, np.integer)) and not isinstance(col, bool):
        if not -k <= col < k:
            raise DataError(f"{path}: {what} index {col} is out of range for {k} column(s).")
        return int(col) % k
    if isinstance(col, str):
        exact = [j for j, c in enumerate(raw.columns) if c == col]
        if not exact:
            exact = [j for j, c in enumerate(raw.columns) if c == split_unit(col)[0]]
        if exact:
            return exact[0]
        raise DataError(
            f"{path}: has no column {col!r} ({what}); its columns are {raw.columns}."
            + did_you_mean(col, raw.columns)
        )
    raise DataError(f"{path}: {what} must be a column name or index, got {col!r}.")


def finish(
    path: Path,
    raw: Raw,
    dt: float | None,
    columns: Sequence[str | int] | str | int | None,
    time_column: str | int | None,
) -> TimeSeries:
    text = raw.lines is not None
    # trial labels (text files only)
    trial_col = None
    if text and raw.named:
        found = [j for j, c in enumerate(raw.columns) if c.lower() in TRIAL_NAMES]
        if found:
            trial_col = raw.columns[found[0]]
    # time stamps inside the table
    tcol: int | None = None
    if time_column == "auto":
        if raw.named and raw.times is None:
            found = [j for j, c in enumerate(raw.columns) if is_time_name(c)]
            tcol = found[0] if found else None
    elif time_column is not None and raw.times is None:
        tcol = resolve_column(path, raw, time_column, "time_column")
    time_name = raw.columns[tcol] if tcol is not None else raw.time_key
    time_unit = raw.units[tcol] if tcol is not None else ""
    if tcol is not None:
        raw.times = [tr[:, tcol] for tr in raw.trials]
        keep = [j for j in range(len(raw.columns)) if j != tcol]
        raw.trials = [tr[:, keep] for tr in raw.trials]
        raw.columns = [raw.columns[j] for j in keep]
        raw.units = [raw.units[j] for j in keep]
    if trial_col is not None:
        col = raw.columns.index(trial_col)
        if raw.times is not None:  # carry the time stamps through the split as a column
            raw.trials = [
                np.column_stack([tr, t]) for tr, t in zip(raw.trials, raw.times, strict=True)
            ]
            raw.columns, raw.units = [*raw.columns, "\0t"], [*raw.units, ""]
        split_trials(path, raw, col)
        if raw.times is not None:
            raw.times = [tr[:, -1] for tr in raw.trials]
            raw.trials = [tr[:, :-1] for tr in raw.trials]
            raw.columns, raw.units = raw.columns[:-1], raw.units[:-1]
    if not raw.columns:
        raise DataError(
            f"{path}: has no data columns besides the time stamps; add the measurements."
        )
    # channels
    if columns is not None:
        single = isinstance(columns, (str, int, np.integer))
        wanted = [columns] if single else list(columns)
        if not wanted:
            raise DataError(f"{path}: columns=[] selects nothing; name at least one column.")
        idx = []
        for c in wanted:
            if (
                isinstance(c, str)
                and time_name is not None
                and c in (time_name, split_unit(time_name)[0])
            ):
                raise DataError(
                    f"{path}: {c!r} holds the time stamps; pass time_column=None to use it as a "
                    "channel."
                )
            idx.append(resolve_column(path, raw, c, "columns"))
        raw.trials = [tr[:, idx] for tr in raw.trials]
        raw.columns = [raw.columns[j] for j in idx]
        raw.units = [raw.units[j] for j in idx]
    # dt
    file_dt, dt_from = raw.file_dt, "dt stored in the file" if raw.file_dt is not None else None
    if raw.times is not None:
        label = repr(time_name)
        steps = [
            grid_dt(path, t, label, raw.lines[k] if raw.lines else None)
            for k, t in enumerate(raw.times)
        ]
        if max(steps) - min(steps) > DT_AGREE_RTOL * min(steps):
            raise DataError(
                f"{path}: the trials are sampled at different steps ({min(steps):g} to "
                f"{max(steps):g}); resample them to one step."
            )
        file_dt, dt_from = float(np.mean(steps)), f"time stamps {label}"
    if file_dt is not None and not (np.isfinite(file_dt) and file_dt > 0):
        raise DataError(f"{path}: the stored dt is {file_dt}; it must be a positive number.")
    if dt is not None and file_dt is not None:
        if abs(dt - file_dt) > DT_AGREE_RTOL * file_dt:
            raise DataError(
                f"{path}: the file's {dt_from} give dt = {file_dt:g} but dt = {dt:g} was passed; "
                "drop the dt argument (or pass time_column=None to ignore the time stamps)."
            )
    if file_dt is not None:
        final_dt = file_dt
    elif dt is not None:
        final_dt, dt_from = float(dt), "argument"
    else:
        final_dt, dt_from = 1.0, "default (the file has no time information)"
    meta: dict[str, Any] = {
        "file": {
            "path": str(path),
            "kind": raw.kind,
            "dt_from": dt_from,
            "time_column": time_name,
            "trial_column": trial_col,
        }
    }
    if time_unit:
        meta["file"]["time_unit"] = time_unit
    if raw.times is not None:
        meta["file"]["t0"] = [float(t[0]) for t in raw.times]
    if raw.keys:
        meta["file"]["keys"] = raw.keys
    if raw.ignored:
        meta["file"]["ignored"] = raw.ignored
    try:
        return TimeSeries(
            raw.trials,
            dt=final_dt,
            names=raw.columns,
            units=raw.units,
            source=str(path),
            meta=meta,
        )
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None


def check_path(path: Path) -> str:
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        siblings = [p.name for p in parent.iterdir()] if parent.is_dir() else []
        hint = did_you_mean(path.name, siblings)
        raise FileFormatError(f"{path}: no such file; check the path.{hint}")
    if path.is_dir():
        raise FileFormatError(f"{path}: is a directory; pass a data file ({SUPPORTED}) inside it.")
    kind = READ_KINDS.get(path.suffix.lower())
    if kind is None:
        what = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise FileFormatError(
            f"{path}: has {what}, which attractor cannot read; save the data as one of {SUPPORTED}."
        )
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path}: is empty (0 bytes); check that it is the right file.")
    return kind
