"""The one-call API: data in, a trained model and an honest evaluation out.

>>> import attractor
>>> run = attractor.fit("lorenz63")                 # clipped shPLRNN + adaptive GTF
>>> run.metrics["D_stsp"], run.metrics["D_H"]

``fit`` resolves the data (a dysts system name, a shipped dataset such as ``"ecg"``, a file, an
array or a :class:`TimeSeries`), splits it into training, validation and test parts, z-scores
all three with the training part's scaler, delay-embeds scalar measurements, builds the model
from the registry, trains it (:func:`attractor.train.loop.train`), evaluates the best-validation
model on the held-out test data with the REFERENCE protocol
(:func:`attractor.metrics.protocol.evaluate`) and writes a run directory (:mod:`attractor.runs`)
plus a row in the run index (:mod:`attractor.runindex`).

Data splits: a dysts system gives three trajectories from different initial conditions —
training (``seed=0``, with observation noise if asked), validation (``seed=1``, same noise
level) and a clean test trajectory (``seed=2``). Measured data are split in time: the first
70 % trains, the next 10 % validates, the last 20 % is the test set (several trials: whole
trials where there are at least three). Measured data may then be high-passed and downsampled
(:mod:`attractor.data.filters`; the shipped ECG is by default), each split on its own.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from attractor.data.series import TimeSeries
from attractor.errors import AttractorError, ConfigError, DataError
from attractor.models.base import DynamicalModel
from attractor.models.registry import create, get_entry
from attractor.train.forcing import make_forcing
from attractor.train.loop import TrainConfig, TrainResult, train
from attractor.train.progress import Progress

# ---------------------------------------------------------------------------- defaults
#: Samples per split when the data come from a dysts system.
SYSTEM_TRAIN = 100_000
SYSTEM_VAL = 20_000
SYSTEM_TEST = 50_000
#: Time fractions of measured data used for training and validation (the rest is the test set).
TRAIN_FRACTION = 0.7
VAL_FRACTION = 0.1
#: Start points averaged for the valid prediction time.
VPT_STARTS = 20


@dataclass(frozen=True)
class Recipe:
    """Per-model defaults: model keyword arguments, forcing, and training overrides."""

    model: dict[str, Any] = field(default_factory=dict)
    forcing: str = "agtf"
    alpha: float | None = None
    interval: int | None = None
    anneal: float | None = None  # None: the preset's annealing rate
    train: dict[str, Any] = field(default_factory=dict)


#: The recipes (REFERENCE §2, tuned on Lorenz-63; see benchmarks/lorenz63.py).
RECIPES: dict[str, Recipe] = {
    "shplrnn": Recipe(model={"hidden_dim": 200}),
    "shplrnn-plain": Recipe(model={"hidden_dim": 200}),
    "plrnn": Recipe(model={"latent_dim": 10}),
    "alrnn": Recipe(
        model={"latent_dim": 20, "n_relu": 2},
        forcing="stf",
        interval=16,
        train={"window_noise": 0.05, "lr": 1e-3, "lr_end": 1e-5},
    ),
    # hinge regression (no BPTT), 16 hinges: noisy Lorenz-63, seeds 0–4, median test D_stsp 0.20
    # (0.15–0.36) in 36 s (P = 4: 1.30–1.60, P = 32: 0.11–0.16; benchmarks/results/alrnn_lsq*.json)
    "alrnn-lsq": Recipe(model={"latent_dim": 20, "n_relu": 16}),
    # gated cells: 32 hidden units (the LSTM's state is [h; c]); untuned defaults, sparse forcing.
    # Their identity readout lives in (−1, 1) while z-scored data reach ±2–3, so they are
    # baselines here, not reconstruction models (see models/gated.py).
    **{
        name: Recipe(
            model={"latent_dim": latent},
            forcing="stf",
            interval=16,
            train={"lr": 1e-3, "lr_end": 1e-5},
        )
        for name, latent in (("gru", 32), ("diaggru", 32), ("lstm", 64), ("diaglstm", 64))
    },
    # deep diagonal SSM: sparse forcing (its Jacobian is autograd-only, so adaptive GTF is costly)
    "ssm": Recipe(forcing="stf", interval=16, train={"lr": 1e-3, "lr_end": 1e-5, "seq_len": 64}),
}

#: Training length presets: "quick" is the CLI default (minutes), "full" the benchmark recipe.
PRESETS: dict[str, dict[str, Any]] = {
    # 200 epochs: noise-free Lorenz-63, seeds 0–4, test D_stsp 0.21 / 0.91 / 0.15 / 0.12 / 0.28
    # (120 epochs gave 0.48 / 2.58 / 0.30 / 0.40 / 1.18); 148 s alone on 2 cores, ~3 min per job
    # with two jobs sharing them
    "quick": {"epochs": 200, "validate_every": 20},
    # 900 epochs: seed 1 of the noisy Lorenz-63 benchmark reached test D_stsp 0.091 (0.423 at 300)
    "full": {"epochs": 900, "validate_every": 25},
}
#: aGTF annealing rate per preset (α ← r·α + (1−r)·α_est): the short schedule anneals faster;
#: measured on noisy Lorenz-63 at 300 epochs, 0.999 gave test D_stsp 0.351 and 0.99 gave 0.381.
PRESET_ANNEAL: dict[str, float] = {"quick": 0.99, "full": 0.999}


# ---------------------------------------------------------------------------- data
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


# ---------------------------------------------------------------------------- fit
def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ConfigError(f"unknown device {device!r}; use auto, cpu or cuda.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for but no CUDA GPU is available; use cpu.")
    return dev


def build_model(
    kind: str, obs_dim: int, latent: int | None, hidden: int | None, n_relu: int | None, seed: int
) -> DynamicalModel:
    entry = get_entry(kind)
    recipe = RECIPES.get(kind.lower(), Recipe())
    kw = dict(recipe.model)
    if hidden is not None:
        kw["hidden_dim"] = hidden
    if n_relu is not None:
        kw["n_relu"] = n_relu
    if latent is not None:
        kw["latent_dim"] = latent
    else:  # the recipe's size, but at least what the model needs for these data
        floor = entry.cls.min_latent_dim(obs_dim, **kw)
        kw["latent_dim"] = max(kw.get("latent_dim", floor), floor)
    torch.manual_seed(seed)
    return create(kind, obs_dim, **kw)


def build_forcing(
    kind: str,
    preset: str,
    forcing: str | None = None,
    alpha: float | None = None,
    interval: int | None = None,
    estimator: str = "geometric",
    anneal: float | None = None,
):
    """The forcing for ``kind``: explicit arguments first, then the model's recipe, then the
    preset's annealing rate (one place that resolves them, for ``fit`` and the benchmarks)."""
    recipe = RECIPES.get(kind.lower(), Recipe())
    return make_forcing(
        forcing or recipe.forcing,
        alpha=alpha if alpha is not None else recipe.alpha,
        interval=interval if interval is not None else recipe.interval,
        estimator=estimator,
        anneal=_first_set(anneal, recipe.anneal, PRESET_ANNEAL.get(preset, 0.999)),
    )


