"""The forced rollout solved by Newton equals the sequential one — trajectories and parameter
gradients, float64 to 1e-8 and float32 to 1e-4 relative — for every gradient-trained model in
the registry; it trains on one long window; ``fit(parallel=True)`` and ``--parallel`` use it.

Models fitted directly (``fit_direct``: reservoirs, SINDy, naive baselines) never run the forced
rollout, so they are not part of the gradient comparison."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from attractor.cli import app
from attractor.errors import ConfigError
from attractor.models import create, model_names
from attractor.models.registry import get_entry
from attractor.parallel.newton import NewtonFallbackWarning
from attractor.train.forcing import SparseForcing, make_forcing
from attractor.train.loop import TrainConfig, train
from attractor.train.parallel_rollout import (
    NewtonOptions,
    parallel_forced_rollout,
    parallel_simulate,
)
from attractor.train.rollout import forced_rollout

#: Small settings per model (anything not listed is built with latent_dim=6, else its defaults).
SMALL = {
    "shplrnn": {"latent_dim": 5, "hidden_dim": 12},
    "shplrnn-plain": {"latent_dim": 4, "hidden_dim": 8},
    "alrnn": {"latent_dim": 7, "n_relu": 3},
    "ssm": {"width": 8, "modes": 2, "layers": 1},
}
GRADIENT_MODELS = [n for n in model_names() if not hasattr(get_entry(n).cls, "fit_direct")]


def build(name: str, n_inputs: int = 0, dtype=torch.float64):
    torch.manual_seed(0)
    kw = SMALL.get(name, {"latent_dim": 6})
    try:
        model = create(name, 3, n_inputs=n_inputs, **kw)
    except ConfigError:
        model = create(name, 3, n_inputs=n_inputs)
    model = model.to(dtype)
    if getattr(model, "C", None) is not None:
        with torch.no_grad():
            model.C.normal_(0, 0.5)
    return model


def rollout_and_grads(model, x, alpha, s, parallel):
    params = [p for p in model.parameters() if p.requires_grad]
    if parallel:
        pred, info = parallel_forced_rollout(model, x, alpha, s=s, return_info=True)
        assert info.converged and not info.fallback
    else:
        pred = forced_rollout(model, x, alpha, s=s, mode="autograd")
    loss = ((model.observe(pred) - x[:, 1:]) ** 2).mean() + 0.01 * (pred**2).mean()
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return pred.detach(), [
        g if g is not None else torch.zeros_like(p) for g, p in zip(grads, params, strict=True)
    ]


def rel(a, b):
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


def test_every_gradient_trained_model_is_covered():
    for name in ("shplrnn", "plrnn", "alrnn", "gru", "lstm", "diaggru", "diaglstm"):
        assert name in GRADIENT_MODELS


@pytest.mark.parametrize("name", GRADIENT_MODELS)
@pytest.mark.parametrize(("n_inputs", "alpha"), [(0, 0.3), (2, 0.3), (2, 0.0)])
def test_parallel_equals_sequential_float64(name, n_inputs, alpha):
    """α = 0 with inputs: the unforced, driven path (no padded targets; Jacobians written
    straight into Newton's buffer by models that can)."""
    model = build(name, n_inputs)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 41, 3, generator=g, dtype=torch.float64)
    s = torch.randn(3, 40, n_inputs, generator=g, dtype=torch.float64) if n_inputs else None
    p_seq, g_seq = rollout_and_grads(model, x, alpha, s, parallel=False)
    p_par, g_par = rollout_and_grads(model, x, alpha, s, parallel=True)
    torch.testing.assert_close(p_par, p_seq, rtol=1e-8, atol=1e-8)
    for a, b in zip(g_par, g_seq, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-8 * float(b.abs().max()) + 1e-12)


@pytest.mark.parametrize("name", GRADIENT_MODELS)
def test_parallel_equals_sequential_float32(name):
    model = build(name, 0, torch.float32)
    x = torch.randn(3, 151, 3, generator=torch.Generator().manual_seed(2))
    p_seq, g_seq = rollout_and_grads(model, x, 0.2, None, parallel=False)
    p_par, g_par = rollout_and_grads(model, x, 0.2, None, parallel=True)
    assert rel(p_par, p_seq) < 1e-4
    assert (
        rel(torch.cat([g.flatten() for g in g_par]), torch.cat([g.flatten() for g in g_seq])) < 1e-4
    )


