"""``model="auto"``: choose and train a model for *these* data by a validation-driven search.

The search is Optuna's (a well-kept library; not a hand-written loop): a TPE sampler seeded from
the run's seed, a successive-halving pruner fed with the periodic validation scores of the
gradient-trained candidates, and its SQLite storage inside the run directory
(``search.sqlite``), so a search can be inspected with Optuna's own tools and resumed.

Every trial trains one candidate on the training part and is scored on free runs against the
held-out validation part — never the test part::

    score = D_stsp + D_H          (validation; lower is better; a diverged run scores ∞)

Candidates (:data:`CANDIDATES`) and what each trial chooses:

- ``esn`` — echo-state network, direct ridge fit: reservoir size, spectral radius, leak rate,
  input scaling (the ridge strength is validated inside the fit);
- ``alrnn-lsq`` — AL-RNN fitted by hinge regression (no BPTT): latent size, number of hinges;
- ``shplrnn`` — clipped shallow PLRNN with adaptive generalized teacher forcing: hidden size and
  epochs (the epochs are set by the budget; unpromising trials are pruned at validations).

Every trial also chooses the sampling step: a decimation factor among those that keep at least
25 samples per dominant period (:mod:`attractor.data.period`; measured data are often sampled
far above what a one-step model needs). The known recipes (each candidate's registry defaults,
undecimated) are enqueued first, so the search never does worse on validation than they do.

**Budget and reproducibility.** The search plans its trials with a cost model (seconds per
trial on the 2-core reference machine, :func:`estimated_cost`), not with the clock: trials are
added while the *estimated* total stays within ``budget``. The same seed and budget therefore run
the same trials and choose the same recipe on any machine; the wall-clock time only follows the
budget where the machine is like the reference. A hard wall-clock guard (twice the budget) stops
a search that runs far slower than planned; that is the one case in which the choice depends on
the machine (recorded in ``search.json``).

Ctrl-C stops the search, keeps the best model found so far, writes the run directory (status
``interrupted``), and ``resume=<that run directory>`` continues the same Optuna study.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attractor.errors import AttractorError, ConfigError, RunError, UnknownNameError, did_you_mean

#: Name of the Optuna study inside ``search.sqlite``.
STUDY = "attractor-auto"
STORE = "search.sqlite"
SUMMARY = "search.json"
#: Version tag written into the study; a store without it is not ours.
STORE_VERSION = 1
#: Samples per dominant period that a decimation must keep.
MIN_PER_PERIOD = 25.0
#: Default budget (seconds): a fit takes about five minutes on the reference machine.
DEFAULT_BUDGET = 270.0
#: The wall-clock guard, as a multiple of the budget.
WALL_GUARD = 2.0


@dataclass(frozen=True)
class Candidate:
    """A model the search may choose: its registry kind, how a trial picks its settings, and the
    known recipe (the registry defaults) that is tried first."""

    kind: str
    suggest: Callable[[Any, int], dict[str, Any]]
    known: dict[str, Any]
    summary: str


def _esn(trial, obs_dim: int) -> dict[str, Any]:
    return {
        "reservoir": trial.suggest_categorical("esn_reservoir", [300, 600]),
        "spectral_radius": trial.suggest_float("esn_spectral_radius", 0.3, 1.3),
        "leak": trial.suggest_float("esn_leak", 0.1, 1.0),
        "input_scaling": trial.suggest_float("esn_input_scaling", 0.1, 1.5, log=True),
    }


def _alrnn_lsq(trial, obs_dim: int) -> dict[str, Any]:
    """The hinge AL-RNN needs ``M ≥ N + P``; the trial picks P and the linear units beyond."""
    hinges = trial.suggest_categorical("lsq_hinges", [8, 16, 32])
    return {
        "latent_dim": obs_dim + hinges + trial.suggest_categorical("lsq_extra", [1, 8]),
        "n_relu": hinges,
    }


def _shplrnn(trial, obs_dim: int) -> dict[str, Any]:
    return {"hidden_dim": trial.suggest_categorical("plrnn_hidden", [50, 100, 200])}


CANDIDATES: dict[str, Candidate] = {
    "esn": Candidate(
        "esn",
        _esn,
        {
            "esn_reservoir": 300,
            "esn_spectral_radius": 0.9,
            "esn_leak": 0.5,
            "esn_input_scaling": 0.5,
        },
        "echo-state network (direct ridge fit)",
    ),
    "alrnn-lsq": Candidate(
        "alrnn-lsq",
        _alrnn_lsq,
        {"lsq_hinges": 16, "lsq_extra": 1},
        "AL-RNN by hinge regression",
    ),
    "shplrnn": Candidate(
        "shplrnn", _shplrnn, {"plrnn_hidden": 200}, "clipped shPLRNN, adaptive GTF"
    ),
}
DEFAULT_CANDIDATES = tuple(CANDIDATES)

#: Cost model (seconds on the reference machine: 2 cores, 20,000 training samples of a 3-D
#: system): a fixed part per trial (data, validation) plus a part per unit of work. Calibrated
#: on the trial timings of a search on noisy Lorenz-63 (20,000-sample file, 2026-12-07): ESN 300
#: units 5.1 s; hinge AL-RNN 8/16/32 hinges 37/40/46–56 s; shPLRNN L = 200, 102 epochs 106 s.
COST = {
    "esn": (2.0, 0.015),  # + per reservoir unit
    "alrnn-lsq": (32.0, 0.7),  # + per hinge
    "shplrnn": (8.0, 0.007),  # + per epoch per hidden unit
}
#: Epochs of a gradient-trained trial: as many as a fraction of the budget buys, within bounds.
MIN_EPOCHS, MAX_EPOCHS = 40, 300


def check_candidates(names: str | Sequence[str] | None) -> tuple[str, ...]:
    """Candidate names from a list or a comma-separated string; unknown names raise."""
    if names is None:
        return DEFAULT_CANDIDATES
    items = [n.strip().lower() for n in (names.split(",") if isinstance(names, str) else names)]
    items = [n for n in items if n]
    if not items:
        raise ConfigError("the search needs at least one candidate model.")
    for n in items:
        if n not in CANDIDATES:
            raise UnknownNameError(
                f"unknown search candidate {n!r}; choose from {', '.join(CANDIDATES)}."
                + did_you_mean(n, list(CANDIDATES))
            )
    return tuple(dict.fromkeys(items))


def plan_epochs(budget: float, hidden: int) -> int:
    """Epochs of one shPLRNN trial: a third of the budget at the cost model's rate."""
    per_epoch = COST["shplrnn"][1] * hidden
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, (budget / 3 - COST["shplrnn"][0]) / per_epoch)))