def _first_set(*values: Any) -> Any:
    return next(v for v in values if v is not None)


def make_train_config(
    preset: str, epochs: int | None, seed: int, overrides: dict[str, Any] | None, kind: str
) -> TrainConfig:
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    recipe = RECIPES.get(kind.lower(), Recipe())
    kw: dict[str, Any] = {**PRESETS[preset], **recipe.train, **(overrides or {})}
    if epochs is not None:
        kw["epochs"] = epochs
    kw["seed"] = seed
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(kw) - known)
    if unknown:
        raise ConfigError(f"unknown training setting(s) {', '.join(unknown)}.")
    cfg = TrainConfig(**kw)
    cfg.check()
    return cfg


def fit(
    data: Any = "lorenz63",
    model: str = "shplrnn",
    *,
    forcing: str | None = None,
    alpha: float | None = None,
    interval: int | None = None,
    estimator: str = "geometric",
    anneal: float | None = None,
    latent: int | None = None,
    hidden: int | None = None,
    n_relu: int | None = None,
    epochs: int | None = None,
    preset: str = "quick",
    seed: int = 0,
    noise: float | None = None,
    embed: str | bool = "auto",
    lag: int | None = None,
    dim: int | None = None,
    n_train: int | None = None,
    highpass: float | None = None,
    downsample: int | None = None,
    d_stsp: str | None = None,
    device: str = "auto",
    out: str | Path | None = "runs",
    name: str | None = None,
    train_config: dict[str, Any] | None = None,
    progress: Progress | None = None,
    figures: bool = True,
    parallel: bool = False,
):
    """Reconstruct the dynamics behind ``data`` and return the :class:`~attractor.runs.Run`.

    ``data``: a dysts system name (``"lorenz63"``, ``"Rossler"``, …), a shipped dataset
    (``"ecg"``), a file path, an array ``(T, N)`` or a TimeSeries. ``model``: a registry name.
    ``forcing``: ``agtf`` (default for PL models), ``gtf`` (with ``alpha``), ``stf`` (with
    ``interval``) or ``none``. ``preset``: ``quick`` (minutes) or ``full`` (benchmark length);
    ``epochs`` and ``train_config`` override it. With ``out=None`` nothing is written.
    ``highpass`` / ``downsample``: drift removal and decimation before embedding (the ECG's
    defaults are 0.5 Hz and 3; pass 0 / 1 to switch them off). ``d_stsp``: the D_stsp estimator
    for validation and test, ``auto`` (binned up to 5 dimensions), ``binned`` or ``gmm``;
    ``None`` takes a shipped dataset's own (the ECG: ``gmm``) and ``auto`` otherwise.
    ``parallel=True`` solves the forced rollout in parallel over time by Newton (GTF-DEER), for
    long windows, e.g. ``train_config={"seq_len": 10_000, "batch_size": 1}``.
    """
    from attractor import runindex, runs

    t_start = time.perf_counter()
    kind = model.lower()
    get_entry(kind)  # unknown model → clear error before any work
    dev = resolve_device(device)
    prepared = prepare_data(data, noise, seed, embed, lag, dim, n_train, highpass, downsample)
    forcing_name = forcing or RECIPES.get(kind, Recipe()).forcing
    forcing_obj = build_forcing(kind, preset, forcing, alpha, interval, estimator, anneal)
    net = build_model(kind, prepared.train.n_channels, latent, hidden, n_relu, seed).to(dev)
    cfg = make_train_config(preset, epochs, seed, train_config, kind)
    if d_stsp is not None or "d_stsp_method" not in (train_config or {}):
        cfg.d_stsp_method = d_stsp or prepared.info.get("d_stsp_method", "auto")
        cfg.check()
    if parallel:  # forced rollout solved by Newton over time (attractor.train.parallel_rollout)
        cfg.rollout = "parallel"
    if (
        min(prepared.train.lengths) < cfg.seq_len + 1
        and max(prepared.train.lengths) < cfg.seq_len + 1
    ):
        raise DataError(
            f"the training part has {max(prepared.train.lengths)} samples, fewer than one "
            f"training window ({cfg.seq_len + 1}); use a longer series or a smaller seq_len."
        )
    from attractor.data.noise import estimate_noise

    val_noise = estimate_noise(prepared.val.trials)  # standardised units, per channel
    prepared.info["noise_estimate_val"] = val_noise.tolist()
    config = {
        "name": name or prepared.label,
        "seed": seed,
        "device": str(dev),
        "preset": preset,
        "parallel": cfg.rollout == "parallel",
        "model": {
            "kind": net.kind if kind not in RECIPES else kind,
            "config": net.config(),
            "n_parameters": net.n_parameters(),
        },
        "forcing": {**forcing_obj.state(), "spec": forcing_name},
        "train": cfg.to_dict(),
        "data": {
            **prepared.info,
            "source": str(data) if not isinstance(data, np.ndarray) else "array",
            "scaler": prepared.train.scaler.to_dict(),
        },
    }
    config["model"]["kind"] = kind

    out_dir = Path(out) if out is not None else None
    label = name or f"{prepared.label}-{kind}"
    run_name, partial, run_id = runs.new_run_name(label), None, None
    if out_dir is not None:
        run_name, partial, run_id = runs.start_run(out_dir, label, config)

    def checkpoint(res: TrainResult) -> None:
        if partial is not None:
            runs.write_history(partial / runs.HISTORY, res.history)

    try:
        result = train(
            net,
            [v for v in prepared.train.trials],
            [v for v in prepared.val.trials],
            forcing=forcing_obj,
            config=cfg,
            progress=progress,
            on_validate=checkpoint,
            val_noise_std=val_noise,
        )
        metrics = evaluate_run(
            net, prepared, result, keep_generated=figures, d_stsp_method=cfg.d_stsp_method
        )
        generated = metrics.pop("generated", None)
        metrics["wall_time"] = time.perf_counter() - t_start
        if out_dir is None:
            return runs.Run(Path("."), config, net, prepared.train.scaler, metrics, result.history)
        runs.save_checkpoint(partial / runs.CHECKPOINT, net)
        runs.write_history(partial / runs.HISTORY, result.history)
        np.save(partial / runs.TEST_DATA, prepared.test_raw)
        if figures:
            write_figures(partial, net, prepared, result.history, metrics, generated)
        metrics["wall_time"] = time.perf_counter() - t_start
        runs.write_json(partial / runs.METRICS, metrics)
        final = runs.finalise(partial, out_dir / run_name)
        status = "interrupted" if result.interrupted else "done"
        runindex.record_end(out_dir, run_id, status, final, _summary(metrics), metrics["wall_time"])
        return runs.load_run(final)
    except BaseException as exc:
        if out_dir is not None:
            if partial is not None:
                runs.discard(partial)
            msg = str(exc) if isinstance(exc, AttractorError) else traceback.format_exc(limit=3)
            runindex.record_end(
                out_dir,
                run_id,
                "failed",
                None,
                None,
                time.perf_counter() - t_start,
                msg or type(exc).__name__,
            )
        raise


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "D_stsp",
        "D_H",
        "PE(20)",
        "lambda_max",
        "vpt_lyapunov_times",
        "stopped",
        "best_epoch",
        "epochs_run",
        "train_time",
    )
    return {k: metrics[k] for k in keep if k in metrics}