@pytest.mark.parametrize("name", ["shplrnn", "diaglstm", "alrnn"])
@pytest.mark.parametrize("alpha_kind", ["per-step", "sparse"])
def test_per_step_and_sparse_forcing(name, alpha_kind):
    model = build(name)
    x = torch.randn(2, 61, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    alpha = {
        "per-step": torch.rand(60, generator=torch.Generator().manual_seed(4), dtype=torch.float64),
        "sparse": SparseForcing(7).alphas(60).double(),
    }[alpha_kind]
    p_seq, g_seq = rollout_and_grads(model, x, alpha, None, parallel=False)
    p_par, g_par = rollout_and_grads(model, x, alpha, None, parallel=True)
    torch.testing.assert_close(p_par, p_seq, rtol=1e-9, atol=1e-10)
    for a, b in zip(g_par, g_seq, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ["shplrnn", "alrnn"])
def test_single_window_leaves_the_data_untouched(name):
    """B = 1 (one long window): Newton's first guess is the data-inferred state, which for
    M = N is a view of the targets themselves; the solve must not update it in place."""
    model = build(name) if name != "shplrnn" else create("shplrnn", 3, latent_dim=3).double()
    x = torch.randn(1, 301, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    before = x.clone()
    p_seq, g_seq = rollout_and_grads(model, x, 0.6, None, parallel=False)
    p_par, g_par = rollout_and_grads(model, x, 0.6, None, parallel=True)
    assert torch.equal(x, before)
    torch.testing.assert_close(p_par, p_seq, rtol=1e-9, atol=1e-10)
    for a, b in zip(g_par, g_seq, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


def test_start_state_gradient():
    model = build("shplrnn")
    x = torch.randn(2, 31, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    grads = []
    for fn in (
        lambda z0: forced_rollout(model, x, 0.1, z0=z0, mode="autograd"),
        lambda z0: parallel_forced_rollout(model, x, 0.1, z0=z0),
    ):
        z0 = torch.randn(2, 5, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
        z0.requires_grad_()
        (grad,) = torch.autograd.grad((fn(z0) ** 2).sum(), [z0])
        grads.append(grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-9, atol=1e-12)


def test_free_run_by_newton_equals_simulate():
    model = build("diaggru", 2)
    z0 = torch.randn(3, 6, dtype=torch.float64)
    s = torch.randn(3, 80, 2, dtype=torch.float64)
    res = parallel_simulate(model, z0, 80, s=s)
    ref = model.simulate(z0=z0, steps=81, s=torch.cat([s[:, :1], s], 1), return_latent=True)[:, 1:]
    assert res.converged
    torch.testing.assert_close(res.states, ref, rtol=1e-10, atol=1e-10)


def test_unconverged_rollout_falls_back_and_still_has_exact_gradients():
    model = build("shplrnn")
    x = torch.randn(2, 61, 3, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    opts = NewtonOptions(max_iter=1)
    with pytest.warns(NewtonFallbackWarning):
        pred, info = parallel_forced_rollout(model, x, 0.05, options=opts, return_info=True)
    assert info.fallback and not info.converged
    ref = forced_rollout(model, x, 0.05, mode="autograd")
    torch.testing.assert_close(pred, ref.detach(), rtol=1e-12, atol=1e-12)
    params = [p for p in model.parameters() if p.requires_grad]
    g_par = torch.autograd.grad((pred**2).sum(), params)
    g_seq = torch.autograd.grad((ref**2).sum(), params)
    for a, b in zip(g_par, g_seq, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def rotation(n=6000):
    t = np.arange(n)
    x = np.stack([np.sin(0.05 * t), np.cos(0.05 * t)], 1)
    return x + 0.01 * np.random.default_rng(0).standard_normal(x.shape)


def test_training_on_one_long_window_matches_sequential_training():
    data = rotation()
    cfg = dict(
        epochs=2,
        steps_per_epoch=2,
        batch_size=1,
        seq_len=2000,
        lr=1e-2,
        lr_end=5e-3,
        validate_every=10,
        reg=0.0,
    )
    states, results = [], []
    for rollout in ("adjoint", "parallel"):
        torch.manual_seed(0)
        model = create("shplrnn", 2, latent_dim=3, hidden_dim=16).double()
        res = train(
            model, [data], None, make_forcing("gtf", alpha=0.2), TrainConfig(**cfg, rollout=rollout)
        )
        states.append([p.detach().clone() for p in model.parameters()])
        results.append(res)
    for a, b in zip(*states, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-7, atol=1e-9)
    hist = results[1].history
    assert all(1 <= row["newton_iters"] <= 20 and row["newton_fallbacks"] == 0 for row in hist)
    assert "newton_iters" not in results[0].history[0]


def test_unknown_rollout_is_a_clear_error():
    with pytest.raises(ConfigError, match="rollout"):
        TrainConfig(rollout="paralel").check()


def test_cli_fit_parallel_records_it(lorenz_csv, tmp_path):
    out = tmp_path / "runs"
    res = CliRunner().invoke(
        app,
        [
            "fit",
            str(lorenz_csv),
            "--model",
            "shplrnn",
            "--epochs",
            "1",
            "--hidden",
            "10",
            "--parallel",
            "--seq-len",
            "1000",
            "--batch-size",
            "2",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["parallel"] is True
    assert config["train"]["rollout"] == "parallel"
    assert config["train"]["seq_len"] == 1000 and config["train"]["batch_size"] == 2
    assert "newton_iters" in (run_dir / "history.csv").read_text().splitlines()[0]
