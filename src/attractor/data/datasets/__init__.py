"""Real measured data shipped with attractor, one folder per dataset, loaded offline.

>>> from attractor.data.datasets import load_dataset
>>> ecg = load_dataset("ecg")          # MIT-BIH record 208, 360 Hz, mV
>>> ecg.values.shape, ecg.dt
((108000, 1), 0.002777777777777778)

A dataset is a folder ``<name>/`` here holding

* the data file, in any format :func:`attractor.data.files.read_series` reads;
* ``meta.json``: what it is and where it came from (``description``, ``source``, ``origin``,
  ``citation``, ``license``), how to check and read it (``file``, ``sha256``, ``n_samples``,
  optional ``decode`` ``{"key", "zero", "gain"}``: the member to read and the affine map
  ``value = (raw − zero) / gain`` from stored integers to the data's units), its sampling and
  channels (``dt``, ``dt_unit``, ``names``, ``units``) and the defaults
  :func:`attractor.data.pipeline.prepare_data` uses for it (``highpass``, ``downsample``,
  ``d_stsp_method``, ``lag``, ``dim``; ``null`` for none or automatic);
* ``SOURCE.md``: origin, licence and the reasons for the defaults in full.

Adding a dataset is adding a folder: the folders are discovered, no code names them. The data
file's SHA-256 is checked on every load, so a damaged installation is reported rather than
silently used. Scalar measurements such as the ECG are raw series: delay-embed them
(:func:`attractor.data.embedding.embed`) before reconstructing dynamics.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from attractor.data.series import TimeSeries
from attractor.errors import FileFormatError, UnknownNameError, did_you_mean

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["DatasetInfo", "dataset_info", "list_datasets", "load_dataset"]

#: The file in every dataset folder that describes it.
META_FILE = "meta.json"


@dataclass(frozen=True)
class DatasetInfo:
    """What a shipped dataset is, where it came from, how to check its file (its ``meta.json``)."""

    name: str
    file: str
    description: str
    dt: float
    dt_unit: str
    n_samples: int
    names: tuple[str, ...]
    units: tuple[str, ...]
    source: str
    origin: str
    citation: tuple[str, ...]
    license: str
    sha256: str
    #: Member to read and affine decoding ``(raw − zero) / gain``; ``None``: the file as it is.
    decode: dict[str, Any] | None = None
    #: Pre-processing ``attractor.fit`` applies by default (see :mod:`attractor.data.filters`):
    #: high-pass cutoff in cycles per ``dt_unit`` and downsampling factor; ``None`` for none.
    highpass: float | None = None
    downsample: int | None = None
    #: D_stsp estimator for validation and test (``auto`` | ``binned`` | ``gmm``).
    d_stsp_method: str = "auto"
    #: Delay-embedding lag and dimension ``attractor.fit`` uses by default (``None``: automatic).
    lag: int | None = None
    dim: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["names"], d["units"], d["citation"] = (
            list(self.names),
            list(self.units),
            list(self.citation),
        )
        return d


_REQUIRED = ("file", "description", "dt", "n_samples", "names", "units", "source", "license")
_REQUIRED += ("sha256",)


def _parse_meta(name: str, text: str) -> DatasetInfo:
    """A :class:`DatasetInfo` from a folder's ``meta.json``, or a FileFormatError naming the fix."""
    where = f"the {META_FILE} of dataset {name!r}"
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{where} is not valid JSON ({exc}); fix the file.") from None
    if not isinstance(meta, dict):
        raise FileFormatError(f"{where} must hold a JSON object, got {type(meta).__name__}.")
    known = {f.name for f in fields(DatasetInfo)} - {"name"}
    missing = [k for k in _REQUIRED if k not in meta]
    unknown = sorted(set(meta) - known)
    if missing or unknown:
        what = f"lacks {missing}" if missing else f"has unknown keys {unknown}"
        raise FileFormatError(f"{where} {what}; its keys are {sorted(known)}.")
    meta.setdefault("dt_unit", "")
    meta.setdefault("origin", "")
    for key in ("names", "units", "citation"):
        meta[key] = tuple(meta.get(key) or ())
    dt = meta["dt"]
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not dt > 0:
        raise FileFormatError(f"{where} gives dt = {dt!r}; it must be a positive number.")
    if len(meta["names"]) != len(meta["units"]):
        raise FileFormatError(
            f"{where} gives {len(meta['names'])} names but units for "
            f"{len(meta['units'])} channels; give one unit per channel."
        )
    decode = meta.get("decode")
    if decode is not None and (
        not isinstance(decode, dict) or set(decode) - {"key", "zero", "gain"}
    ):
        raise FileFormatError(f"{where}: decode must be an object with keys key, zero, gain.")
    return DatasetInfo(name=name, **meta)


