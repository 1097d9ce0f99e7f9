"""The training loop: windows of data, a forcing strategy, RAdam, validation, recovery, progress.

One optimiser step (REFERENCE §2)::

    sample S windows x ∈ R^{S×(T̃+1)×N} (uniform start indices over all trials, with replacement)
    optionally add Gaussian noise to the windows
    ẑ_1…ẑ_T̃ = forced rollout of the model under the forcing strategy's α_t
    loss = mean over t = 1…T̃ of ‖x̂_t − x_t‖²  +  λ · model.regularization()

An epoch is ``steps_per_epoch`` (50) optimiser steps; the learning rate decays exponentially per
epoch from ``lr`` to ``lr_end`` over ``epochs``. Every ``validate_every`` epochs the model runs
freely from points of the held-out data and is scored by the :class:`Validator` the caller
passes in (``attractor.metrics.protocol.validate``; training does not import the metrics), and
the state with the best validation ``D_stsp`` is kept. A non-finite loss or parameter restores the
last good state, halves the learning rate and records the event; after ``max_recoveries`` such
events training stops with :class:`attractor.errors.TrainingError`. Ctrl-C (KeyboardInterrupt)
stops after the current step and returns the best model found so far, marked ``interrupted``.

Models that declare :class:`~attractor.models.base.DirectFit` (ridge-readout reservoirs,
SINDy, hinge regression, naive baselines) are fitted by ``fit_direct(train_trials)`` instead of
the gradient loop.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from attractor.errors import ConfigError, DataError, TrainingError
from attractor.models.base import DirectFit, DynamicalModel
from attractor.seeds import Seeds
from attractor.train.forcing import Forcing, GeneralizedForcing
from attractor.train.parallel_rollout import parallel_forced_rollout
from attractor.train.progress import Progress
from attractor.train.rollout import forced_rollout

#: Clocks a time budget can be measured on: elapsed wall time, or the CPU time of this process
#: (all its threads) — the fair measure when several jobs share the cores, so a job slowed by a
#: neighbour still gets the same amount of computation.
BUDGET_CLOCKS: dict[str, Callable[[], float]] = {
    "wall": time.perf_counter,
    "cpu": time.process_time,
}
#: The D_stsp estimators a :class:`Validator` accepts (``attractor.metrics.geometry.METHODS``,
#: restated so that training does not import the metrics; a test keeps the two equal).
D_STSP_METHODS = ("auto", "binned", "gmm")


class Validator(Protocol):
    """Scores free runs of ``model`` against held-out ``trials`` (each ``(T_k, N)``).

    Called as ``validator(model, trials, n_traj, length, noise_std, d_stsp_method=...)`` with
    ``n_traj`` free runs of ``length`` steps started from held-out points, observed with
    Gaussian noise of ``noise_std`` per channel (or none); returns at least ``"D_stsp"`` and
    ``"D_H"`` (lower is better; ``inf`` for a diverged run). The library's validator is
    :func:`attractor.metrics.protocol.validate`.
    """

    def __call__(
        self,
        model: DynamicalModel,
        trials: Sequence[np.ndarray],
        n_traj: int,
        length: int,
        noise_std: np.ndarray | None,
        *,
        d_stsp_method: str,
    ) -> Mapping[str, float]: ...


@dataclass
class TrainConfig:
    """Hyper-parameters of the gradient loop (defaults: the Lorenz-63 recipe, REFERENCE §2)."""

    epochs: int = 500
    steps_per_epoch: int = 50
    batch_size: int = 16
    seq_len: int = 200
    lr: float = 2e-3
    lr_end: float = 1e-5
    reg: float = 1e-5
    window_noise: float = 0.0
    grad_clip: float | None = 10.0
    validate_every: int = 25
    val_trajectories: int = 10
    val_length: int = 10_000
    d_stsp_method: str = "auto"  # "auto" | "binned" | "gmm" (attractor.metrics.geometry.d_stsp)
    patience: int | None = None
    time_budget: float | None = None
    budget_clock: str = "wall"  # "wall" (elapsed seconds) | "cpu" (this process's CPU seconds)
    max_recoveries: int = 5
    rollout: str = "auto"  # "auto" | "adjoint" | "autograd" | "parallel" (Newton over time)
    seed: int = 0

    def check(self) -> None:
        for name in ("epochs", "steps_per_epoch", "batch_size", "seq_len", "validate_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if not (self.lr > 0 and self.lr_end > 0):
            raise ConfigError(f"learning rates must be positive, got {self.lr} → {self.lr_end}.")
        if self.reg < 0 or self.window_noise < 0:
            raise ConfigError("reg and window_noise must be ≥ 0.")
        if self.rollout not in ("auto", "adjoint", "autograd", "parallel"):
            raise ConfigError(
                f"unknown rollout {self.rollout!r}; use auto, adjoint, autograd or parallel."
            )
        if self.time_budget is not None and self.time_budget <= 0:
            raise ConfigError(f"time_budget must be positive seconds, got {self.time_budget}.")
        if self.d_stsp_method not in D_STSP_METHODS:
            raise ConfigError(
                f"unknown D_stsp method {self.d_stsp_method!r}; use {', '.join(D_STSP_METHODS)}."
            )
        if self.budget_clock not in BUDGET_CLOCKS:
            raise ConfigError(
                f"unknown budget clock {self.budget_clock!r}; use {' or '.join(BUDGET_CLOCKS)}."
            )

    def to_dict(self) -> dict[str, Any]:
        """The settings as a run records them; the seed is the run's own (``config["seed"]``),
        so it is not repeated here."""
        d = asdict(self)
        del d["seed"]
        return d


@dataclass
class TrainResult:
    """What training produced: the best model, the per-epoch history and how it ended."""

    model: DynamicalModel
    history: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_metrics: dict[str, float] = field(default_factory=dict)
    stopped: str = "completed"
    wall_time: float = 0.0

    @property
    def interrupted(self) -> bool:
        return self.stopped == "interrupted"


class WindowSampler:
    """Uniform random windows of ``seq_len + 1`` points over all trials that are long enough."""

    def __init__(
        self, trials: Sequence[np.ndarray], seq_len: int, dtype: torch.dtype, device: Any
    ) -> None:
        width = seq_len + 1
        long_enough = [v for v in trials if v.shape[0] >= width]
        if not long_enough:
            longest = max(v.shape[0] for v in trials)
            raise DataError(
                f"the training data ({longest} samples at most per trajectory) are shorter than "
                f"one training window of {width} samples; use a shorter seq_len= or more data."
            )
        self.data = torch.as_tensor(np.concatenate(long_enough, axis=0), dtype=dtype, device=device)
        starts, offset = [], 0
        for v in long_enough:
            starts.append(torch.arange(offset, offset + v.shape[0] - width + 1))
            offset += v.shape[0]
        self.starts = torch.cat(starts).to(device)
        self.arange = torch.arange(width, device=device)

    def sample(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """``(batch, seq_len + 1, N)`` windows."""
        pick = torch.randint(len(self.starts), (batch,), generator=generator)
        idx = self.starts[pick.to(self.starts.device)][:, None] + self.arange
        return self.data[idx]


def _finite_params(model: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def train(
    model: DynamicalModel,
    train_trials: Sequence[np.ndarray],
    val_trials: Sequence[np.ndarray] | None = None,
    forcing: Forcing | None = None,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
    on_validate: Callable[[TrainResult], None] | None = None,
    val_noise_std: np.ndarray | None = None,
    validator: Validator | None = None,
) -> TrainResult:
    """Train ``model`` on standardised ``train_trials`` (each ``(T_k, N)``).

    ``val_trials`` (held-out, same units) drive validation and best-checkpoint selection, scored
    by ``validator`` (required with them; :func:`attractor.metrics.protocol.validate`); without
    them the last state is kept. ``val_noise_std`` (per channel) is the held-out data's
    observation-noise level, added to the free runs before comparing. ``on_validate`` is called
    after every validation with the current result (the run directory uses it to checkpoint, so
    Ctrl-C or a crash loses little).
    """
    cfg = config or TrainConfig()
    cfg.check()
    forcing = forcing or GeneralizedForcing()
    progress = progress or Progress()
    if val_trials is not None and validator is None:
        raise ConfigError(
            "held-out val_trials need a validator to score them; pass "
            "validator=attractor.metrics.protocol.validate (or val_trials=None)."
        )
    if isinstance(model, DirectFit):
        return _fit_direct(model, train_trials, val_trials, cfg, progress, val_noise_std, validator)

    param = next(model.parameters())
    dtype, device = param.dtype, param.device
    gen = Seeds(cfg.seed).torch("batches")
    sampler = WindowSampler(train_trials, cfg.seq_len, dtype, device)
    if sampler.data.shape[1] != model.obs_dim:
        raise DataError(
            f"the data have {sampler.data.shape[1]} channels but the model observes "
            f"{model.obs_dim}; build the model for the data's dimension."
        )
    opt = torch.optim.RAdam(model.parameters(), lr=cfg.lr)
    gamma = (cfg.lr_end / cfg.lr) ** (1.0 / max(1, cfg.epochs))
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma)

    result = TrainResult(model=model)
    best_state = copy.deepcopy(model.state_dict())
    good_state = copy.deepcopy(model.state_dict())
    best_score, since_best = math.inf, 0
    t0 = time.perf_counter()
    clock = BUDGET_CLOCKS[cfg.budget_clock]
    c0 = clock()
    step = 0
    latest: dict[str, float] = {}
    progress.start(cfg.epochs, f"{model.kind or 'model'}")
    try:
        for epoch in range(1, cfg.epochs + 1):
            losses, newton_iters = [], []
            for _ in range(cfg.steps_per_epoch):
                x = sampler.sample(cfg.batch_size, gen)
                if cfg.window_noise:
                    x = x + cfg.window_noise * torch.randn(x.shape, generator=gen).to(x)
                forcing.update(model, x, step)
                alphas = forcing.alphas(cfg.seq_len).to(dtype=dtype, device=device)
                if cfg.rollout == "parallel":
                    zp, info = parallel_forced_rollout(model, x, alphas, return_info=True)
                    newton_iters.append((info.iterations, info.fallback))
                    pred = model.observe(zp)
                else:
                    pred = model.observe(forced_rollout(model, x, alphas, mode=cfg.rollout))
                mse = torch.mean((pred - x[:, 1:]) ** 2)
                loss = mse + cfg.reg * model.regularization() if cfg.reg else mse
                opt.zero_grad(set_to_none=True)
                if not torch.isfinite(loss):
                    _recover(model, opt, good_state, result, epoch, cfg, progress, "loss")
                    continue
                loss.backward()
                if cfg.grad_clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                opt.step()
                step += 1
                if not _finite_params(model):
                    _recover(model, opt, good_state, result, epoch, cfg, progress, "parameters")
                    continue
                losses.append(mse.item())
            sched.step()
            good_state = copy.deepcopy(model.state_dict())
            row: dict[str, Any] = {
                "epoch": epoch,
                "time": time.perf_counter() - t0,
                "loss": float(np.mean(losses)) if losses else math.nan,
                "alpha": forcing.alpha,
                "lr": opt.param_groups[0]["lr"],
            }
            if newton_iters:  # mean Newton iterations per step, and sequential fallbacks
                row["newton_iters"] = float(np.mean([k for k, _ in newton_iters]))
                row["newton_fallbacks"] = sum(fb for _, fb in newton_iters)
            # the last epoch a budget allows is always validated, so the best checkpoint is
            # chosen among everything trained (not reverted to an earlier validated epoch)
            spent = cfg.time_budget is not None and clock() - c0 >= cfg.time_budget
            last = epoch == cfg.epochs or spent
            if val_trials is not None and (epoch % cfg.validate_every == 0 or last):
                model.eval()
                latest = validator(  # type: ignore[misc]
                    model,
                    val_trials,
                    cfg.val_trajectories,
                    cfg.val_length,
                    val_noise_std,
                    d_stsp_method=cfg.d_stsp_method,
                )
                model.train()
                row.update({"D_stsp": latest["D_stsp"], "D_H": latest["D_H"]})
                score = latest["D_stsp"]
                if score < best_score:
                    best_score, since_best = score, 0
                    best_state = copy.deepcopy(model.state_dict())
                    result.best_epoch = epoch
                    result.best_metrics = {"D_stsp": score, "D_H": latest["D_H"]}
                else:
                    since_best += 1
            result.history.append(row)
            progress.epoch(epoch, {**row, **{k: latest.get(k) for k in ("D_stsp", "D_H")}})
            if "D_stsp" in row and on_validate is not None:
                on_validate(result)
            if cfg.patience is not None and since_best >= cfg.patience:
                result.stopped = "no improvement"
                break
            if spent:
                result.stopped = "time budget"
                break
    except KeyboardInterrupt:
        result.stopped = "interrupted"
        progress.message("interrupted: keeping the best model so far")
    finally:
        progress.stop()
    if val_trials is not None and result.best_epoch:
        model.load_state_dict(best_state)
    elif val_trials is None:
        result.best_epoch = len(result.history)
    result.wall_time = time.perf_counter() - t0
    return result


def _recover(
    model: DynamicalModel,
    opt: torch.optim.Optimizer,
    good_state: dict[str, Any],
    result: TrainResult,
    epoch: int,
    cfg: TrainConfig,
    progress: Progress,
    what: str,
) -> None:
    """Restore the last good state and halve the learning rate after a non-finite value."""
    model.load_state_dict(good_state)
    opt.state.clear()
    for g in opt.param_groups:
        g["lr"] *= 0.5
    event = {"epoch": epoch, "event": f"non-finite {what}", "new_lr": opt.param_groups[0]["lr"]}
    result.events.append(event)
    progress.message(
        f"epoch {epoch}: non-finite {what}; restored the last good state, "
        f"lr → {event['new_lr']:.2e}"
    )
    if len(result.events) > cfg.max_recoveries:
        raise TrainingError(
            f"training produced non-finite values {len(result.events)} times even after restoring "
            "the last good state and lowering the learning rate; try a smaller learning rate "
            "or more forcing."
        )


def _fit_direct(
    model: DirectFit,
    train_trials: Sequence[np.ndarray],
    val_trials: Sequence[np.ndarray] | None,
    cfg: TrainConfig,
    progress: Progress,
    val_noise_std: np.ndarray | None,
    validator: Validator | None,
) -> TrainResult:
    """Closed-form fit; with held-out data, the model's candidates (ridge strengths of the ESN,
    restarts of the hinge-fitted AL-RNN), if any, are each validated and the one with the lowest
    validation D_stsp is kept (one history row each)."""
    t0 = time.perf_counter()
    model.fit_direct(list(train_trials))
    result = TrainResult(model=model, best_epoch=1)
    key, candidates = model.candidate_name, tuple(model.direct_candidates())
    # a model may ask for longer validation runs (cheap next to training; catches late collapse)
    vlen = cfg.val_length * int(model.validation_factor)
    progress.start(max(1, len(candidates)), f"{model.kind or 'model'} (direct fit)")

    def validate_now() -> Mapping[str, float]:
        return validator(  # type: ignore[misc]
            model,
            val_trials,  # type: ignore[arg-type]
            cfg.val_trajectories,
            vlen,
            val_noise_std,
            d_stsp_method=cfg.d_stsp_method,
        )

    if val_trials is None or not candidates:
        row: dict[str, Any] = {"epoch": 1, "time": time.perf_counter() - t0}
        if val_trials is not None:
            m = validate_now()
            row.update({"D_stsp": m["D_stsp"], "D_H": m["D_H"]})
            result.best_metrics = {"D_stsp": m["D_stsp"], "D_H": m["D_H"]}
        result.history.append(row)
        progress.epoch(1, row)
    else:
        best: tuple[float, float, float] | None = None  # (D_stsp, D_H, candidate)
        for k, cand in enumerate(candidates, start=1):
            model.use_candidate(cand)
            m = validate_now()
            row = {"epoch": k, "time": time.perf_counter() - t0, key: cand}
            row.update({"D_stsp": m["D_stsp"], "D_H": m["D_H"]})
            result.history.append(row)
            progress.epoch(k, row)
            score = tuple(v if math.isfinite(v) else math.inf for v in (m["D_stsp"], m["D_H"]))
            score = (*score, cand)
            if best is None or score[:2] < best[:2]:
                best, result.best_epoch = score, k
        assert best is not None
        model.use_candidate(best[2])
        result.best_metrics = {"D_stsp": best[0], "D_H": best[1], key: best[2]}
    model.release_design()
    progress.stop()
    result.wall_time = time.perf_counter() - t0
    return result
