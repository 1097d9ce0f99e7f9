"""Running one benchmark job: data → model → training within the budget → protocol metrics.

:func:`run_job` is a pure function of its :class:`~attractor.bench.spec.Job` (everything random
is seeded from the job's seed, torch runs with ``settings.threads`` threads), so the same job
gives the same numbers in the driver process, a pool worker or a Ray task. It never raises:
a failure — bad data, a training that stays non-finite, a free run that diverges — comes back
as ``status = "failed"`` with a one-sentence reason, and the sweep goes on. It never writes the
results store; the driver does (``attractor.bench.store``).

Data follow :func:`attractor.data.pipeline.prepare_data`: training, validation and test
trajectories of
the system from three initial conditions, z-scored with the training scaler. Training is
:func:`attractor.train.loop.train` with the model's recipe (forcing, sizes) from
:mod:`attractor.api.fit`, capped by ``settings.epochs`` and ``settings.budget_seconds``; models with
``fit_direct`` are fitted in closed form.
"""

from __future__ import annotations

import io
import math
import os
import time
import traceback
from typing import Any

import numpy as np

from attractor.bench.spec import Job
from attractor.errors import AttractorError

#: Seed of the forecast protocol's fresh trajectory (0–2 are training, validation, test).
FORECAST_IC_SEED = 3
#: Channels of the trajectories kept for thumbnails.
TRACE_CHANNELS = 3


def encode_array(x: np.ndarray) -> bytes:
    """``.npy`` bytes of ``x`` (float32)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(x, dtype=np.float32), allow_pickle=False)
    return buf.getvalue()


def decode_array(b: bytes) -> np.ndarray:
    return np.load(io.BytesIO(b), allow_pickle=False)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, AttractorError):
        return str(exc)
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {os.path.basename(last[0].filename)}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def run_job(job: Job) -> dict[str, Any]:
    """Train and evaluate one job; returns ``{"status", "metrics", "timings", "error",
    "traces", "worker"}`` (``traces``: ``{"true", "generated"}`` ``.npy`` bytes, z-scored,
    first ``trace_points`` points and ≤ 3 channels, or ``None``)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(job.settings.threads)
    t0 = time.perf_counter()
    timings: dict[str, Any] = {}
    result: dict[str, Any] = {
        "status": "failed",
        "metrics": {},
        "timings": timings,
        "error": None,
        "traces": None,
        "worker": f"{os.uname().nodename}:{os.getpid()}",
    }
    try:
        _run(job, result, timings)
    except Exception as exc:  # every failure is recorded, never raised into the sweep
        result["status"] = "failed"
        result["error"] = _reason(exc)
    finally:
        timings["total_s"] = time.perf_counter() - t0
        torch.set_num_threads(threads)
    return result


def _run(job: Job, result: dict[str, Any], timings: dict[str, Any]) -> None:
    from attractor.bench import protocols
    from attractor.data.systems import load_system
    from attractor.models.registry import get_entry

    st = job.settings
    kind = job.model.lower()
    if kind == "auto":
        model, prepared = _search(job, timings)
    else:
        get_entry(kind)
        model, prepared = _train(job, timings)
    model.eval()

    t = time.perf_counter()
    test = np.concatenate(prepared.test.trials)
    dt = prepared.test.dt
    lam_ref = prepared.lyapunov_reference
    metrics: dict[str, Any] = {"n_parameters": model.n_parameters()}
    generated = None
    if st.protocol in ("reconstruction", "both"):
        rec, generated = protocols.reconstruction(model, test, dt, lam_ref, st.lyapunov_steps)
        metrics.update(rec)
    if st.protocol in ("forecast", "both"):
        n = protocols.forecast_length(st.forecast_starts)
        fresh = load_system(job.system, n=n, seed=FORECAST_IC_SEED)
        series = np.concatenate(prepared.pipeline.apply(fresh).trials)  # as the training data
        metrics.update(
            protocols.forecast(
                model, series, prepared.train.scaler, dt, lam_ref, st.forecast_starts
            )
        )
    timings["eval_s"] = time.perf_counter() - t
    result["metrics"] = metrics
    k = st.trace_points
    if generated is None:
        from attractor.metrics.protocol import free_run

        generated = free_run(model, test[0], k)
    result["traces"] = {
        "true": encode_array(test[:k, :TRACE_CHANNELS]),
        "generated": encode_array(np.asarray(generated)[:k, :TRACE_CHANNELS]),
        "dt": float(dt),
    }
    if metrics.get("diverged"):
        result["error"] = "the model's free run diverged (left the finite numbers or |x| > 1e6)."
        return
    bad = [
        key
        for key in ("D_stsp", "D_H")
        if key in metrics and not math.isfinite(float(metrics[key]))
    ]
    if bad:
        result["error"] = f"non-finite {', '.join(bad)} (the free run left the region of the data)."
        return
    result["status"] = "done"


def _train(job: Job, timings: dict[str, Any]):
    """A registry model trained by its recipe within the job's budget; returns it and the data."""
    from attractor.data.noise import estimate_noise
    from attractor.data.pipeline import prepare_data
    from attractor.metrics.protocol import validate
    from attractor.train.loop import train
    from attractor.train.recipes import build_forcing, build_model, make_train_config

    st = job.settings
    kind = job.model.lower()
    t = time.perf_counter()
    prepared = prepare_data(job.system, noise=st.noise or None, seed=job.seed, n_train=st.n_train)
    timings["data_s"] = time.perf_counter() - t

    forcing = build_forcing(kind, st.preset)
    model = build_model(kind, prepared.train.n_channels, None, None, None, job.seed)
    # CPU seconds, not wall seconds: jobs sharing the cores (or a busy machine) get equal compute
    overrides = (
        {"time_budget": st.budget_seconds, "budget_clock": "cpu"} if st.budget_seconds else None
    )
    cfg = make_train_config(st.preset, st.epochs, job.seed, overrides, kind)
    cfg.seq_len = min(cfg.seq_len, max(prepared.train.lengths) - 1)
    t = time.perf_counter()
    res = train(
        model,
        list(prepared.train.trials),
        list(prepared.val.trials),
        forcing=forcing,
        config=cfg,
        val_noise_std=estimate_noise(prepared.val.trials),
        validator=validate,
    )
    timings["train_s"] = time.perf_counter() - t
    timings["epochs_run"] = len(res.history)
    timings["best_epoch"] = res.best_epoch
    timings["stopped"] = res.stopped
    return model, prepared


def _search(job: Job, timings: dict[str, Any]):
    """``auto``: the per-dataset search (:func:`attractor.api.search.search_fit`) with the job's
    budget (``budget_seconds``, planned seconds; the search's default without one), in a
    temporary run directory; returns the chosen model and the data at its sampling step."""
    import tempfile

    from attractor.api.search import DEFAULT_BUDGET, search_fit
    from attractor.data.pipeline import prepare_data

    st = job.settings
    noise = st.noise or None
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="attractor-auto-") as tmp:
        run = search_fit(
            job.system, budget=st.budget_seconds or DEFAULT_BUDGET, seed=job.seed, noise=noise,
            n_train=st.n_train, out=tmp, figures=False,
        )  # fmt: skip
    chosen = run.config["search"]["chosen"]
    k = int(chosen["params"].get("downsample", 1))
    prepared = prepare_data(job.system, noise, job.seed, n_train=st.n_train, downsample=k)
    timings["train_s"] = time.perf_counter() - t
    timings["chosen"] = {"model": chosen["model"], "params": chosen["params"]}
    return run.model, prepared
