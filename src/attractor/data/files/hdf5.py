"""HDF5 files (.h5, .hdf5) into a :class:`Raw` table (h5py is imported only when one is read).

Datasets anywhere in the file are members (HDF5 paths such as ``group/data``); ``dt``, ``names``
and ``units`` may also be attributes of the file or of the chosen dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from attractor.data.files.arrays import from_members
from attractor.data.files.validate import DT_KEY, NAMES_KEY, UNITS_KEY, Raw, fail


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


def read_h5(path: Path, time_column: str | int | None, key: str | None) -> Raw:
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise fail(path, f"is not a valid HDF5 file ({exc}); save it with h5py.") from None
    with f:
        datasets: dict[str, Any] = {}
        f.visititems(
            lambda n, o: datasets.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None
        )
        if not datasets:
            raise fail(
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
        raw = from_members(
            path, "hdf5", {n: loader(d) for n, d in datasets.items()}, key, time_column, attrs
        )
    return raw