def estimated_cost(kind: str, settings: dict[str, Any], epochs: int = 0, scale: float = 1.0):
    """Seconds a trial is planned to take (``scale``: training samples / 20,000)."""
    fixed, rate = COST[kind]
    if kind == "esn":
        work = settings["reservoir"]
    elif kind == "alrnn-lsq":
        work = settings["n_relu"]
    else:
        work = epochs * settings["hidden_dim"]
    return fixed + rate * work * scale


def check_budget(budget: float, candidates: Sequence[str]) -> float:
    """The budget in seconds; it must cover the cheapest candidate's known recipe."""
    if isinstance(budget, bool) or not isinstance(budget, int | float) or not budget > 0:
        raise ConfigError(f"the search budget must be a positive number of seconds, got {budget}.")
    cheapest = min(_known_cost(c, budget) for c in candidates)
    if budget < cheapest:
        raise ConfigError(
            f"a budget of {budget:g} s is too small for one candidate (the cheapest, "
            f"{min(candidates, key=lambda c: _known_cost(c, budget))}, needs about "
            f"{cheapest:.0f} s); raise the budget."
        )
    return float(budget)


def _known_cost(name: str, budget: float) -> float:
    c = CANDIDATES[name]
    settings = {"reservoir": c.known.get("esn_reservoir", 0), "n_relu": c.known.get("lsq_hinges")}
    settings["hidden_dim"] = c.known.get("plrnn_hidden", 0)
    epochs = plan_epochs(budget, settings["hidden_dim"]) if c.kind == "shplrnn" else 0
    return estimated_cost(c.kind, settings, epochs)


