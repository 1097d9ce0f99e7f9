"""The hinge-regression AL-RNN: exact embedding, recovery of a known PWA map, restart selection."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.errors import ConfigError
from attractor.metrics.protocol import validate
from attractor.models import create, from_config
from attractor.models.alrnn_lsq import HingeALRNN, HingeMap, fit_hinge_map, smooth_series
from attractor.train.loop import TrainConfig, train
from attractor.train.recipes import build_model
from conftest import lorenz


def random_hinge_map(n: int, p: int, seed: int) -> HingeMap:
    gen = torch.Generator().manual_seed(seed)
    hm = HingeMap(n, p, gen)
    with torch.no_grad():
        for prm in (hm.theta, hm.b, hm.w, hm.c):
            prm.copy_(0.3 * torch.randn(prm.shape, dtype=prm.dtype, generator=gen))
    return hm


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 4),
    p=st.integers(1, 4),
    extra=st.integers(0, 3),
    seed=st.integers(0, 10_000),
)
def test_alrnn_embedding_reproduces_the_hinge_map_step_by_step(n, p, extra, seed):
    hm = random_hinge_map(n, p, seed)
    model = HingeALRNN(n, latent_dim=n + p + extra, n_relu=p).double()
    for name, value in model._embed(hm).items():
        getattr(model, name).data.copy_(value)
    x = torch.randn(7, n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    z = model.encode(x)
    expected = x
    for _ in range(3):  # the hinge units must carry a_i·x + b_i from step to step
        z = model.step(z)
        with torch.no_grad():
            expected = hm(expected)
        torch.testing.assert_close(model.observe(z), expected)


def test_hinge_regression_recovers_a_known_pwa_map():
    true = random_hinge_map(2, 1, seed=3)
    gen = torch.Generator().manual_seed(0)
    x = 2 * torch.rand(4096, 2, dtype=torch.float64, generator=gen) - 1
    with torch.no_grad():
        true.b.copy_(torch.tensor([0.1], dtype=torch.float64))  # hinge through the sampled box
        y = true(x)
    fitted, mse = fit_hinge_map((x, y), n_hinges=1, seed=1, iters=2000)
    assert mse < 1e-6
    fresh = 2 * torch.rand(1000, 2, dtype=torch.float64, generator=gen) - 1
    with torch.no_grad():
        assert float((fitted(fresh) - true(fresh)).abs().max()) < 1e-2


def test_smoothing_keeps_a_cubic_and_leaves_short_series_alone():
    t = np.linspace(0, 1, 101)[:, None]
    cubic = 1 + t - 2 * t**2 + t**3
    np.testing.assert_allclose(smooth_series(cubic, 11), cubic, atol=1e-12)
    short = np.arange(6.0)[:, None]
    np.testing.assert_array_equal(smooth_series(short, 11), short)
    np.testing.assert_array_equal(smooth_series(cubic, 0), cubic)


def test_direct_fit_validates_every_restart_and_keeps_the_best():
    x = lorenz(n=3000, dt=0.01)
    x = (x - x.mean(0)) / x.std(0)
    model = create("alrnn-lsq", 3, latent_dim=8, n_relu=3, restarts=3, seed=5, iters=600)
    cfg = TrainConfig(val_trajectories=2, val_length=300)
    result = train(model, [x[:2000]], [x[2000:]], config=cfg, validator=validate)
    rows = result.history
    assert [r["restart"] for r in rows] == [0, 1, 2]
    scores = [r["D_stsp"] for r in rows]
    assert result.best_epoch == 1 + int(np.argmin(scores))
    assert result.best_metrics["restart"] == result.best_epoch - 1
    kept = {k: v.clone() for k, v in model.state_dict().items()}
    model.use_candidate(result.best_epoch - 1)  # the restart's own parameters are the kept ones
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, kept[k])
    assert len(model.fit_mse) == 3 and max(model.fit_mse) < 1e-2


def test_config_round_trip_keeps_the_start_bias():
    model = create("alrnn-lsq", 3, latent_dim=8, n_relu=2, seed=1)
    with torch.no_grad():
        model.l0.copy_(torch.arange(5.0))
    clone = from_config("alrnn-lsq", model.config())
    clone.load_state_dict(model.state_dict())
    x = torch.randn(4, 3)
    torch.testing.assert_close(clone.encode(x), model.encode(x))
    assert clone.encode(x)[:, 3:].sub(x @ clone.L.T).allclose(torch.arange(5.0).expand(4, 5))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"latent_dim": 4, "n_relu": 2}, "latent_dim"),
        ({"latent_dim": 8, "n_relu": 0}, "hinge"),
        ({"latent_dim": 8, "n_relu": 2, "restarts": 0}, "restarts"),
        ({"latent_dim": 8, "n_relu": 2, "n_inputs": 1}, "inputs"),
    ],
)
def test_bad_settings_get_a_clear_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        create("alrnn-lsq", 3, **kwargs)


def test_fit_sizes_the_latent_for_the_hinges_unless_told():
    assert build_model("alrnn-lsq", 3, None, None, None, 0).latent_dim == 20  # recipe: M = 20
    assert build_model("alrnn-lsq", 3, None, None, 19, 0).latent_dim == 22  # N + P
    assert build_model("alrnn-lsq", 7, None, None, None, 0).latent_dim == 23
    assert build_model("alrnn", 3, None, None, 19, 0).latent_dim == 20  # plain AL-RNN unchanged
    with pytest.raises(ConfigError, match="latent_dim"):
        build_model("alrnn-lsq", 3, 10, None, 19, 0)
