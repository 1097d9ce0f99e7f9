"""The data path from a source to standardised train/validation/test series, as one object.

A :class:`DataPipeline` records every step between raw data and what a model sees, in order:

1. **split** (:class:`Split`) — a dysts system gives three trajectories from different initial
   conditions: training (``seed=0``), validation (``seed=1``) and test (``seed=2``). Measured data
   are split in time: the first 70 % trains, the next 10 % validates, the last 20 % is the test
   set (several trials: whole trials where there are at least three).
2. **noise** — observation noise for every source alike: Gaussian noise of standard deviation
   ``noise × (per-channel std of the part)`` on the training part and the validation part, each
   drawn from its own named stream of the run's seed (:class:`attractor.seeds.Seeds`,
   :data:`NOISE_STREAMS`); the test part stays clean.
3. **filters** (:class:`~attractor.data.filters.Preprocess`) — high-pass and downsampling, each
   split on its own (the shipped ECG is filtered by default).
4. **delay embedding** ``(lag, dim)`` (:func:`~attractor.data.embedding.embed`), chosen on the
   training part where not given (by default for scalar series).
5. **scaler** (:class:`~attractor.data.series.Scaler`) — z-scoring fitted on the training part.

:func:`prepare_data` builds it while preparing a source; :meth:`DataPipeline.to_dict` is what a
run stores (``config.json``, ``data.pipeline``) and :meth:`DataPipeline.apply` re-applies steps
3-5 to new data exactly as fitted, which is how ``attractor eval RUN --data FILE`` reads a file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from attractor.data.filters import Preprocess, preprocess
from attractor.data.series import Scaler, TimeSeries
from attractor.errors import DataError
from attractor.seeds import Seeds

#: Samples per split when the data come from a dysts system.
SYSTEM_TRAIN = 100_000
SYSTEM_VAL = 20_000
SYSTEM_TEST = 50_000
#: Initial-condition seeds of the training, validation and test trajectories of a system.
SYSTEM_IC_SEEDS = {"train": 0, "val": 1, "test": 2}
#: Time fractions of measured data used for training and validation (the rest is the test set).
TRAIN_FRACTION = 0.7
VAL_FRACTION = 0.1
#: Fractions of whole trials held out for test and validation when there are at least three.
TEST_TRIAL_FRACTION = 0.2
VAL_TRIAL_FRACTION = 0.1
#: The random streams (:class:`attractor.seeds.Seeds`) of the training and validation noise.
NOISE_STREAMS = {"train": "noise/train", "val": "noise/val"}
#: Relative difference of sampling steps that :meth:`DataPipeline.apply` accepts.
DT_RTOL = 0.01
#: The ways a source is split (see :class:`Split`).
SPLIT_KINDS = ("trajectory", "time", "trial")


def _number(value: Any, what: str, *, integer: bool = False, minimum: float = 0.0) -> Any:
    """``value`` if it is a finite number ≥ ``minimum`` (a whole one if ``integer``)."""
    kind = Integral if integer else Real
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        noun = "an integer" if integer else "a number"
        raise DataError(f"{what} must be {noun} ≥ {minimum:g}, got {value!r}.")
    if value < minimum:
        noun = "an integer" if integer else "a number"
        raise DataError(f"{what} must be {noun} ≥ {minimum:g}, got {value!r}.")
    return int(value) if integer else float(value)


# ---------------------------------------------------------------------------- split
@dataclass(frozen=True)
class Split:
    """How a source becomes training, validation and test parts.

    ``by="trajectory"``: three trajectories of a system (initial-condition seeds 0, 1, 2) of
    ``train``, ``val`` and ``test`` samples. ``by="time"``: every trial is cut in time, the first
    ``train`` fraction trains, the next ``val`` fraction validates, the rest (``test``) tests.
    ``by="trial"``: whole trials, the last ``test`` of them test, the ``val`` before validate and
    the first ``train`` train.
    """

    by: str
    train: float
    val: float
    test: float

    def __post_init__(self) -> None:
        if self.by not in SPLIT_KINDS:
            raise DataError(f"split.by must be one of {list(SPLIT_KINDS)}, got {self.by!r}.")
        whole = self.by != "time"
        for part in ("train", "val", "test"):
            _number(getattr(self, part), f"split.{part}", integer=whole, minimum=1 if whole else 0)
        if not whole and not (0 < self.train and 0 < self.val and self.train + self.val < 1):
            raise DataError(
                "split.train and split.val must be positive fractions summing to less than 1, "
                f"got {self.train} and {self.val}."
            )

    @classmethod
    def for_series(cls, ts: TimeSeries) -> Split:
        """The split of measured data: whole trials where there are at least three, else time."""
        n = ts.n_trials
        if n >= 3:
            k_test = max(1, round(TEST_TRIAL_FRACTION * n))
            k_val = max(1, round(VAL_TRIAL_FRACTION * n))
            return cls("trial", n - k_test - k_val, k_val, k_test)
        test = 1.0 - TRAIN_FRACTION - VAL_FRACTION
        return cls("time", TRAIN_FRACTION, VAL_FRACTION, test)

    def apply(self, ts: TimeSeries) -> tuple[TimeSeries, TimeSeries, TimeSeries]:
        """Training, validation and test parts of measured data ``ts``."""
        if self.by == "trajectory":
            raise DataError(
                "a split by trajectory comes from a system's initial conditions; it cannot cut "
                "a measured series."
            )
        if self.by == "trial":
            n, k_val, k_test = ts.n_trials, int(self.val), int(self.test)
            if n < k_val + k_test + 1:
                raise DataError(
                    f"the split needs at least {k_val + k_test + 1} trials, the data have {n}."
                )
            tr = list(ts.trials[: n - k_test - k_val])
            va = list(ts.trials[n - k_test - k_val : n - k_test])
            te = list(ts.trials[n - k_test :])
            return ts.with_values(tr), ts.with_values(va), ts.with_values(te)
        parts: list[list[np.ndarray]] = [[], [], []]
        for v in ts.trials:
            a = int(self.train * len(v))
            b = int((self.train + self.val) * len(v))
            if a < 2 or b - a < 2 or len(v) - b < 2:
                raise DataError(
                    f"a trajectory of {len(v)} samples is too short to split into training, "
                    "validation and test parts; provide a longer series."
                )
            for part, piece in zip(parts, (v[:a], v[a:b], v[b:]), strict=True):
                part.append(piece)
        return tuple(ts.with_values(p) for p in parts)  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "train": self.train, "val": self.val, "test": self.test}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Split:
        if not isinstance(d, dict) or set(d) != {"by", "train", "val", "test"}:
            raise DataError(f"a split must be a dict with keys by, train, val, test; got {d!r}.")
        return cls(d["by"], d["train"], d["val"], d["test"])


# ---------------------------------------------------------------------------- the pipeline
@dataclass
class DataPipeline:
    """Split, observation noise, filters, delay embedding and scaler of one prepared source.

    ``dt`` and ``n_channels`` describe the raw data the pipeline was fitted to (before filters
    and embedding); :meth:`apply` checks new data against them where they are known.
    """

    split: Split
    noise: float = 0.0
    seed: int = 0
    preprocess: Preprocess = field(default_factory=Preprocess)
    lag: int | None = None
    dim: int | None = None
    scaler: Scaler | None = None
    dt: float | None = None
    n_channels: int | None = None

    def __post_init__(self) -> None:
        _number(self.noise, "noise")
        _number(self.seed, "seed", integer=True)
        if (self.lag is None) != (self.dim is None):
            raise DataError(f"lag and dim go together; got lag={self.lag!r}, dim={self.dim!r}.")
        if self.lag is not None:
            _number(self.lag, "lag", integer=True, minimum=1)
            _number(self.dim, "dim", integer=True, minimum=1)
        if self.dt is not None:
            _number(self.dt, "dt")
            if not self.dt > 0:
                raise DataError(f"dt must be a positive number, got {self.dt!r}.")
        if self.n_channels is not None:
            _number(self.n_channels, "n_channels", integer=True, minimum=1)

    @property
    def noise_streams(self) -> dict[str, str]:
        """Names of the random streams (:class:`attractor.seeds.Seeds`) of each part's noise."""
        return dict(NOISE_STREAMS)

    # ------------------------------------------------------------------ the steps
    def add_noise(self, train: TimeSeries, val: TimeSeries) -> tuple[TimeSeries, TimeSeries]:
        """Observation noise on the training and validation parts (``noise × std`` per channel)."""
        seeds, streams = Seeds(self.seed), self.noise_streams
        return (
            train.add_noise(self.noise, seeds.sequence(streams["train"])),
            val.add_noise(self.noise, seeds.sequence(streams["val"])),
        )

    def filter(self, ts: TimeSeries, part: str = "") -> TimeSeries:
        """The filters (high-pass, downsampling), if any; ``part`` names the split in errors."""
        if not self.preprocess.active:
            return ts
        try:
            return preprocess(ts, self.preprocess)
        except DataError as err:  # say which split failed: each is filtered on its own
            if not part:
                raise
            raise DataError(f"the {part} part of the data: {err}") from None

    def embed(self, ts: TimeSeries) -> TimeSeries:
        """The delay embedding ``(lag, dim)``, if any."""
        if self.lag is None:
            return ts
        from attractor.data.embedding import embed

        return embed(ts, lag=self.lag, dim=self.dim)

    def apply(self, ts: TimeSeries, label: str = "the data") -> TimeSeries:
        """Filters, embedding and scaling of new raw data ``ts``, exactly as fitted (no noise).

        The result is in the model's (standardised) units. ``ts`` must be sampled like the
        fitted data (within 1 %) and have as many channels; ``label`` names it in errors.
        """
        if self.dt is not None and abs(ts.dt - self.dt) > DT_RTOL * self.dt:
            raise DataError(
                f"{label} is sampled every {ts.dt:g} but the pipeline was fitted to data sampled "
                f"every {self.dt:g}; resample it to that sampling first."
            )
        if self.n_channels is not None and ts.n_channels != self.n_channels:
            raise DataError(
                f"{label} has {ts.n_channels} channel(s) but the pipeline was fitted to "
                f"{self.n_channels}."
            )
        out = self.embed(self.filter(ts))
        if self.scaler is None:
            return out
        if len(self.scaler.mean) != out.n_channels:
            raise DataError(
                f"{label} gives {out.n_channels} channel(s) after filtering and embedding but the "
                f"scaler was fitted to {len(self.scaler.mean)}."
            )
        return out.standardise(self.scaler)

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description; :meth:`from_dict` rebuilds the pipeline from it."""
        return {
            "split": self.split.to_dict(),
            "noise": self.noise,
            "seed": self.seed,
            "noise_streams": self.noise_streams,
            "preprocess": self.preprocess.to_dict(),
            "embedding": None if self.lag is None else {"lag": self.lag, "dim": self.dim},
            "scaler": None if self.scaler is None else self.scaler.to_dict(),
            "dt": self.dt,
            "n_channels": self.n_channels,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DataPipeline:
        """The pipeline :meth:`to_dict` described; DataError if ``d`` is not such a description."""
        if not isinstance(d, dict) or "split" not in d:
            raise DataError(f"a pipeline description must be a dict with a 'split', got {d!r}.")
        emb = d.get("embedding") or {}
        sc = d.get("scaler")
        try:
            scaler = None if sc is None else Scaler.from_dict(sc)
        except (KeyError, TypeError, ValueError):
            raise DataError(
                f"the pipeline's scaler must hold 'mean' and 'std', got {sc!r}."
            ) from None
        if scaler is not None and scaler.mean.shape != scaler.std.shape:
            raise DataError("the pipeline's scaler has a mean and a std of different lengths.")
        return cls(
            split=Split.from_dict(d["split"]),
            noise=d.get("noise", 0.0),
            seed=d.get("seed", 0),
            preprocess=Preprocess.from_dict(d.get("preprocess")),
            lag=emb.get("lag"),
            dim=emb.get("dim"),
            scaler=scaler,
            dt=d.get("dt"),
            n_channels=d.get("n_channels"),
        )

    @classmethod
    def from_config(cls, data: dict[str, Any]) -> DataPipeline:
        """The pipeline of a run from its ``config.json`` ``data`` block.

        Runs written before the pipeline was stored (no ``data.pipeline``) get one built from
        their ``preprocess``, ``embedding``, ``scaler``, ``dt`` and ``noise`` keys.
        """
        if data.get("pipeline") is not None:
            return cls.from_dict(data["pipeline"])
        steps = Preprocess.from_dict(data.get("preprocess"))
        emb = data.get("embedding") or {}
        sc = data.get("scaler")
        lengths = data.get("lengths")
        split = (
            Split("trajectory", lengths["train"], lengths["val"], lengths["test"])
            if data.get("kind") == "system" and lengths
            else Split("time", TRAIN_FRACTION, VAL_FRACTION, 1.0 - TRAIN_FRACTION - VAL_FRACTION)
        )
        return cls(
            split=split,
            noise=float(data.get("noise") or 0.0),
            preprocess=steps,
            lag=emb.get("lag"),
            dim=emb.get("dim"),
            scaler=Scaler.from_dict(sc) if sc else None,
            dt=float(data.get("dt", 1.0)) / (steps.downsample or 1),
        )


# ---------------------------------------------------------------------------- prepare_data
@dataclass
class PreparedData:
    """Standardised train/validation/test series, how they were made, and the pipeline."""

    train: TimeSeries
    val: TimeSeries
    test: TimeSeries
    test_raw: np.ndarray
    label: str
    info: dict[str, Any]
    lyapunov_reference: float | None = None
    pipeline: DataPipeline | None = None


def _is_array_like(data: Any) -> bool:
    return isinstance(data, (TimeSeries, np.ndarray)) or (
        isinstance(data, (list, tuple)) and bool(data) and isinstance(data[0], np.ndarray)
    )


def _resolve_source(data: Any, n_train: int | None) -> tuple:
    """``(train, val, test, split, label, provenance, λ_max)``: clean parts in data units."""
    from attractor.data.datasets import list_datasets, load_dataset
    from attractor.data.systems import load_system, system_info

    if _is_array_like(data):
        ts = data if isinstance(data, TimeSeries) else TimeSeries(data)
        split = Split.for_series(ts)
        return (*split.apply(ts), split, "data", {"kind": "array"}, None)
    if not isinstance(data, (str, Path)):
        raise DataError(
            f"cannot fit {type(data).__name__}; pass a system name, a file path, an array "
            "or a TimeSeries."
        )
    text = str(data)
    path = Path(text).expanduser()
    if path.suffix != "" or "/" in text or path.exists():  # looks like a file
        from attractor.data.files import read_series

        ts = read_series(path)
        split = Split.for_series(ts)
        prov = {"kind": "file", "path": str(path.resolve())}
        return (*split.apply(ts), split, path.stem, prov, None)
    if text.lower() in list_datasets():
        ts = load_dataset(text.lower())
        split = Split.for_series(ts)
        prov = {"kind": "dataset", "name": text.lower()}
        return (*split.apply(ts), split, text.lower(), prov, None)
    info = system_info(text)  # raises UnknownNameError with suggestions
    n_tr, n_va, n_te = SYSTEM_TRAIN, SYSTEM_VAL, SYSTEM_TEST
    if n_train is not None:  # shorter data: validation and test scale with it
        if isinstance(n_train, bool) or not isinstance(n_train, Integral) or n_train < 100:
            raise DataError(f"n_train must be at least 100 samples, got {n_train}.")
        n_tr, n_va, n_te = n_train, max(1000, n_train // 5), max(1000, n_train // 2)
    seeds = SYSTEM_IC_SEEDS
    train_ts = load_system(info.name, n=n_tr, seed=seeds["train"])
    val_ts = load_system(info.name, n=n_va, seed=seeds["val"])
    test_ts = load_system(info.name, n=n_te, seed=seeds["test"])
    prov = {
        "kind": "system",
        "system": info.name,
        "pts_per_period": train_ts.meta.get("pts_per_period"),
        "lengths": {"train": n_tr, "val": n_va, "test": n_te},
        "ic_seeds": dict(seeds),
    }
    split = Split("trajectory", n_tr, n_va, n_te)
    return train_ts, val_ts, test_ts, split, text, prov, info.lyapunov_max


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
    """Resolve, split, add noise, (filter, embed,) and standardise the data; see the module.

    ``noise``: observation noise level on the training and validation parts (``None`` or 0:
    none), recorded in ``info["noise"]`` for every source. ``highpass`` (cycles per time unit)
    and ``downsample`` (integer factor) filter each split on its own
    (:mod:`attractor.data.filters`); ``None`` takes a shipped dataset's own default (the ECG:
    0.5 Hz, 3) and nothing otherwise, 0 and 1 switch the step off. A shipped dataset also brings
    its D_stsp estimator and, when neither ``lag`` nor ``dim`` is given, its measured delay
    embedding (the ECG: lag 18, dimension 8; see ``attractor/data/datasets/ecg``). The returned
    :class:`PreparedData` carries the fitted :class:`DataPipeline`.
    """
    if noise is not None and (
        isinstance(noise, bool)
        or not isinstance(noise, Real)
        or not math.isfinite(noise)
        or noise < 0
    ):
        raise DataError(f"noise must be a non-negative number, got {noise}.")
    _number(seed, "seed", integer=True)
    if embed not in ("auto", True, False):
        raise DataError(f"embed must be 'auto', True or False, got {embed!r}.")
    steps = Preprocess(highpass, downsample)  # bad values fail before any data work
    train_ts, val_ts, test_ts, split, label, prov, lyap = _resolve_source(data, n_train)
    if prov["kind"] == "dataset":  # a shipped dataset brings its measured defaults
        from attractor.data.datasets import dataset_info

        info = dataset_info(prov["name"])
        steps = Preprocess(
            info["highpass"] if highpass is None else highpass,
            info["downsample"] if downsample is None else downsample,
        )
        prov["d_stsp_method"] = info["d_stsp_method"]
        if embed is not False and lag is None and dim is None:
            lag, dim = info["lag"], info["dim"]
    level = 0.0 if noise is None else float(noise)
    pipe = DataPipeline(
        split, level, int(seed), steps, dt=train_ts.dt, n_channels=train_ts.n_channels
    )
    prov = {**prov, "noise": level} if prov["kind"] != "system" else _with_noise(prov, level)
    train_ts, val_ts = pipe.add_noise(train_ts, val_ts)
    if steps.active:
        parts = ((train_ts, "training"), (val_ts, "validation"), (test_ts, "test"))
        train_ts, val_ts, test_ts = (pipe.filter(t, part) for t, part in parts)
        prov["preprocess"] = steps.to_dict()
    do_embed = (embed == "auto" and train_ts.n_channels == 1) or embed is True
    if do_embed or lag is not None or dim is not None:
        from attractor.data.embedding import embed as delay_embed

        train_ts = delay_embed(train_ts, lag=lag, dim=dim)  # chooses what is not given
        e = train_ts.meta["embedding"]
        pipe.lag, pipe.dim = e["lag"], e["dim"]
        val_ts, test_ts = pipe.embed(val_ts), pipe.embed(test_ts)
        prov["embedding"] = {k: e[k] for k in ("lag", "dim", "method", "mi", "fnn") if k in e}
    train_std = train_ts.standardise()
    pipe.scaler = train_std.scaler
    val_std = val_ts.standardise(pipe.scaler)
    test_std = test_ts.standardise(pipe.scaler)
    prov.update({"dt": train_ts.dt, "names": list(train_ts.names), "units": list(train_ts.units)})
    test_raw = np.concatenate(test_ts.trials)
    return PreparedData(train_std, val_std, test_std, test_raw, label, prov, lyap, pipe)


def _with_noise(prov: dict[str, Any], level: float) -> dict[str, Any]:
    """A system's provenance with ``noise`` right after ``system`` (where runs have had it)."""
    out: dict[str, Any] = {}
    for k, v in prov.items():
        out[k] = v
        if k == "system":
            out["noise"] = level
    return out
