"""The one-call API: data in, a trained model and an honest evaluation out.

>>> import attractor
>>> run = attractor.fit("lorenz63")                 # clipped shPLRNN + adaptive GTF
>>> run.metrics["D_stsp"], run.metrics["D_H"]

``fit`` resolves the data (a dysts system name, a shipped dataset such as ``"ecg"``, a file, an
array or a :class:`TimeSeries`), splits it into training, validation and test parts, z-scores
all three with the training part's scaler, delay-embeds scalar measurements, builds the model
from the registry, trains it (:func:`attractor.train.loop.train`), evaluates the best-validation
model on the held-out test data with the REFERENCE protocol
(:func:`attractor.metrics.protocol.evaluate`) and writes a run directory
(:mod:`attractor.runs.directory`)
plus a row in the run index (:mod:`attractor.runs.index`).

Data splits and pre-processing: :mod:`attractor.data.pipeline`.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from attractor.data.pipeline import PreparedData, prepare_data
from attractor.errors import AttractorError, DataError
from attractor.io import atomic_path, write_json
from attractor.models.base import DynamicalModel
from attractor.models.registry import get_entry
from attractor.train.loop import TrainResult, train
from attractor.train.progress import Progress
from attractor.train.recipes import (
    build_forcing,
    build_model,
    make_train_config,
    resolve_device,
)

#: Start points averaged for the valid prediction time.
VPT_STARTS = 20


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
    (``"ecg"``), a file path, an array ``(T, N)`` or a TimeSeries. ``model``: a registry name,
    or ``"auto"`` for the validation-driven search (:func:`attractor.api.search.search_fit`, its
    default budget; the training arguments then do not apply, and it always writes a run).
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
    from attractor.runs import directory as runs
    from attractor.runs import index as runindex

    t_start = time.perf_counter()
    kind = model.lower()
    if kind == "auto":  # the search with its default budget and candidates
        from attractor.api.search import search_fit

        return search_fit(
            data, seed=seed, noise=noise, embed=embed, lag=lag, dim=dim, highpass=highpass,
            n_train=n_train, out=out or "runs", name=name, figures=figures,
        )  # fmt: skip
    get_entry(kind)  # unknown model → clear error before any work
    dev = resolve_device(device)
    prepared = prepare_data(data, noise, seed, embed, lag, dim, n_train, highpass, downsample)
    forcing_name = forcing or get_entry(kind).recipe.forcing
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
    from attractor.metrics.protocol import validate

    val_noise = estimate_noise(prepared.val.trials)  # standardised units, per channel
    prepared.info["noise_estimate_val"] = val_noise.tolist()
    config = {
        "name": name or prepared.label,
        "seed": seed,
        "device": str(dev),
        "preset": preset,
        "parallel": cfg.rollout == "parallel",
        "model": {
            "kind": kind,
            "config": net.config(),
            "n_parameters": net.n_parameters(),
        },
        "forcing": {**forcing_obj.state(), "spec": forcing_name},
        "train": cfg.to_dict(),
        "data": {
            **prepared.info,
            "source": str(data) if not isinstance(data, np.ndarray) else "array",
            "scaler": prepared.train.scaler.to_dict(),
            "pipeline": prepared.pipeline.to_dict(),
        },
    }

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
            validator=validate,
        )
        if out_dir is None:
            metrics = evaluate_run(net, prepared, result, d_stsp_method=cfg.d_stsp_method)
            metrics["wall_time"] = time.perf_counter() - t_start
            return runs.Run(Path("."), config, net, prepared.train.scaler, metrics, result.history)
        assert partial is not None and run_id is not None
        return complete_run(
            out_dir, run_name, partial, run_id, net, prepared, result, cfg.d_stsp_method,
            figures, t_start,
        )  # fmt: skip
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


def complete_run(
    out_dir: Path,
    run_name: str,
    partial: Path,
    run_id: int,
    net: DynamicalModel,
    prepared: PreparedData,
    result: TrainResult,
    d_stsp_method: str,
    figures: bool,
    t_start: float,
    extra: dict[str, Any] | None = None,
):
    """Evaluate the selected model on the test data and write the rest of the run directory
    (checkpoint, history, test data, figures, metrics plus ``extra``), move it into place and
    record the end in the run index; returns the loaded :class:`~attractor.runs.Run`."""
    from attractor.runs import directory as runs
    from attractor.runs import index as runindex

    metrics = evaluate_run(
        net, prepared, result, keep_generated=figures, d_stsp_method=d_stsp_method
    )
    generated = metrics.pop("generated", None)
    metrics.update(extra or {})
    runs.save_checkpoint(partial / runs.CHECKPOINT, net)
    runs.write_history(partial / runs.HISTORY, result.history)
    with atomic_path(partial / runs.TEST_DATA) as tmp:
        np.save(tmp, prepared.test_raw, allow_pickle=False)
    if figures:
        write_figures(partial, net, prepared, result.history, metrics, generated)
    metrics["wall_time"] = time.perf_counter() - t_start
    write_json(partial / runs.METRICS, metrics)
    final = runs.finalise(partial, out_dir / run_name)
    status = "interrupted" if result.interrupted else "done"
    runindex.record_end(out_dir, run_id, status, final, _summary(metrics), metrics["wall_time"])
    return runs.load_run(final)


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
