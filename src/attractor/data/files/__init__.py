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

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from attractor.data.files.arrays import read_npy, read_npz
from attractor.data.files.hdf5 import read_h5
from attractor.data.files.text import read_text
from attractor.data.files.validate import check_path, finish
from attractor.data.files.write import write_series
from attractor.data.series import TimeSeries
from attractor.errors import DataError, FileFormatError

__all__ = ["read_series", "write_series"]


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
    kind = check_path(p)
    if dt is not None and not (np.isfinite(dt) and dt > 0):
        raise DataError(f"dt must be a positive number, got {dt}.")
    if kind in ("csv", "tsv", "txt"):
        if key is not None:
            raise FileFormatError(f"{p}: key= applies to .npz and .h5 files only; drop it.")
        raw = read_text(p, kind)
    elif kind == "npy":
        raw = read_npy(p, time_column, key)
    elif kind == "npz":
        raw = read_npz(p, time_column, key)
    else:
        raw = read_h5(p, time_column, key)
    return finish(p, raw, dt, columns, time_column)
