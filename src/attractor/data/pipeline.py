"""The data path from a source to standardised train/validation/test series.

Data splits: a dysts system gives three trajectories from different initial conditions —
training (``seed=0``, with observation noise if asked), validation (``seed=1``, same noise
level) and a clean test trajectory (``seed=2``). Measured data are split in time: the first
70 % trains, the next 10 % validates, the last 20 % is the test set (several trials: whole
trials where there are at least three). Measured data may then be high-passed and downsampled
(:mod:`attractor.data.filters`; the shipped ECG is by default), each split on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attractor.data.series import TimeSeries
from attractor.errors import DataError

#: Samples per split when the data come from a dysts system.
SYSTEM_TRAIN = 100_000
SYSTEM_VAL = 20_000
SYSTEM_TEST = 50_000
#: Time fractions of measured data used for training and validation (the rest is the test set).
TRAIN_FRACTION = 0.7
VAL_FRACTION = 0.1


@dataclass
class PreparedData:
    """Standardised train/validation/test series and how they were made."""

    train: TimeSeries
    val: TimeSeries
    test: TimeSeries
    test_raw: np.ndarray
    label: str
    info: dict[str, Any]
    lyapunov_reference: float | None = None


def _resolve_source(data: Any, noise: float | None, seed: int, n_train: int | None) -> tuple:
    """Return (train, val, test) TimeSeries in data units, a label and provenance."""
    from attractor.data.real import list_datasets, load_dataset
    from attractor.data.systems import load_system, system_info

    if (
        isinstance(data, TimeSeries)
        or isinstance(data, np.ndarray)
        or (isinstance(data, (list, tuple)) and data and isinstance(data[0], np.ndarray))
    ):
        ts = data if isinstance(data, TimeSeries) else TimeSeries(data)
        return (*_split_measured(ts.add_noise(noise or 0.0, seed)), "data", {"kind": "array"}, None)
    if not isinstance(data, (str, Path)):
        raise DataError(
            f"cannot fit {type(data).__name__}; pass a system name, a file path, an array "
            "or a TimeSeries."
        )
    text = str(data)
    path = Path(text).expanduser()
    looks_like_file = path.suffix != "" or "/" in text or path.exists()
    if looks_like_file:
        from attractor.data.files import read_series

        ts = read_series(path)
        return (
            *_split_measured(ts.add_noise(noise or 0.0, seed)),
            path.stem,
            {"kind": "file", "path": str(path.resolve())},
            None,
        )
    if text.lower() in list_datasets():
        ts = load_dataset(text.lower())
        return (
            *_split_measured(ts.add_noise(noise or 0.0, seed)),
            text.lower(),
            {"kind": "dataset", "name": text.lower()},
            None,
        )
    info = system_info(text)  # raises UnknownNameError with suggestions
    n_tr, n_va, n_te = SYSTEM_TRAIN, SYSTEM_VAL, SYSTEM_TEST
    if n_train is not None:  # shorter data: validation and test scale with it
        if n_train < 100:
            raise DataError(f"n_train must be at least 100 samples, got {n_train}.")
        n_tr, n_va, n_te = n_train, max(1000, n_train // 5), max(1000, n_train // 2)
    level = 0.0 if noise is None else noise
    train_ts = load_system(info.name, n=n_tr, seed=0).add_noise(level, seed)
    val_ts = load_system(info.name, n=n_va, seed=1).add_noise(level, seed + 10_000)
    test_ts = load_system(info.name, n=n_te, seed=2)
    prov = {
        "kind": "system",
        "system": info.name,
        "noise": level,
        "pts_per_period": train_ts.meta.get("pts_per_period"),
        "lengths": {"train": n_tr, "val": n_va, "test": n_te},
        "ic_seeds": {"train": 0, "val": 1, "test": 2},
    }
    return train_ts, val_ts, test_ts, text, prov, info.lyapunov_max


def _split_measured(ts: TimeSeries) -> tuple[TimeSeries, TimeSeries, TimeSeries]:
    if ts.n_trials >= 3:
        n = ts.n_trials
        k_test = max(1, round(0.2 * n))
        k_val = max(1, round(0.1 * n))
        tr = list(ts.trials[: n - k_test - k_val])
        va = list(ts.trials[n - k_test - k_val : n - k_test])
        te = list(ts.trials[n - k_test :])
        return ts.with_values(tr), ts.with_values(va), ts.with_values(te)
    parts: list[list[np.ndarray]] = [[], [], []]
    for v in ts.trials:
        a = int(TRAIN_FRACTION * len(v))
        b = int((TRAIN_FRACTION + VAL_FRACTION) * len(v))
        if a < 2 or b - a < 2 or len(v) - b < 2:
            raise DataError(
                f"a trajectory of {len(v)} samples is too short to split into training, "
                "validation and test parts; provide a longer series."
            )
        for part, piece in zip(parts, (v[:a], v[a:b], v[b:]), strict=False):
            part.append(piece)
    return tuple(ts.with_values(p) for p in parts)  # type: ignore[return-value]


def prepare_data(
    data: Any,
    noise: float | None = None,
    seed: int = 0,
    embed: str | bool = "auto",
    lag: int | None = None,
    dim: int | None = None,
    n_train: int | None = None,
    highpass: float | None = None,
    downsample: int | None = None,
) -> PreparedData:
    """Resolve, split, (pre-process, embed,) and standardise the data; see the module docstring.

    ``highpass`` (cycles per time unit) and ``downsample`` (integer factor) pre-process each split
    on its own (:mod:`attractor.data.filters`); ``None`` takes a shipped dataset's own default
    (the ECG: 0.5 Hz, 3) and nothing otherwise, 0 and 1 switch the step off. A shipped dataset
    also brings its D_stsp estimator and, when neither ``lag`` nor ``dim`` is given, its
    measured delay embedding (the ECG: lag 18, dimension 8; see :mod:`attractor.data.real`).
    """
    from attractor.data.filters import Preprocess, preprocess

    if noise is not None and (not math.isfinite(noise) or noise < 0):
        raise DataError(f"noise must be a non-negative number, got {noise}.")
    steps = Preprocess(highpass, downsample)  # bad values fail before any data work
    train_ts, val_ts, test_ts, label, prov, lyap = _resolve_source(data, noise, seed, n_train)
    if prov.get("kind") == "dataset":  # a shipped dataset brings its measured defaults
        from attractor.data.real import dataset_info

        info = dataset_info(prov["name"])
        steps = Preprocess(
            info["highpass"] if highpass is None else highpass,
            info["downsample"] if downsample is None else downsample,
        )
        prov["d_stsp_method"] = info["d_stsp_method"]
        if embed is not False and lag is None and dim is None:
            lag, dim = info["lag"], info["dim"]
    if steps.active:

        def _pre(ts: TimeSeries, part: str) -> TimeSeries:
            try:
                return preprocess(ts, steps)
            except DataError as err:  # say which split failed: each is filtered on its own
                raise DataError(f"the {part} part of the data: {err}") from None

        parts = ((train_ts, "training"), (val_ts, "validation"), (test_ts, "test"))
        train_ts, val_ts, test_ts = (_pre(t, part) for t, part in parts)
        prov["preprocess"] = steps.to_dict()
    do_embed = (embed == "auto" and train_ts.n_channels == 1) or embed is True
    if do_embed or lag is not None or dim is not None:
        from attractor.data.embedding import embed as delay_embed

        train_ts = delay_embed(train_ts, lag=lag, dim=dim)
        e = train_ts.meta["embedding"]
        val_ts = delay_embed(val_ts, lag=e["lag"], dim=e["dim"])
        test_ts = delay_embed(test_ts, lag=e["lag"], dim=e["dim"])
        prov["embedding"] = {k: e[k] for k in ("lag", "dim", "method", "mi", "fnn") if k in e}
    train_std = train_ts.standardise()
    sc = train_std.scaler
    val_std = val_ts.standardise(sc)
    test_std = test_ts.standardise(sc)
    prov.update({"dt": train_ts.dt, "names": list(train_ts.names), "units": list(train_ts.units)})
    return PreparedData(
        train_std, val_std, test_std, np.concatenate(test_ts.trials), label, prov, lyap
    )
