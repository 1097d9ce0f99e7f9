"""Reading and writing time series files: .csv/.tsv/.txt, .npy, .npz and .h5/.hdf5.

:func:`read_series` turns a file into a validated :class:`~attractor.data.series.TimeSeries`;
:func:`write_series` writes one (or a bare array) back, atomically. Every problem with a file is
raised as one sentence naming the file and saying what to do: :class:`FileFormatError` when the
file cannot be read as data (missing, empty, malformed, unsupported kind), :class:`DataError` when
it can but the numbers are unusable (non-finite, irregular time stamps, wrong shape).

File conventions
----------------
Text (``.csv`` comma — or semicolon/tab if the first line has no comma —, ``.tsv`` tab, ``.txt``
whitespace). Lines starting with ``#`` and blank lines are skipped. The first row is a header if
any of its cells is not a number; a header given as the last ``#`` comment line (what
``numpy.savetxt(header=...)`` writes) is also recognised. A header cell ``name [unit]`` or
``name (unit)`` (with a space before the parenthesis, so ``x(t-τ)`` stays a name) sets that
channel's unit. Columns with special names:

* ``t`` or ``time`` (also with a unit, e.g. ``time (s)``, or ``t_s``): the time stamps. They must
  increase evenly (within 1 % of a step); their step becomes ``dt``. Without a header there is no
  automatic time column; name one with ``time_column=0``.
* ``trial``: integer labels; the rows of each label (in file order) form one trajectory, the
  trajectories in order of first appearance. Without it the file holds one trajectory.

Arrays (``.npy``; ``.npz`` and ``.h5`` members): ``(T,)`` is one channel, ``(T, N)`` one
trajectory of N channels and ``(trials, T, N)`` several trajectories of equal length. A structured
array (named fields) gives one channel per field, named after it. In ``.npz``/``.h5`` files:

* a scalar ``dt`` member (or, in HDF5, a ``dt`` attribute on the file or the dataset) gives ``dt``;
* 1-D members ``t``/``time`` are time stamps (used like a time column);
* string members (or HDF5 attributes) ``names`` and ``units`` name the channels;
* every other numeric member is data: one member is the whole data set, several members are one
  trajectory each (same number of channels), taken in natural order of their names (``trial_2``
  before ``trial_10``); ``key=`` picks one member (an HDF5 path such as ``"group/data"``).

Arrays are loaded with ``allow_pickle=False`` always: a file holding Python objects is refused
rather than unpickled, since unpickling can run arbitrary code.

``dt`` comes from the file's time stamps or stored ``dt`` if any, else from the ``dt`` argument,
else it is 1.0 (and ``meta["file"]["dt_from"]`` says so). Passing a ``dt`` that disagrees with the
file's by more than 1 % is an error.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
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
_SUPPORTED = ", ".join(sorted(set(READ_KINDS)))


def _fail(path: Path, what: str) -> FileFormatError:
    return FileFormatError(f"{path}: {what}")


def _natural_key(s: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


def _split_unit(header: str) -> tuple[str, str]:
    """``"x [mV]"``, ``"x[mV]"``, ``"x (mV)"`` → ``("x", "mV")``; ``"x(t-τ)"`` has no unit."""
    m = _UNIT_RE.match(header.strip())
    if m and m.group(1):
        return m.group(1).strip(), (m.group(2) if m.group(2) is not None else m.group(3)).strip()
    return header.strip(), ""


def _is_time_name(name: str) -> bool:
    """``t``, ``time``, ``Time (s)``, ``t [ms]``, ``time_s``, ``t_ms`` … are time columns."""
    return _TIME_RE.match(_split_unit(name)[0].lower()) is not None


# ---------------------------------------------------------------------------- the raw content
@dataclass
class _Raw:
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


# ---------------------------------------------------------------------------- text files
def _delimiter(kind: str, first: str) -> str | None:
    """None means runs of whitespace."""
    if kind == "tsv":
        return "\t"
    for d in ("," if kind == "csv" else "", ";" if kind == "csv" else "", "\t", ","):
        if d and d in first:
            return d
    return "," if kind == "csv" else None


def _split_rows(lines: list[str], delim: str | None) -> list[list[str]]:
    if delim is None:
        return [ln.split() for ln in lines]
    return [[c.strip() for c in row] for row in csv.reader(lines, delimiter=delim)]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_text(path: Path, kind: str) -> _Raw:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(
            path,
            f"is not a UTF-8 text file, so it cannot be read as .{path.suffix[1:]}; "
            "save it as plain text or as .npy.",
        ) from None
    content: list[tuple[int, str]] = []
    comment: str | None = None
    for i, ln in enumerate(text.splitlines(), start=1):
        s = ln.strip()
        if not s:
            continue
        if s.startswith("#"):
            if not content:
                comment = s.lstrip("#").strip()
            continue
        content.append((i, ln))
    if not content:
        raise _fail(
            path, "has no data (only blank or # comment lines); check that it is the right file."
        )
    delim = _delimiter(kind, content[0][1])
    rows = _split_rows([ln for _, ln in content], delim)
    if rows and all(r and r[-1] == "" for r in rows):  # trailing delimiter on every line
        rows = [r[:-1] for r in rows]
    line_no = [i for i, _ in content]
    header: list[str] | None = None
    if not all(_is_number(c) for c in rows[0]):
        header, rows, line_no = rows[0], rows[1:], line_no[1:]
        if not rows:
            raise _fail(path, "has a header but no data rows; add the data below the header.")
    elif comment:
        cand = _split_rows([comment], delim)[0]
        if len(cand) == len(rows[0]) and not any(_is_number(c) for c in cand):
            header = cand
    width = len(header) if header is not None else len(rows[0])
    for r, ln in zip(rows, line_no, strict=True):
        if len(r) != width:
            raise _fail(
                path,
                f"line {ln} has {len(r)} value(s) but the "
                f"{'header' if header else 'first row'} has {width}; every row needs the same "
                "number of columns.",
            )
    if header is not None:
        names, units = zip(*(_split_unit(h) for h in header), strict=True)
        names = [n or f"x{j}" for j, n in enumerate(names)]
    else:
        names, units = [f"x{j}" for j in range(width)], [""] * width
    try:
        values = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    except ValueError:
        for r, ln in zip(rows, line_no, strict=True):
            for j, c in enumerate(r):
                if not _is_number(c):
                    what = "is empty" if c == "" else f"holds {c!r}, which is not a number"
                    raise _fail(
                        path,
                        f"line {ln}, column {j + 1} ({names[j]!r}) {what}; fill in or "
                        "remove missing and non-numeric values.",
                    ) from None
        raise  # pragma: no cover - float() and numpy agree on what a number is
    bad = ~np.isfinite(values)
    if bad.any():
        r, j = np.argwhere(bad)[0]
        raise DataError(
            f"{path}: line {line_no[r]}, column {j + 1} ({names[j]!r}) is {rows[r][j]!r}, not a "
            f"finite number ({int(bad.sum())} such value(s) in all); remove or interpolate them."
        )
    return _Raw(
        kind=kind,
        trials=[values],
        columns=list(names),
        units=list(units),
        named=header is not None,
        lines=[np.asarray(line_no)],
    )


def _split_trials(path: Path, raw: _Raw, col: int) -> None:
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


# ---------------------------------------------------------------------------- arrays
_PICKLE_HINT = (
    "holds Python objects (a pickled array), which attractor never loads because unpickling can "
    "run code; save the data as a plain numeric array instead."
)


def _numeric(path: Path, what: str, arr: np.ndarray) -> tuple[np.ndarray, list[str] | None]:
    """A numeric float64 array of rank 1–3 (names of structured fields, if any), or an error."""
    fields = None
    if arr.dtype.names:
        fields = list(arr.dtype.names)
        if not all(np.issubdtype(arr.dtype[f], np.number) for f in fields):
            raise DataError(f"{path}: {what} has non-numeric fields; keep only numeric columns.")
        arr = np.stack([arr[f] for f in fields], axis=-1)
    kind = arr.dtype.kind
    if kind in "USO":
        raise DataError(
            f"{path}: {what} holds text or Python objects (dtype {arr.dtype}), not numbers; "
            "convert it to floats."
        )
    if kind == "c":
        raise DataError(f"{path}: {what} is complex; save real-valued measurements.")
    if kind not in "biuf":
        raise DataError(f"{path}: {what} has dtype {arr.dtype}, not numbers; convert it to floats.")
    if arr.ndim == 0:
        raise DataError(
            f"{path}: {what} is a single number, not a time series; save an array of shape "
            "(T,), (T, N) or (trials, T, N)."
        )
    if arr.ndim > MAX_NDIM:
        raise DataError(
            f"{path}: {what} has {arr.ndim} dimensions {arr.shape}; expected (T,), (T, N) or "
            "(trials, T, N)."
        )
    if arr.size == 0:
        raise _fail(path, f"{what} is empty (shape {arr.shape}); check that it is the right file.")
    return np.asarray(arr, dtype=np.float64), fields


def _as_table_trials(arr: np.ndarray) -> list[np.ndarray]:
    if arr.ndim == 1:
        return [arr[:, None]]
    if arr.ndim == 2:
        return [arr]
    return list(arr)


def _from_members(
    path: Path,
    kind: str,
    members: dict[str, Any],
    key: str | None,
    time_column: str | int | None,
    attrs: dict[str, Any],
) -> _Raw:
    """Shared logic of .npz and .h5: sort members into data, time and metadata.

    ``members`` maps a name to a zero-argument loader returning the array (so that only the
    members used are read); ``attrs`` holds HDF5 attributes (empty for .npz).
    """
    if not members:
        raise _fail(
            path,
            "contains no arrays; save the data with numpy.savez or h5py first.",
        )
    names = sorted(members, key=_natural_key)
    base = {n: n.rsplit("/", 1)[-1] for n in names}
    if key is not None and key not in members:
        raise FileFormatError(
            f"{path}: has no array {key!r}; it has {', '.join(repr(n) for n in names)}."
            + did_you_mean(key, names)
        )
    file_dt = attrs.get(DT_KEY)
    meta_names = attrs.get(NAMES_KEY)
    meta_units = attrs.get(UNITS_KEY)
    time_key: str | None = None
    data: dict[str, np.ndarray] = {}
    ignored: list[str] = []
    for n in names:
        b = base[n].lower()
        if key is not None and n != key and b not in (DT_KEY, NAMES_KEY, UNITS_KEY, *TIME_NAMES):
            continue
        arr = members[n]()
        if b == DT_KEY and arr.size == 1 and arr.dtype.kind in "biuf" and n != key:
            file_dt = float(arr.reshape(()))
        elif b in (NAMES_KEY, UNITS_KEY) and arr.dtype.kind in "US" and n != key:
            strs = [s.decode() if isinstance(s, bytes) else str(s) for s in arr.reshape(-1)]
            meta_names, meta_units = (strs, meta_units) if b == NAMES_KEY else (meta_names, strs)
        elif (
            n != key
            and ((time_column == "auto" and b in TIME_NAMES) or time_column in (n, base[n]))
            and arr.ndim == 1
        ):
            time_key = n
        elif key is None and arr.dtype.kind in "USV" and not arr.dtype.names:
            ignored.append(n)
        else:
            data[n] = arr
    if isinstance(time_column, str) and time_column != "auto" and time_key is None:
        raise FileFormatError(
            f"{path}: has no 1-D array {time_column!r} to use as time stamps; it has "
            f"{', '.join(repr(n) for n in names)}."
        )
    if not data:
        if ignored:
            _numeric(path, f"array {ignored[0]!r}", members[ignored[0]]())
        raise _fail(path, "holds no data arrays besides metadata; add the measurements.")
    arrays = {n: _numeric(path, f"array {n!r}", a) for n, a in data.items()}
    if len(arrays) == 1:
        ((n, (arr, fields)),) = arrays.items()
        trials = _as_table_trials(arr)
    else:
        trials, fields = [], None
        for n, (arr, _) in arrays.items():
            if arr.ndim == MAX_NDIM:
                raise DataError(
                    f"{path}: holds several arrays and {n!r} is 3-D; pick one with key=… "
                    f"(arrays: {', '.join(repr(m) for m in arrays)})."
                )
            trials.append(arr[:, None] if arr.ndim == 1 else arr)
        widths = sorted({t.shape[1] for t in trials})
        if len(widths) > 1:
            raise DataError(
                f"{path}: its arrays {', '.join(repr(m) for m in arrays)} have different "
                f"numbers of channels {widths}, so they cannot be trials of one series; pick one "
                "with key=…."
            )
    width = trials[0].shape[1]
    columns = fields or (
        list(meta_names) if meta_names is not None and len(meta_names) == width else None
    )
    units = list(meta_units) if meta_units is not None and len(meta_units) == width else None
    raw = _Raw(
        kind=kind,
        trials=trials,
        columns=columns or [f"x{j}" for j in range(width)],
        units=units or [""] * width,
        named=columns is not None,
        file_dt=file_dt,
        keys=list(arrays),
        ignored=ignored,
    )
    if time_key is not None:
        t, _ = _numeric(path, f"array {time_key!r}", members[time_key]())
        if any(len(tr) != len(t) for tr in trials):
            raise DataError(
                f"{path}: the time stamps {time_key!r} have {len(t)} entries but the data have "
                f"{[len(tr) for tr in trials]} samples; they must match."
            )
        raw.times, raw.time_key = [t] * len(trials), time_key
    return raw


_NPY_MAGIC, _ZIP_MAGIC, _PICKLE_MAGIC = b"\x93NUMPY", b"PK", b"\x80"


def _read_npy(path: Path, time_column: str | int | None, key: str | None) -> _Raw:
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith(_PICKLE_MAGIC):
        raise _fail(path, _PICKLE_HINT)
    if not (head.startswith(_NPY_MAGIC) or head.startswith(_ZIP_MAGIC)):
        raise _fail(path, "is not a valid .npy file (no NumPy header); save it with numpy.save.")
    try:
        obj = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise _fail(path, _PICKLE_HINT) from None
        raise _fail(path, f"is not a valid .npy file ({exc}); save it with numpy.save.") from None
    except (OSError, EOFError) as exc:
        raise _fail(path, f"could not be read as .npy ({exc}); save it with numpy.save.") from None
    if isinstance(obj, np.lib.npyio.NpzFile):  # an .npz archive with the wrong extension
        with obj:
            return _read_npz_members(path, obj, time_column, key)
    if key is not None:
        raise _fail(path, f"is a single .npy array, so key={key!r} does not apply; drop it.")
    arr, fields = _numeric(path, "the array", obj)
    width = arr.shape[-1] if arr.ndim > 1 else 1
    return _Raw(
        kind="npy",
        trials=_as_table_trials(arr),
        columns=fields or [f"x{j}" for j in range(width)],
        units=[""] * width,
        named=fields is not None,
    )


def _read_npz_members(path: Path, z: Any, time_column: str | int | None, key: str | None) -> _Raw:
    def loader(name: str) -> Any:
        def load() -> np.ndarray:
            try:
                return z[name]
            except ValueError as exc:
                if "pickle" in str(exc).lower():
                    raise _fail(path, f"array {name!r} {_PICKLE_HINT}") from None
                raise _fail(path, f"array {name!r} could not be read ({exc}).") from None

        return load

    return _from_members(path, "npz", {n: loader(n) for n in z.files}, key, time_column, {})


def _read_npz(path: Path, time_column: str | int | None, key: str | None) -> _Raw:
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _fail(
            path, f"is not a valid .npz archive ({exc}); save it with numpy.savez."
        ) from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise _fail(path, "holds a single .npy array, not an .npz archive; rename it to .npy.")
    with z:
        return _read_npz_members(path, z, time_column, key)


def _h5_attrs(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in (DT_KEY, NAMES_KEY, UNITS_KEY):
        if k in obj.attrs:
            v = obj.attrs[k]
            if k == DT_KEY:
                out[k] = float(np.asarray(v).reshape(()))
            else:
                out[k] = [s.decode() if isinstance(s, bytes) else str(s) for s in np.ravel(v)]
    return out


def _read_h5(path: Path, time_column: str | int | None, key: str | None) -> _Raw:
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise _fail(path, f"is not a valid HDF5 file ({exc}); save it with h5py.") from None
    with f:
        datasets: dict[str, Any] = {}
        f.visititems(
            lambda n, o: datasets.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None
        )
        if not datasets:
            raise _fail(
                path, "contains no datasets (only groups or nothing); write the data as a dataset."
            )

        def loader(ds: Any) -> Any:
            def load() -> np.ndarray:
                if h5py.check_string_dtype(ds.dtype) is not None:
                    return np.asarray(ds.asstr()[()], dtype=str)
                return np.asarray(ds[()])

            return load

        attrs = _h5_attrs(f)
        chosen = key if key in datasets else None
        if chosen is None and len(datasets) == 1:
            chosen = next(iter(datasets))
        if chosen is not None:
            attrs.update(_h5_attrs(datasets[chosen]))
        raw = _from_members(
            path, "hdf5", {n: loader(d) for n, d in datasets.items()}, key, time_column, attrs
        )
    return raw


# ---------------------------------------------------------------------------- time and dt
def _grid_dt(path: Path, t: np.ndarray, label: str, lines: np.ndarray | None) -> float:
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


def _resolve_column(path: Path, raw: _Raw, col: str | int, what: str) -> int:
    k = len(raw.columns)
    if isinstance(col, (int, np.integer)) and not isinstance(col, bool):
        if not -k <= col < k:
            raise DataError(f"{path}: {what} index {col} is out of range for {k} column(s).")
        return int(col) % k
    if isinstance(col, str):
        exact = [j for j, c in enumerate(raw.columns) if c == col]
        if not exact:
            exact = [j for j, c in enumerate(raw.columns) if c == _split_unit(col)[0]]
        if exact:
            return exact[0]
        raise DataError(
            f"{path}: has no column {col!r} ({what}); its columns are {raw.columns}."
            + did_you_mean(col, raw.columns)
        )
    raise DataError(f"{path}: {what} must be a column name or index, got {col!r}.")


def _finish(
    path: Path,
    raw: _Raw,
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
            found = [j for j, c in enumerate(raw.columns) if _is_time_name(c)]
            tcol = found[0] if found else None
    elif time_column is not None and raw.times is None:
        tcol = _resolve_column(path, raw, time_column, "time_column")
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
        _split_trials(path, raw, col)
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
                and c in (time_name, _split_unit(time_name)[0])
            ):
                raise DataError(
                    f"{path}: {c!r} holds the time stamps; pass time_column=None to use it as a "
                    "channel."
                )
            idx.append(_resolve_column(path, raw, c, "columns"))
        raw.trials = [tr[:, idx] for tr in raw.trials]
        raw.columns = [raw.columns[j] for j in idx]
        raw.units = [raw.units[j] for j in idx]
    # dt
    file_dt, dt_from = raw.file_dt, "dt stored in the file" if raw.file_dt is not None else None
    if raw.times is not None:
        label = repr(time_name)
        steps = [
            _grid_dt(path, t, label, raw.lines[k] if raw.lines else None)
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


# ---------------------------------------------------------------------------- public API
def _check_path(path: Path) -> str:
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        siblings = [p.name for p in parent.iterdir()] if parent.is_dir() else []
        hint = did_you_mean(path.name, siblings)
        raise FileFormatError(f"{path}: no such file; check the path.{hint}")
    if path.is_dir():
        raise FileFormatError(f"{path}: is a directory; pass a data file ({_SUPPORTED}) inside it.")
    kind = READ_KINDS.get(path.suffix.lower())
    if kind is None:
        what = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise FileFormatError(
            f"{path}: has {what}, which attractor cannot read; save the data as one of "
            f"{_SUPPORTED}."
        )
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path}: is empty (0 bytes); check that it is the right file.")
    return kind


def read_series(
    path: str | os.PathLike[str],
    dt: float | None = None,
    columns: Sequence[str | int] | str | int | None = None,
    time_column: str | int | None = "auto",
    key: str | None = None,
) -> TimeSeries:
    """Read a time series file (.csv, .tsv, .txt, .npy, .npz, .h5/.hdf5) into a TimeSeries.

    Parameters
    ----------
    path: the file; its extension decides how it is read (see the module docstring for the
        conventions of each kind).
    dt: sampling interval, used when the file has no time stamps or stored ``dt`` (else 1.0).
        If the file has them and ``dt`` disagrees by more than 1 %, that is an error.
    columns: channels to keep, by header name (or ``x0, x1, …`` when there is none) or 0-based
        index among the file's columns left after the time and trial columns; default: all.
    time_column: ``"auto"`` (a column or member named ``t``/``time``), a column name or index,
        or None for no time stamps.
    key: for .npz/.h5, the one array (HDF5 path) to read; default: all data arrays.

    Returns a TimeSeries ``(T, N)`` (or several trials) with ``source = str(path)`` and
    ``meta["file"] = {"path", "kind", "dt_from", "time_column", "trial_column", …}``.
    """
    p = Path(path)
    kind = _check_path(p)
    if dt is not None and not (np.isfinite(dt) and dt > 0):
        raise DataError(f"dt must be a positive number, got {dt}.")
    if kind in ("csv", "tsv", "txt"):
        if key is not None:
            raise FileFormatError(f"{p}: key= applies to .npz and .h5 files only; drop it.")
        raw = _read_text(p, kind)
    elif kind == "npy":
        raw = _read_npy(p, time_column, key)
    elif kind == "npz":
        raw = _read_npz(p, time_column, key)
    else:
        raw = _read_h5(p, time_column, key)
    return _finish(p, raw, dt, columns, time_column)


# ---------------------------------------------------------------------------- writing
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
        trials = _as_table_trials(arr)
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
            f"{_SUPPORTED}."
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
    with _atomic(p) as tmp:
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
