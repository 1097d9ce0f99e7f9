"""Leaky RNN with learnable τ, task networks with heads, checkpoints, the noise-driven emitter."""

from __future__ import annotations

import pytest
import torch

from attractor.errors import AttractorError, ConfigError, UnknownNameError
from attractor.models import create
from attractor.models.emitter import NoiseDrivenRNN
from attractor.models.leaky import LeakyRNN
from attractor.tasks.curricula import task_loss
from attractor.tasks.data import task_batch
from attractor.tasks.heads import (
    TaskNetwork,
    build_core,
    checkpoint_extra,
    load_task_network,
    save_task_network,
)


@pytest.mark.parametrize("placement", ["outside", "inside"])
def test_run_equals_step_loop_and_equations(placement):
    torch.manual_seed(0)
    m = LeakyRNN(latent_dim=7, n_inputs=2, nonlinearity=placement)
    with torch.no_grad():
        m.b.normal_()
    s = torch.randn(3, 9, 2)
    fast = m.run(s)
    h = torch.zeros(3, 7)
    tau = m.tau.detach()
    w = m.W.detach() * (1 - torch.eye(7))
    phi = torch.nn.functional.leaky_relu
    for t in range(9):
        u = h @ w.T + s[:, t] @ m.C.detach().T + m.b.detach()
        if placement == "outside":
            ref = phi((1 - 1 / tau) * h + u / tau, 0.01)
        else:
            ref = (1 - 1 / tau) * h + phi(u, 0.01) / tau
        torch.testing.assert_close(m.step(h, s[:, t]), ref)
        torch.testing.assert_close(fast[:, t], ref)
        h = ref


@pytest.mark.parametrize("placement", ["outside", "inside"])
def test_analytic_jacobian_matches_autograd(placement):
    torch.manual_seed(1)
    m = LeakyRNN(latent_dim=6, n_inputs=1, nonlinearity=placement)
    z, s = torch.randn(4, 6), torch.randn(4, 1)
    analytic = m.jacobian(z, s)
    auto = torch.func.vmap(torch.func.jacrev(lambda zz, ss: m.step(zz[None], ss[None])[0]))(z, s)
    torch.testing.assert_close(analytic, auto)


def test_initialisation_and_registry():
    torch.manual_seed(0)
    m = create("leaky", 1, latent_dim=50)
    assert isinstance(m, LeakyRNN) and m.kind == "leaky"
    assert torch.all(torch.diagonal(m.W) == 0)
    assert 1.0 <= m.tau.min().item() and m.tau.max().item() <= 2.0
    assert m.config()["nonlinearity"] == "outside"


def test_tau_clamp_and_zero_diagonal_hold_during_training():
    """Large steps push τ below 1 and W's diagonal away from 0; constrain() must undo both."""
    torch.manual_seed(0)
    net = TaskNetwork(build_core("leaky", 16), 2)
    model = net.core.model
    opt = torch.optim.SGD(net.parameters(), lr=5.0)
    g = torch.Generator().manual_seed(0)
    pushed_below = False
    for _ in range(15):
        b = task_batch("parity", [2, 3], 32, generator=g)
        loss = task_loss(net(b.inputs), b.targets) + 10 * model.tau.sum() + model.W.diagonal().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        pushed_below |= bool((model.tau < 1).any()) or bool(model.W.diagonal().abs().max() > 0)
        net.constrain()
        assert model.tau.min().item() >= 1.0
        assert torch.all(model.W.diagonal() == 0)
    assert pushed_below  # the test really exercised the constraints
    assert model.tau.min().item() == 1.0


def test_bad_leaky_input():
    with pytest.raises(ConfigError):
        LeakyRNN(latent_dim=0)
    with pytest.raises(UnknownNameError):
        LeakyRNN(latent_dim=4, nonlinearity="middle")


# ---------------------------------------------------------------------------- task networks
@pytest.mark.parametrize("kind", ["leaky", "gru", "lstm"])
def test_task_network_shapes_and_heads(kind):
    torch.manual_seed(0)
    net = TaskNetwork(build_core(kind, 12), 2)
    x = task_batch("dms", [2, 3], 5, length=9).inputs
    assert net(x).shape == (5, 2, 2)
    net.add_head()
    out = net(x)
    assert out.shape == (5, 3, 2)
    # heads read the same final state: head j's logits equal its own Linear on h_T
    h = net.core(x)[:, -1]
    torch.testing.assert_close(out[:, 1], net.heads[1](h))


def test_checkpoint_round_trip_and_head_mismatch(tmp_path):
    torch.manual_seed(0)
    net = TaskNetwork(build_core("leaky", 10, nonlinearity="inside"), 3)
    path = save_task_network(tmp_path / "n.safetensors", net, {"N": 4, "acc": [0.99, 1.0]})
    back = load_task_network(path, n_heads=3)
    x = torch.rand(2, 7, 1)
    torch.testing.assert_close(back(x), net(x))
    assert back.core.model.nonlinearity == "inside"
    assert checkpoint_extra(path) == {"N": 4, "acc": [0.99, 1.0]}
    with pytest.raises(ConfigError, match="3 head"):
        load_task_network(path, n_heads=5)


@pytest.mark.parametrize("kind, hidden", [("rnn", 8), ("leaky", 0), ("gru", -3)])
def test_bad_core_input(kind, hidden):
    with pytest.raises(AttractorError):
        build_core(kind, hidden)


# ---------------------------------------------------------------------------- emitter
def test_emitter_emits_one_hot_with_gradient():
    torch.manual_seed(0)
    net = NoiseDrivenRNN(hidden=8)
    y = net(5, 6, warmup=3, generator=torch.Generator().manual_seed(0))
    assert y.shape == (5, 6, 3)
    torch.testing.assert_close(y.detach().sum(-1), torch.ones(5, 6))
    assert set(y.detach().unique().tolist()) <= {0.0, 1.0}
    (y * torch.arange(3.0)).sum().backward()  # straight-through gradient reaches the weights
    assert net.W.grad is not None and net.W.grad.abs().sum() > 0
