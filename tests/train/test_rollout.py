"""The forced rollout: adjoint backward == autograd, and the forcing limits (α = 1, α = 0)."""

from __future__ import annotations

import pytest
import torch

from attractor.models import create
from attractor.train.forcing import SparseForcing
from attractor.train.rollout import forced_rollout

MODELS = [
    ("shplrnn", {"latent_dim": 5, "hidden_dim": 12}),
    ("shplrnn-plain", {"latent_dim": 4, "hidden_dim": 8}),
    ("plrnn", {"latent_dim": 6}),
    ("alrnn", {"latent_dim": 7, "n_relu": 3}),
]


def _loss_and_grads(model, x, alpha, mode, s=None):
    pred = forced_rollout(model, x, alpha, s=s, mode=mode)
    loss = ((model.observe(pred) - x[:, 1:]) ** 2).sum() + (pred**2).sum() * 0.01
    grads = torch.autograd.grad(loss, [p for p in model.parameters() if p.requires_grad])
    return pred.detach(), grads


@pytest.mark.parametrize(("name", "kw"), MODELS)
@pytest.mark.parametrize("alpha_kind", ["scalar", "per-step", "sparse"])
def test_adjoint_matches_autograd(name, kw, alpha_kind):
    torch.manual_seed(0)
    model = create(name, 3, **kw).double()
    x = torch.randn(4, 31, 3, dtype=torch.float64)
    alpha = {
        "scalar": 0.3,
        "per-step": torch.rand(30, dtype=torch.float64),
        "sparse": SparseForcing(7).alphas(30).double(),
    }[alpha_kind]
    p1, g1 = _loss_and_grads(model, x, alpha, "autograd")
    p2, g2 = _loss_and_grads(model, x, alpha, "adjoint")
    torch.testing.assert_close(p1, p2, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, g2, strict=False):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


def test_adjoint_with_external_inputs():
    torch.manual_seed(1)
    model = create("alrnn", 2, latent_dim=5, n_relu=2, n_inputs=2).double()
    with torch.no_grad():
        model.C.normal_()
    x = torch.randn(3, 21, 2, dtype=torch.float64)
    s = torch.randn(3, 20, 2, dtype=torch.float64)
    p1, g1 = _loss_and_grads(model, x, 0.2, "autograd", s=s)
    p2, g2 = _loss_and_grads(model, x, 0.2, "adjoint", s=s)
    torch.testing.assert_close(p1, p2)
    for a, b in zip(g1, g2, strict=False):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


def test_alpha_one_is_one_step_prediction():
    """With α = 1 every prediction starts from the data: ẑ_t = F([x_{t−1}, model part])."""
    torch.manual_seed(2)
    model = create("shplrnn", 3, latent_dim=3, hidden_dim=10).double()
    x = torch.randn(2, 16, 3, dtype=torch.float64)
    pred = forced_rollout(model, x, 1.0)
    one_step = model.step(x[:, :-1].reshape(-1, 3)).reshape(2, 15, 3)
    torch.testing.assert_close(pred, one_step.detach())


def test_alpha_zero_is_free_run():
    torch.manual_seed(3)
    model = create("alrnn", 3, latent_dim=6, n_relu=2).double()
    x = torch.randn(2, 26, 3, dtype=torch.float64)
    pred = forced_rollout(model, x, 0.0)
    free = model.simulate(x[:, 0], 26, return_latent=True)[:, 1:]
    torch.testing.assert_close(pred, free)


def test_sparse_forcing_cuts_gradient_through_observed_units():
    """With STF (fully observed model) prediction 5 after forcing at 4 is exactly F(x_4):
    its parameter gradient must not see anything that happened before the forcing point."""
    torch.manual_seed(4)
    model = create("plrnn", 2, latent_dim=2).double()
    x = torch.randn(1, 9, 2, dtype=torch.float64)
    alpha = SparseForcing(4).alphas(8).double()  # forced after predictions 4 and 8
    params = list(model.parameters())
    for mode in ("adjoint", "autograd"):
        pred = forced_rollout(model, x, alpha, mode=mode)
        g_roll = torch.autograd.grad(pred[0, 4].sum(), params, allow_unused=True)
        g_step = torch.autograd.grad(model.step(x[:, 4]).sum(), params, allow_unused=True)
        for a, b in zip(g_roll, g_step, strict=False):
            if b is None:
                assert a is None or torch.all(a == 0)
            else:
                torch.testing.assert_close(a, b)