def open_study(path: Path, seed: int, create: bool):
    """The Optuna study in ``path`` (created when ``create``); a store that is not ours raises."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=4)
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=2, reduction_factor=3)
    url = f"sqlite:///{path}"
    if create:
        study = optuna.create_study(
            study_name=STUDY, storage=url, sampler=sampler, pruner=pruner, direction="minimize"
        )
        study.set_user_attr("attractor_search", STORE_VERSION)
        return study
    if not path.is_file():
        raise RunError(f"{path.parent} has no search store ({STORE}); it was not made by auto.")
    try:
        names = optuna.study.get_all_study_names(storage=url)
    except Exception:
        raise RunError(
            f"{path} is not an attractor search store (not an Optuna database)."
        ) from None
    if STUDY not in names:
        raise RunError(f"{path} is not an attractor search store (no study {STUDY!r}).")
    study = optuna.load_study(study_name=STUDY, storage=url, sampler=sampler, pruner=pruner)
    if study.user_attrs.get("attractor_search") != STORE_VERSION:
        raise RunError(f"{path} is not an attractor search store (unknown version).")
    return study


def trial_table(study) -> list[dict[str, Any]]:
    """One row per trial: number, state, candidate, settings, validation scores, seconds."""
    rows = []
    for t in study.trials:
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                "model": t.params.get("model"),
                "params": t.params,
                "score": t.value,
                "D_stsp": t.user_attrs.get("D_stsp"),
                "D_H": t.user_attrs.get("D_H"),
                "epochs": t.user_attrs.get("epochs"),
                "seconds": t.user_attrs.get("seconds"),
                "planned_seconds": t.user_attrs.get("planned_seconds"),
            }
        )
    return rows


def score_of(metrics: dict[str, float]) -> float:
    """``D_stsp + D_H`` of a validation, ∞ when either is not finite."""
    v = metrics.get("D_stsp", math.inf) + metrics.get("D_H", math.inf)
    return v if math.isfinite(v) else math.inf


def search_fit(
    data: Any = "lorenz63",
    *,
    budget: float = DEFAULT_BUDGET,
    candidates: str | Sequence[str] | None = None,
    seed: int = 0,
    noise: float | None = None,
    embed: str | bool = "auto",
    n_train: int | None = None,
    out: str | Path = "runs",
    name: str | None = None,
    resume: str | Path | None = None,
    progress=None,
    figures: bool = True,
):
    """Search candidates × settings × sampling steps on validation scores within ``budget``
    seconds (module docstring), then evaluate the best model on the test part and write a run
    directory with the search store, the trial table and why the winner was chosen."""
    import optuna

    from attractor.api.fit import complete_run
    from attractor.data.period import decimation_factors, dominant_period
    from attractor.data.pipeline import prepare_data
    from attractor.io import read_json
    from attractor.runs import directory as runs
    from attractor.runs import index as runindex

    t_start = time.perf_counter()
    names = check_candidates(candidates)
    budget = check_budget(budget, names)
    old_store = None
    if resume is not None:
        old = Path(resume)
        if not old.is_dir():
            raise RunError(f"cannot resume: {old} is not a run directory.")
        old_store = old / STORE
        open_study(old_store, seed, create=False)  # refuse a store that is not ours, early
    base = prepare_data(data, noise, seed, embed, None, None, n_train)
    period = dominant_period(base.train.trials)
    factors = decimation_factors(period, MIN_PER_PERIOD)
    prepared = {1: base}
    scale = sum(len(v) for v in base.train.trials) / 20_000
    config = {
        "name": name or base.label,
        "seed": seed,
        "model": {"kind": "auto"},
        "search": {"budget": budget, "candidates": list(names), "resume": str(resume or "")},
        "data": {**base.info, "source": str(data) if not isinstance(data, np.ndarray) else "array"},
    }
    out_dir = Path(out)
    label = name or f"{base.label}-auto"
    run_name, partial, run_id = runs.start_run(out_dir, label, config)
    store = partial / STORE
    best: dict[str, Any] = {}
    guard = {"stopped": "budget"}
    try:
        prev_best: dict[str, Any] = {"score": math.inf}
        if old_store is not None:
            shutil.copyfile(old_store, store)
            study = open_study(store, seed, create=False)
            prev = read_json(Path(resume) / SUMMARY)
            prev_best = {"score": prev["best_score"], "trial": prev["best_trial"]}
        else:
            study = open_study(store, seed, create=True)
            for n in names:
                study.enqueue_trial({"model": n, "downsample": 1, **CANDIDATES[n].known})

        def data_for(k: int):
            if k not in prepared:
                prepared[k] = prepare_data(data, noise, seed, embed, None, None, n_train, None, k)
            return prepared[k]

        def objective(trial) -> float:
            from attractor.data.noise import estimate_noise
            from attractor.metrics.protocol import validate
            from attractor.train.loop import train
            from attractor.train.recipes import build_forcing, make_train_config

            kind = trial.suggest_categorical("model", list(names))
            k = trial.suggest_categorical("downsample", factors)
            settings = CANDIDATES[kind].suggest(trial, base.train.n_channels)
            epochs = plan_epochs(budget, settings.get("hidden_dim", 0)) if kind == "shplrnn" else 0
            trial.set_user_attr("planned_seconds", estimated_cost(kind, settings, epochs, scale))
            prep = data_for(k)
            n = prep.train.n_channels
            net = build_candidate(kind, n, settings, seed)
            cfg = make_train_config("quick", epochs or None, seed, None, kind)
            cfg.d_stsp_method = prep.info.get("d_stsp_method", "auto")
            forcing = build_forcing(kind, "quick")
            t0 = time.perf_counter()

            def report(res) -> None:
                row = res.history[-1]
                trial.report(score_of(row), row["epoch"])
                if trial.should_prune():
                    raise optuna.TrialPruned()
                if time.perf_counter() - t_start > WALL_GUARD * budget:
                    guard["stopped"] = "wall-clock guard"
                    raise optuna.TrialPruned()

            result = train(
                net,
                list(prep.train.trials),
                list(prep.val.trials),
                forcing=forcing,
                config=cfg,
                on_validate=report,
                val_noise_std=estimate_noise(prep.val.trials),
                validator=validate,
            )
            if result.interrupted:
                raise KeyboardInterrupt
            metrics = result.best_metrics
            value = score_of(metrics)
            trial.set_user_attr("D_stsp", float(metrics.get("D_stsp", math.inf)))
            trial.set_user_attr("D_H", float(metrics.get("D_H", math.inf)))
            trial.set_user_attr("epochs", len(result.history))
            trial.set_user_attr("seconds", time.perf_counter() - t0)
            if not best or value < best["score"]:
                best.update(
                    score=value, net=net, prep=prep, result=result, trial=trial.number, cfg=cfg
                )
            if progress is not None:
                planned_s = trial.user_attrs["planned_seconds"]
                progress.trial(trial.number, kind, value, best["score"], planned_s)
            return value

        def planned_so_far() -> float:
            done = (t for t in study.trials if t.state.is_finished())
            return sum(t.user_attrs.get("planned_seconds", 0.0) for t in done)

        planned = planned_so_far()
        if progress is not None:
            progress.start_search(budget)
        try:
            while planned < budget:
                if time.perf_counter() - t_start > WALL_GUARD * budget:
                    guard["stopped"] = "wall-clock guard"
                    break
                # a candidate that fails on these data (AttractorError) is a failed trial
                study.optimize(objective, n_trials=1, catch=(AttractorError,), gc_after_trial=False)
                planned = planned_so_far()
        except KeyboardInterrupt:
            guard["stopped"] = "interrupted"
        finally:
            if progress is not None:
                progress.stop()
        if resume is not None and (not best or prev_best["score"] <= best["score"]):
            best.clear()
            best.update(_from_previous(Path(resume), prev_best, data_for, seed))
        if not best:
            raise RunError("the search ended before any candidate finished; raise the budget.")
        rows = trial_table(study)
        summary = {
            "stopped": guard["stopped"],
            "budget": budget,
            "planned_seconds": planned,
            "dominant_period_samples": period,
            "decimation_factors": factors,
            "best_trial": best["trial"],
            "best_score": best["score"],
            "chosen": _describe(best, rows),
            "trials": rows,
        }
        _write_config(partial, config, best, summary)
        from attractor.io import write_json

        write_json(partial / SUMMARY, summary)
        result = best["result"]
        if guard["stopped"] == "interrupted":
            result.stopped = "interrupted"
        extra = {"search": {k: summary[k] for k in ("stopped", "best_trial", "chosen")}}
        return complete_run(
            out_dir,
            run_name,
            partial,
            run_id,
            best["net"],
            best["prep"],
            result,
            best["cfg"].d_stsp_method,
            figures,
            t_start,
            extra,
        )
    except BaseException as exc:
        runs.discard(partial)
        runindex.record_end(
            out_dir, run_id, "failed", None, None, time.perf_counter() - t_start, str(exc)
        )
        raise


def build_candidate(kind: str, obs_dim: int, settings: dict[str, Any], seed: int):
    """The model of one trial: the ESN from its constructor settings, the others through the
    registry recipe with the trial's sizes (seeded like ``attractor.fit``)."""
    from attractor.models.registry import create
    from attractor.seeds import Seeds
    from attractor.train.recipes import build_model

    if kind == "esn":
        with Seeds(seed).torch_default("init"):
            return create(kind, obs_dim, **settings)
    return build_model(
        kind,
        obs_dim,
        settings.get("latent_dim"),
        settings.get("hidden_dim"),
        settings.get("n_relu"),
        seed,
    )


