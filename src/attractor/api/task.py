"""One-call API for the memory tasks: train through a curriculum and write a run directory.

>>> from attractor.api.task import fit_task, analyze_task_run
>>> path = fit_task("parity", curriculum="multi", max_n=12, hidden=128)
>>> analyze_task_run(path)["per_n"][-1]["tau_net_mean"]

Run directory ``<out>/<timestamp>-<task>-<curriculum>-<model>/``::

    config.json              task, curriculum, optimiser settings, core kind and config
    versions.json
    model.safetensors        the final task network (all heads; :func:`load_task_network`)
    checkpoints/N{n:03d}.safetensors   the network at the moment each N was reached
    history.csv              one row per epoch: N, loss, accuracies, mean τ, time
    metrics.json             N reached, why training stopped, wall time, per-N entries
    timescales.json          τ and τ_net per reached N, robustness at the largest N (analysis)
    figures/                 N vs epoch, τ and τ_net vs N, robustness curves

plus a row in ``<out>/attractor.sqlite``. Runs are built in a hidden partial directory and
renamed when complete; Ctrl-C keeps every checkpoint reached so far (status ``interrupted``).
The HMM emulation has the same shape (:func:`fit_hmm`).
"""

from __future__ import annotations

import json
import re
import time
import traceback
from pathlib import Path
from typing import Any

from attractor.errors import AttractorError, RunError
from attractor.io import read_json, write_json, write_safetensors
from attractor.runs import directory as runs
from attractor.runs import index as runindex
from attractor.seeds import Seeds
from attractor.tasks.curricula import TaskTrainConfig, heads_needed, train_curriculum
from attractor.tasks.heads import (
    TaskNetwork,
    build_core,
    checkpoint_extra,
    load_task_network,
    save_task_network,
)
from attractor.tasks.presets import DEFAULT_PRESET, HMM_PRESETS, resolve
from attractor.train.progress import Progress

CHECKPOINTS = "checkpoints"
TIMESCALES = "timescales.json"
RUN_KIND = "memory-task"
_CKPT = re.compile(r"N(\d+)\.safetensors$")


def _fail(out: Path, partial: Path, run_id: int, t0: float, exc: BaseException) -> None:
    runs.discard(partial)
    msg = str(exc) if isinstance(exc, AttractorError) else traceback.format_exc(limit=3)
    runindex.record_end(out, run_id, "failed", None, None, time.perf_counter() - t0, msg)


