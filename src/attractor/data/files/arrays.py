"""NumPy files (.npy, .npz) into a :class:`Raw` table; also the member logic .npz and HDF5 share.

Arrays are always loaded with ``allow_pickle=False``: a file holding Python objects is refused,
never unpickled. See :mod:`attractor.data.files` for the conventions (shapes, ``dt``, ``t``,
``names``, ``units`` members, several members as trials).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from attractor.data.files.validate import (
    DT_KEY,
    MAX_NDIM,
    NAMES_KEY,
    TIME_NAMES,
    UNITS_KEY,
    Raw,
    fail,
)
from attractor.errors import DataError, FileFormatError, did_you_mean

_PICKLE_HINT = (
    "holds Python objects (a pickled array), which attractor never loads because unpickling can "
    "run code; save the data as a plain numeric array instead."
)


def numeric(path: Path, what: str, arr: np.ndarray) -> tuple[np.ndarray, list[str] | None]:
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
        raise fail(path, f"{what} is empty (shape {arr.shape}); check that it is the right file.")
    return np.asarray(arr, dtype=np.float64), fields


def as_table_trials(arr: np.ndarray) -> list[np.ndarray]:
    if arr.ndim == 1:
        return [arr[:, None]]
    if arr.ndim == 2:
        return [arr]
    return list(arr)


def natural_key(s: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


def from_members(
    path: Path,
    kind: str,
    members: dict[str, Any],
    key: str | None,
    time_column: str | int | None,
    attrs: dict[str, Any],
) -> Raw:
    """Shared logic of .npz and .h5: sort members into data, time and metadata.

    ``members`` maps a name to a zero-argument loader returning the array (so that only the
    members used are read); ``attrs`` holds HDF5 attributes (empty for .npz).
    """
    if not members:
        raise fail(
            path,
            "contains no arrays; save the data with numpy.savez or h5py first.",
        )
    names = sorted(members, key=natural_key)
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
            numeric(path, f"array {ignored[0]!r}", members[ignored[0]]())
        raise fail(path, "holds no data arrays besides metadata; add the measurements.")
    arrays = {n: numeric(path, f"array {n!r}", a) for n, a in data.items()}
    if len(arrays) == 1:
        ((n, (arr, fields)),) = arrays.items()
        trials = as_table_trials(arr)
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
    raw = Raw(
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
        t, _ = numeric(path, f"array {time_key!r}", members[time_key]())
        if any(len(tr) != len(t) for tr in trials):
            raise DataError(
                f"{path}: the time stamps {time_key!r} have {len(t)} entries but the data have "
                f"{[len(tr) for tr in trials]} samples; they must match."
            )
        raw.times, raw.time_key = [t] * len(trials), time_key
    return raw


_NPY_MAGIC, _ZIP_MAGIC, _PICKLE_MAGIC = b"\x93NUMPY", b"PK", b"\x80"


def read_npy(path: Path, time_column: str | int | None, key: str | None) -> Raw:
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith(_PICKLE_MAGIC):
        raise fail(path, _PICKLE_HINT)
    if not (head.startswith(_NPY_MAGIC) or head.startswith(_ZIP_MAGIC)):
        raise fail(path, "is not a valid .npy file (no NumPy header); save it with numpy.save.")
    try:
        obj = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise fail(path, _PICKLE_HINT) from None
        raise fail(path, f"is not a valid .npy file ({exc}); save it with numpy.save.") from None
    except (OSError, EOFError) as exc:
        raise fail(path, f"could not be read as .npy ({exc}); save it with numpy.save.") from None
    if isinstance(obj, np.lib.npyio.NpzFile):  # an .npz archive with the wrong extension
        with obj:
            return _read_npz_members(path, obj, time_column, key)
    if key is not None:
        raise fail(path, f"is a single .npy array, so key={key!r} does not apply; drop it.")
    arr, fields = numeric(path, "the array", obj)
    width = arr.shape[-1] if arr.ndim > 1 else 1
    return Raw(
        kind="npy",
        trials=as_table_trials(arr),
        columns=fields or [f"x{j}" for j in range(width)],
        units=[""] * width,
        named=fields is not None,
    )


def _read_npz_members(path: Path, z: Any, time_column: str | int | None, key: str | None) -> Raw:
    def loader(name: str) -> Any:
        def load() -> np.ndarray:
            try:
                return z[name]
            except ValueError as exc:
                if "pickle" in str(exc).lower():
                    raise fail(path, f"array {name!r} {_PICKLE_HINT}") from None
                raise fail(path, f"array {name!r} could not be read ({exc}).") from None

        return load

    return from_members(path, "npz", {n: loader(n) for n in z.files}, key, time_column, {})


def read_npz(path: Path, time_column: str | int | None, key: str | None) -> Raw:
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise fail(
            path, f"is not a valid .npz archive ({exc}); save it with numpy.savez."
        ) from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise fail(path, "holds a single .npy array, not an .npz archive; rename it to .npy.")
    with z:
        return _read_npz_members(path, z, time_column, key)