def _describe(best: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in rows if r["state"] == "complete" and r["score"] is not None]
    ranked = sorted(done, key=lambda r: r["score"])
    runner = next((r for r in ranked if r["trial"] != best["trial"]), None)
    chosen = next(r for r in rows if r["trial"] == best["trial"]) if rows else {}
    why = (
        f"lowest validation D_stsp + D_H ({best['score']:.3f}) of {len(done)} completed trials"
        + (
            f"; next best: trial {runner['trial']} ({runner['model']}, {runner['score']:.3f})"
            if runner
            else ""
        )
    )
    return {
        "trial": best["trial"],
        "model": chosen.get("model"),
        "params": chosen.get("params"),
        "why": why,
    }


def _write_config(partial: Path, config: dict[str, Any], best: dict[str, Any], summary) -> None:
    from attractor.io import write_json
    from attractor.runs import directory as runs

    net, prep = best["net"], best["prep"]
    config = {
        **config,
        "model": {
            "kind": net.kind,
            "config": net.config(),
            "n_parameters": net.n_parameters(),
            "chosen_by": "auto",
        },
        "train": best["cfg"].to_dict(),
        "data": {
            **config["data"],
            **prep.info,
            "scaler": prep.train.scaler.to_dict(),
            "pipeline": prep.pipeline.to_dict(),
        },
        "search": {**config["search"], "chosen": summary["chosen"]},
    }
    write_json(partial / runs.CONFIG, config)


def _from_previous(run: Path, prev: dict[str, Any], data_for, seed: int) -> dict[str, Any]:
    """The best of a resumed search when no new trial beat it: its run's model, reloaded."""
    from attractor.io import read_json
    from attractor.runs.directory import load_run
    from attractor.train.loop import TrainResult
    from attractor.train.recipes import make_train_config

    old = load_run(run)
    summary = read_json(run / SUMMARY)
    params = summary["chosen"]["params"]
    result = TrainResult(model=old.model, history=list(old.history))
    result.best_metrics = {
        k: v for k, v in old.metrics.get("validation", {}).items() if k in ("D_stsp", "D_H")
    }
    result.best_epoch = int(old.metrics.get("best_epoch", len(old.history)))
    cfg = make_train_config("quick", None, seed, None, old.model.kind)
    cfg.d_stsp_method = old.config.get("train", {}).get("d_stsp_method", "auto")
    return {
        "score": prev["score"],
        "trial": prev["trial"],
        "net": old.model,
        "prep": data_for(int(params.get("downsample", 1))),
        "result": result,
        "cfg": cfg,
    }


__all__ = ["CANDIDATES", "check_budget", "check_candidates", "search_fit", "trial_table"]