def fit_task(
    task: str = "parity",
    curriculum: str = "multi",
    max_n: int = 100,
    model: str = "leaky",
    hidden: int | None = None,
    nonlinearity: str = "outside",
    *,
    preset: str = DEFAULT_PRESET,
    start_n: int = 2,
    init: str | Path | None = None,
    train: dict[str, Any] | None = None,
    seed: int = 0,
    out: str | Path = "runs",
    name: str | None = None,
    progress: Progress | None = None,
    analyze: bool = True,
    analysis: dict[str, Any] | None = None,
) -> Path:
    """Train a task network through ``curriculum`` and return its run directory.

    ``preset``: ``quick`` (default) or ``paper`` (:mod:`attractor.tasks.presets`) fills the
    network size, batch, steps per epoch and the τ_net analysis length that ``hidden``,
    ``train`` and ``analysis`` leave unset. ``train``: overrides of :class:`TaskTrainConfig`
    (batch_size, steps_per_epoch, lr, time_budget, max_epochs, precision, …). ``init``: a
    task-network checkpoint to start from; its head count must match the curriculum at
    ``start_n``. ``analyze``: also run :func:`analyze_task_run` (τ_net per N, robustness) —
    keyword arguments in ``analysis``.
    """
    given = {"hidden": hidden, **(train or {})}
    for key, setting in (("n_trials", "tau_trials"), ("steps", "tau_steps")):
        given[setting] = (analysis or {}).get(key)
    chosen = resolve(preset, given)
    hidden = int(chosen.pop("hidden"))
    analysis = {
        **(analysis or {}),
        "n_trials": chosen.pop("tau_trials"),
        "steps": chosen.pop("tau_steps"),
    }
    cfg = TaskTrainConfig(
        task=task,
        curriculum=curriculum,
        max_n=max_n,
        start_n=start_n,
        seed=seed,
        **chosen,
    )
    cfg.task, cfg.curriculum = cfg.task.lower(), cfg.curriculum.lower()
    cfg.check()
    need = heads_needed(cfg.curriculum, cfg.start_n, cfg.max_n)
    if init is not None:
        net = load_task_network(init, n_heads=need)
    else:
        with Seeds(seed).torch_default("task/init"):
            net = TaskNetwork(build_core(model, hidden, 1, nonlinearity), need)
    config = {
        "kind": RUN_KIND,
        "name": name or f"{cfg.task}-{cfg.curriculum}-{net.core.kind}",
        "seed": seed,
        "preset": preset.lower(),
        "task": cfg.to_dict(),
        "analysis": analysis,
        "model": {
            "kind": net.core.kind,
            "config": net.core.config(),
            "n_parameters": sum(p.numel() for p in net.core.parameters()),
            "init": str(init) if init else None,
        },
        "data": {"source": cfg.task},
        "forcing": {},
    }
    out = Path(out)
    t0 = time.perf_counter()
    run_name, partial, run_id = runs.start_run(out, config["name"], config)
    history: list[dict[str, Any]] = []

    def on_reached(n: int, net: TaskNetwork, row: dict[str, Any]) -> None:
        extra = {
            "N": n,
            "epoch": row["epoch"],
            "acc": row["acc"],
            "curriculum": cfg.curriculum,
            "task": cfg.task,
        }
        save_task_network(partial / CHECKPOINTS / f"N{n:03d}.safetensors", net, extra)

    def on_epoch(row: dict[str, Any]) -> None:
        history.append(row)
        runs.write_history(partial / runs.HISTORY, history)

    try:
        res = train_curriculum(net, cfg, progress, on_reached=on_reached, on_epoch=on_epoch)
        save_task_network(partial / runs.CHECKPOINT, net, {"n_reached": res.n_reached})
        runs.write_history(partial / runs.HISTORY, res.history)
        metrics: dict[str, Any] = {
            "n_reached": res.n_reached,
            "stopped": res.stopped,
            "epochs_run": len(res.history),
            "train_time": res.wall_time,
            "reached": [
                {k: r[k] for k in ("n", "epoch", "time", "acc_mean", "tau_mean")}
                for r in res.reached
            ],
        }
        metrics["wall_time"] = time.perf_counter() - t0
        write_json(partial / runs.METRICS, metrics)
        final = runs.finalise(partial, out / run_name)
    except BaseException as exc:
        _fail(out, partial, run_id, t0, exc)
        raise
    status = "interrupted" if res.interrupted else "done"
    if analyze and not res.interrupted and res.reached:
        try:
            summary = analyze_task_run(final, **analysis)
        except KeyboardInterrupt:  # the trained run is complete; only the analysis is missing
            status = "interrupted"
            summary = {"per_n": None}
        metrics["timescales"] = summary["per_n"]
        metrics["robustness"] = summary.get("robustness")
        write_json(final / runs.METRICS, metrics)
    elif res.history:
        _figures(final, res.history, None)
    keep = {k: metrics[k] for k in ("n_reached", "stopped", "epochs_run", "train_time")}
    runindex.record_end(out, run_id, status, final, keep, time.perf_counter() - t0)
    return final


# ---------------------------------------------------------------------------- loading
def task_checkpoints(run: str | Path) -> dict[int, Path]:
    """``{N: path}`` of the per-N checkpoints of a task run, sorted by N."""
    run = check_task_run(run)
    found = {}
    for p in (run / CHECKPOINTS).glob("N*.safetensors"):
        m = _CKPT.search(p.name)
        if m:
            found[int(m.group(1))] = p
    return dict(sorted(found.items()))


def check_task_run(run: str | Path) -> Path:
    run = Path(run)
    if not run.is_dir():
        raise RunError(f"run directory {run} does not exist.")
    cfg = read_json(run / runs.CONFIG)
    if cfg.get("kind") != RUN_KIND:
        raise RunError(f"{run} is not a memory-task run (made by `attractor task`).")
    return run


def load_task_run(run: str | Path, n: int | None = None) -> tuple[TaskNetwork, dict[str, Any]]:
    """The network of a task run (the final one, or the checkpoint at ``N = n``) and its config."""
    run = check_task_run(run)
    cfg = read_json(run / runs.CONFIG)
    if n is None:
        return load_task_network(run / runs.CHECKPOINT), cfg
    ckpts = task_checkpoints(run)
    if n not in ckpts:
        raise RunError(f"{run} has no checkpoint for N={n}; it has N ∈ {sorted(ckpts) or '∅'}.")
    return load_task_network(ckpts[n]), cfg


def heads_ns(curriculum: str, n: int, n_heads: int) -> list[int]:
    """The N of each head of a network checkpointed at N = ``n``."""
    if curriculum == "multi":
        return list(range(n - n_heads + 1, n + 1))
    return [n] * n_heads


