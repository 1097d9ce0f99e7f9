"""The training loop: it learns, it is reproducible, it recovers, it stops cleanly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from attractor.errors import ConfigError, DataError, TrainingError
from attractor.metrics.protocol import validate
from attractor.models import create
from attractor.train.forcing import make_forcing
from attractor.train.loop import TrainConfig, train
from attractor.train.progress import Progress


def rotation_data(n: int = 3000, omega: float = 0.2, seed: int = 0) -> np.ndarray:
    """A noisy limit cycle (sine/cosine): a linear model can represent it exactly."""
    t = np.arange(n)
    x = np.stack([np.sin(omega * t), np.cos(omega * t)], axis=1)
    return x + 0.01 * np.random.default_rng(seed).standard_normal(x.shape)


def small_cfg(**kw) -> TrainConfig:
    base = dict(
        epochs=4,
        steps_per_epoch=10,
        batch_size=8,
        seq_len=20,
        lr=2e-2,
        lr_end=4e-3,
        validate_every=2,
        val_trajectories=2,
        val_length=300,
    )
    base.update(kw)
    return TrainConfig(**base)


def test_training_reduces_the_loss():
    torch.manual_seed(0)
    data = rotation_data()
    model = create("alrnn", 2, latent_dim=4, n_relu=1)
    cfg = small_cfg(epochs=6, steps_per_epoch=20)
    res = train(
        model, [data[:2000]], [data[2000:]], make_forcing("gtf", alpha=0.2), cfg, validator=validate
    )
    losses = [r["loss"] for r in res.history]
    assert losses[-1] < 0.2 * losses[0]
    assert res.best_epoch in (2, 4, 6)
    assert "D_stsp" in res.history[1] and math.isfinite(res.history[1]["D_stsp"])


def _run(seed):
    torch.manual_seed(123)
    data = rotation_data()
    model = create("shplrnn", 2, latent_dim=2, hidden_dim=8)
    res = train(
        model,
        [data[:2000]],
        [data[2000:]],
        make_forcing("agtf"),
        small_cfg(seed=seed),
        validator=validate,
    )
    return res, model


def test_same_seed_same_history_and_weights():
    a, ma = _run(1)
    b, mb = _run(1)
    assert [r["loss"] for r in a.history] == [r["loss"] for r in b.history]
    for p, q in zip(ma.parameters(), mb.parameters(), strict=False):
        assert torch.equal(p, q)
    c, _ = _run(2)
    assert [r["loss"] for r in a.history] != [r["loss"] for r in c.history]


def test_nonfinite_loss_restores_state_and_halves_lr(monkeypatch):
    import attractor.train.loop as loop

    real = loop.forced_rollout
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        out = real(*args, **kwargs)
        return out * float("nan") if calls["n"] == 15 else out

    monkeypatch.setattr(loop, "forced_rollout", flaky)
    data = rotation_data()
    model = create("alrnn", 2, latent_dim=3, n_relu=1)
    res = train(
        model,
        [data[:2000]],
        [data[2000:]],
        make_forcing("gtf", alpha=0.2),
        small_cfg(),
        validator=validate,
    )
    assert len(res.events) == 1
    assert res.events[0]["event"] == "non-finite loss"
    assert all(torch.isfinite(p).all() for p in model.parameters())
    # the lr after the event is half of the scheduled one at that point
    lr_epoch2 = res.history[1]["lr"]
    sched_only = 2e-2 * (4e-3 / 2e-2) ** (2 / 4)
    assert lr_epoch2 == pytest.approx(0.5 * sched_only)


def test_too_many_nonfinite_losses_raise(monkeypatch):
    import attractor.train.loop as loop

    monkeypatch.setattr(loop, "forced_rollout", lambda *a, **k: torch.full((8, 20, 3), math.nan))
    model = create("alrnn", 2, latent_dim=3, n_relu=1)
    with pytest.raises(TrainingError, match="non-finite"):
        train(model, [rotation_data()], None, make_forcing("gtf", alpha=0.2), small_cfg())


class InterruptAt(Progress):
    def __init__(self, epoch: int) -> None:
        self.at = epoch
        self.messages: list[str] = []

    def epoch(self, epoch, info):
        if epoch == self.at:
            raise KeyboardInterrupt

    def message(self, text):
        self.messages.append(text)


def test_ctrl_c_stops_cleanly_and_keeps_the_best_model():
    torch.manual_seed(0)
    data = rotation_data()
    model = create("alrnn", 2, latent_dim=4, n_relu=1)
    prog = InterruptAt(3)
    res = train(
        model,
        [data[:2000]],
        [data[2000:]],
        make_forcing("gtf", alpha=0.2),
        small_cfg(epochs=10, validate_every=1),
        progress=prog,
        validator=validate,
    )
    assert res.interrupted and res.stopped == "interrupted"
    assert len(res.history) == 3 and res.best_epoch in (1, 2, 3)
    assert prog.messages and "interrupted" in prog.messages[0]


def test_time_budget_and_patience_stop_early():
    data = rotation_data()
    model = create("alrnn", 2, latent_dim=3, n_relu=1)
    res = train(
        model, [data], None, make_forcing("gtf", alpha=0.2), small_cfg(epochs=1000, time_budget=0.5)
    )
    assert res.stopped == "time budget" and len(res.history) < 1000


def test_cpu_budget_counts_this_process_cpu_seconds(monkeypatch):
    """With budget_clock="cpu" the budget is read from the process's CPU clock, not the wall
    clock: a CPU clock that advances 1 s per call stops training after the budgeted calls,
    while the wall clock (barely moving) would have allowed all 1000 epochs."""
    from attractor.train import loop

    ticks = iter(range(10_000))
    monkeypatch.setitem(loop.BUDGET_CLOCKS, "cpu", lambda: float(next(ticks)))
    model = create("alrnn", 2, latent_dim=3, n_relu=1)
    cfg = small_cfg(epochs=1000, time_budget=3.0, budget_clock="cpu")
    res = train(model, [rotation_data()], None, make_forcing("gtf", alpha=0.2), cfg)
    assert res.stopped == "time budget" and len(res.history) == 3


def test_last_epoch_within_a_budget_is_validated(monkeypatch):
    """Training stopped by the budget between validations still validates its final epoch, so
    the best checkpoint can be the last state rather than an older validated one."""
    from attractor.train import loop

    ticks = iter(range(10_000))
    monkeypatch.setitem(loop.BUDGET_CLOCKS, "cpu", lambda: float(next(ticks)))
    data = rotation_data()
    model = create("alrnn", 2, latent_dim=3, n_relu=1)
    cfg = small_cfg(epochs=1000, validate_every=2, time_budget=3.0, budget_clock="cpu")
    res = train(model, [data], [data], make_forcing("gtf", alpha=0.2), cfg, validator=validate)
    assert len(res.history) == 3 and res.stopped == "time budget"
    assert [("D_stsp" in row) for row in res.history] == [False, True, True]
    with pytest.raises(ConfigError, match="budget clock"):
        small_cfg(budget_clock="gpu").check()


def test_windows_longer_than_data_are_a_clear_error():
    model = create("alrnn", 2, latent_dim=3, n_relu=1)
    with pytest.raises(DataError, match="shorter than one training window"):
        train(model, [rotation_data(15)], None, make_forcing("agtf"), small_cfg())


def test_channel_mismatch_is_a_clear_error():
    model = create("alrnn", 3, latent_dim=3, n_relu=1)
    with pytest.raises(DataError, match="channels"):
        train(model, [rotation_data()], None, make_forcing("agtf"), small_cfg())


def test_validation_needs_a_validator_passed_in():
    """Training does not import the metrics: held-out data come with the caller's validator."""
    model = create("alrnn", 2, latent_dim=3, n_relu=1)
    with pytest.raises(ConfigError, match="validator"):
        train(model, [rotation_data()], [rotation_data(seed=1)], config=small_cfg())
    seen = []

    def validator(model, trials, n_traj, length, noise_std, *, d_stsp_method):
        seen.append((len(trials), n_traj, length, d_stsp_method))
        return {"D_stsp": 1.0 / len(seen), "D_H": 0.0}

    res = train(
        model, [rotation_data()], [rotation_data(seed=1)], config=small_cfg(), validator=validator
    )
    assert seen == [(1, 2, 300, "auto")] * 2  # epochs 2 and 4: val_trajectories, val_length
    assert res.best_metrics["D_stsp"] == 1.0 / len(seen)


def test_the_d_stsp_method_names_are_the_metrics_ones():
    from attractor.metrics.geometry import METHODS
    from attractor.train.loop import D_STSP_METHODS

    assert D_STSP_METHODS == METHODS