def _root() -> Traversable:
    """The folder holding the dataset folders (this package)."""
    return resources.files(__name__)


@lru_cache(maxsize=4)
def _discover(root: Traversable) -> dict[str, tuple[DatasetInfo, Traversable]]:
    """Every folder of ``root`` with a ``meta.json``: name (the folder's, lower case) → facts."""
    found: dict[str, tuple[DatasetInfo, Traversable]] = {}
    for folder in root.iterdir():
        meta = folder.joinpath(META_FILE)
        if folder.is_dir() and meta.is_file():
            name = folder.name.lower()
            found[name] = (_parse_meta(name, meta.read_text(encoding="utf-8")), folder)
    return found


def list_datasets() -> list[str]:
    """Names of the datasets shipped with attractor (its dataset folders)."""
    return sorted(_discover(_root()))


def _entry(name: str) -> tuple[DatasetInfo, Traversable]:
    index = _discover(_root())
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in index:
        raise UnknownNameError(
            f"no dataset named {name!r}; the shipped datasets are {sorted(index)}."
            + did_you_mean(str(name), sorted(index))
        )
    return index[key]


def dataset_info(name: str) -> dict[str, Any]:
    """Facts, provenance, citation, licence, checksum and defaults of a shipped dataset."""
    return _entry(name)[0].to_dict()


def _checked_file(info: DatasetInfo, folder: Traversable) -> Traversable:
    data = folder.joinpath(info.file)
    try:
        raw = data.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise FileFormatError(
            f"the data file {info.file!r} of dataset {info.name!r} is missing from the installed "
            "package; reinstall attractor (its package data were not installed)."
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != info.sha256:
        raise FileFormatError(
            f"the data file {info.file!r} of dataset {info.name!r} is damaged (SHA-256 "
            f"{digest[:12]}…, expected {info.sha256[:12]}…); reinstall attractor."
        )
    return data


def load_dataset(name: str) -> TimeSeries:
    """Load a shipped dataset as a raw (not standardised, not embedded) TimeSeries.

    ``"ecg"``: ``(108000, 1)`` millivolts, ``dt = 1/360`` s, source
    ``"MIT-BIH record 208 via scipy.misc"``; ``meta["dataset"]`` holds :func:`dataset_info`.
    Unknown names raise :class:`~attractor.errors.UnknownNameError`; a missing or damaged file,
    or one that does not match its ``meta.json``, :class:`~attractor.errors.FileFormatError`.
    """
    from attractor.data.files import read_series

    info, folder = _entry(name)
    data = _checked_file(info, folder)
    decode = info.decode or {}
    with resources.as_file(data) as path:
        ts = read_series(path, dt=info.dt, key=decode.get("key"))
    trials = list(ts.trials)
    if "zero" in decode or "gain" in decode:
        zero, gain = decode.get("zero", 0), decode.get("gain", 1.0)
        trials = [(v - zero) / gain for v in trials]
    if sum(len(v) for v in trials) != info.n_samples or ts.n_channels != len(info.names):
        raise FileFormatError(
            f"the data file of dataset {info.name!r} holds {ts.n_channels} channel(s) and "
            f"{sum(len(v) for v in trials)} samples, but its {META_FILE} says "
            f"{len(info.names)} and {info.n_samples}; correct {META_FILE}."
        )
    return TimeSeries(
        trials if len(trials) > 1 else np.asarray(trials[0]),
        dt=info.dt,
        names=info.names,
        units=info.units,
        source=info.source,
        meta={"dataset": info.to_dict()},
    )