# ---------------------------------------------------------------------------- analysis
def analyze_task_run(
    run: str | Path,
    n_trials: int = 10,
    steps: int = 10_000,
    robustness_at: int | None = None,
    robust: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """τ and τ_net at every reached N, and robustness at the largest (or ``robustness_at``) N.

    Writes ``timescales.json`` and the figures into the run directory and returns the summary.
    """
    from attractor.tasks.robustness import robustness
    from attractor.tasks.timescales import network_timescales

    run = check_task_run(run)
    cfg = read_json(run / runs.CONFIG)
    task, curriculum = cfg["task"]["task"], cfg["task"]["curriculum"]
    ckpts = task_checkpoints(run)
    per_n: list[dict[str, Any]] = []
    details: dict[str, Any] = {}
    for n, path in ckpts.items():
        net = load_task_network(path).eval()
        ts = network_timescales(net, n_trials=n_trials, steps=steps, seed=seed)
        extra = checkpoint_extra(path)
        per_n.append({"N": n, "epoch": extra.get("epoch"), **ts.summary()})
        details[str(n)] = {
            "tau": None if ts.tau is None else ts.tau.tolist(),
            "tau_net": ts.tau_net.tolist(),
            "population_ac": ts.population_ac.tolist(),
        }
    summary: dict[str, Any] = {"task": task, "curriculum": curriculum, "per_n": per_n}
    if robust and ckpts:
        n_r = robustness_at if robustness_at is not None else max(ckpts)
        if n_r not in ckpts:
            raise RunError(f"{run} has no checkpoint for N={n_r}; it has N ∈ {sorted(ckpts)}.")
        net = load_task_network(ckpts[n_r]).eval()
        ns = heads_ns(curriculum, n_r, net.n_heads)
        summary["robustness"] = robustness(net, task, ns, head=-1, seed=seed)
    write_json(run / TIMESCALES, {**summary, "per_neuron": details})
    _figures(run, runs.read_history(run / runs.HISTORY), summary)
    return summary


def _figures(run: Path, history: list[dict[str, Any]], summary: dict[str, Any] | None) -> None:
    from attractor.plots import tasks as tf

    figs = run / runs.FIGURES
    if history:
        tf.plot_n_reached(history, figs / "n_reached.png")
    if summary and summary.get("per_n"):
        tf.plot_timescales_vs_n(summary["per_n"], figs / "timescales.png")
    if summary and summary.get("robustness") and "perturb_W" in summary["robustness"]:
        tf.plot_robustness(summary["robustness"], figs / "robustness.png")


# ---------------------------------------------------------------------------- HMM emulation
def fit_hmm(
    hmm: str = "linear",
    n_states: int = 3,
    *,
    preset: str = DEFAULT_PRESET,
    train: dict[str, Any] | None = None,
    seed: int = 0,
    out: str | Path = "runs",
    name: str | None = None,
    progress: Progress | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Train a noise-driven RNN on an HMM (:mod:`attractor.tasks.hmm`); write a run
    directory with the emitter, history, evaluation metrics and figures. ``preset`` (``quick``
    or ``paper``, :data:`~attractor.tasks.presets.HMM_PRESETS`) fills the size and step count
    that ``train`` leaves unset."""
    from attractor.plots import tasks as tf
    from attractor.tasks.hmm import (
        HMMEmulationConfig,
        evaluate_emulator,
        train_hmm_emulator,
    )

    chosen = resolve(preset, train or {}, HMM_PRESETS)
    cfg = HMMEmulationConfig(hmm=hmm, n_states=n_states, seed=seed, **chosen)
    cfg.check()
    config = {
        "kind": "hmm-emulation",
        "name": name or f"hmm-{hmm}-{n_states}",
        "seed": seed,
        "preset": preset.lower(),
        "train": cfg.to_dict(),
        "model": {"kind": "noise-rnn"},
        "data": {"source": f"hmm-{hmm}-{n_states}"},
        "forcing": {"forcing": "sinkhorn"},
    }
    out = Path(out)
    t0 = time.perf_counter()
    run_name, partial, run_id = runs.start_run(out, config["name"], config)
    try:
        net, spec, history, stopped = train_hmm_emulator(cfg, progress)
        meta = {"kind": "noise-rnn", "config": json.dumps(net.config())}
        write_safetensors(partial / runs.CHECKPOINT, net.state_dict(), meta)
        runs.write_history(partial / runs.HISTORY, history)
        metrics = evaluate_emulator(net, spec, length=cfg.seq_len, warmup=cfg.warmup)
        metrics.update({"stopped": stopped, "wall_time": time.perf_counter() - t0})
        write_json(partial / runs.METRICS, metrics)
        tf.plot_hmm_statistics(metrics, partial / runs.FIGURES / "hmm_statistics.png")
        final = runs.finalise(partial, out / run_name)
    except BaseException as exc:
        _fail(out, partial, run_id, t0, exc)
        raise
    keep = {k: metrics[k] for k in ("frequency_error", "transition_error", "stopped")}
    keep["collapsed"] = metrics["noise_free"]["collapsed"]
    status = "interrupted" if stopped == "interrupted" else "done"
    runindex.record_end(out, run_id, status, final, keep, time.perf_counter() - t0)
    return final, metrics


__all__ = [
    "analyze_task_run",
    "fit_hmm",
    "fit_task",
    "load_task_run",
    "task_checkpoints",
]