def evaluate_run(
    model: DynamicalModel,
    prepared: PreparedData,
    result: TrainResult,
    keep_generated: bool = False,
    d_stsp_method: str = "auto",
) -> dict[str, Any]:
    """Test metrics of the selected model plus a training summary.

    ``keep_generated``: also return the protocol's free run (standardised units) under
    ``"generated"``, so the figures reuse it instead of simulating again.
    """
    from attractor.metrics.forecast import valid_prediction_time
    from attractor.metrics.protocol import evaluate, free_run

    model.eval()
    test = (
        prepared.test.trials[0]
        if prepared.test.n_trials == 1
        else np.concatenate(prepared.test.trials)
    )
    dt = prepared.test.dt
    m = evaluate(
        model,
        test,
        dt=dt,
        return_generated=keep_generated,
        d_stsp_method=d_stsp_method,
    )
    # valid prediction time: median over start points spread through the test set
    horizon = min(2_000, len(test) // 2)
    starts = np.linspace(0, len(test) - horizon - 1, VPT_STARTS).astype(int)
    lam = prepared.lyapunov_reference
    if not (lam and lam > 0):
        lam = m.get("lambda_max") if m.get("lambda_max", 0) and m["lambda_max"] > 0 else None
    preds = free_run(model, test[starts], horizon)
    steps, lyap = [], []
    for i, s in enumerate(starts):
        if not np.isfinite(preds[i]).all():
            steps.append(0)
            continue
        v = valid_prediction_time(test[s : s + horizon], preds[i], dt=dt, lyapunov=lam, sigma=1.0)
        steps.append(v.steps)
        if v.lyapunov_times is not None:
            lyap.append(v.lyapunov_times)
    m["vpt_steps"] = float(np.median(steps))
    m["vpt_time"] = float(np.median(steps) * dt)
    m["vpt_lyapunov_times"] = float(np.median(lyap)) if lyap else None
    m["vpt_lyapunov_exponent_used"] = lam
    m["lambda_max_reference"] = prepared.lyapunov_reference
    m["stopped"] = result.stopped
    m["best_epoch"] = result.best_epoch
    m["epochs_run"] = len(result.history)
    m["train_time"] = result.wall_time
    m["validation"] = result.best_metrics
    m["events"] = result.events
    return m


def write_figures(
    run_dir: Path,
    model: DynamicalModel,
    prepared: PreparedData,
    history: Sequence[dict[str, Any]],
    metrics: dict[str, Any],
    generated: np.ndarray | None = None,
) -> None:
    """Attractor, time series, spectra and training curves, in data units.

    ``generated``: the evaluation's free run from the first test point (standardised units,
    transient dropped); simulated here when not given.
    """
    from attractor import plots
    from attractor.metrics.protocol import TRANSIENT_FRACTION, free_run

    figs = run_dir / "figures"
    test_std = prepared.test.trials[0]
    n = len(test_std)
    n_trans = round(TRANSIENT_FRACTION * n)
    if generated is not None and len(generated) >= n:
        gen_std = np.asarray(generated)[:n]
    else:
        gen_std = free_run(model, test_std[0], n + n_trans)[n_trans:]
    sc = prepared.train.scaler
    true = sc.inverse(test_std)
    gen = sc.inverse(gen_std) if np.isfinite(gen_std).all() else gen_std
    names = list(prepared.train.names)
    dt = prepared.test.dt
    ds, dh = metrics.get("D_stsp", float("nan")), metrics.get("D_H", float("nan"))
    title = f"{prepared.label}: D_stsp {ds:.3f}, D_H {dh:.3f}"
    plots.plot_attractor(true, gen, figs / "attractor.png", names=names, title=title)
    plots.plot_time_series(true, gen, figs / "time_series.png", dt=dt, names=names)
    plots.plot_spectra(true, gen, figs / "spectra.png", dt=dt, names=names)
    plots.plot_training(list(history), figs / "training.png")
