"""Context parroting: the library replays the training data, stays on a periodic orbit, has the
exact shift Jacobian, survives checkpoints, and refuses bad data and settings clearly."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.errors import ConfigError, DataError, RunError
from attractor.io import read_safetensors, write_safetensors
from attractor.metrics.lyapunov import lyapunov_spectrum
from attractor.metrics.protocol import evaluate
from attractor.models import create, from_config, get_entry
from attractor.models.parroting import CONTEXT, ContextParroting
from attractor.runs.directory import load_checkpoint, save_checkpoint
from conftest import lorenz

pytestmark = pytest.mark.usefixtures("one_thread")

PERIOD = 50


def delay_vector(x: np.ndarray, t: int, d: int) -> np.ndarray:
    """``[x_t; x_{t−1}; …; x_{t−d+1}]`` written out by hand (not the model's code)."""
    return np.concatenate([x[t - j] for j in range(d)])


def circle(n_periods: int = 10, period: int = PERIOD) -> np.ndarray:
    t = np.arange(n_periods * period)
    return np.stack([np.cos(2 * np.pi * t / period), np.sin(2 * np.pi * t / period)], 1)


def fitted(trials, context: int = 4, dtype=torch.float64) -> ContextParroting:
    model = ContextParroting(np.asarray(trials[0]).shape[1], context=context).to(dtype)
    model.fit_direct(trials)
    return model


@pytest.fixture(scope="module")
def lorenz_std() -> np.ndarray:
    x = lorenz(1500)
    return (x - x.mean(0)) / x.std(0)


# ---------------------------------------------------------------------------- construction
def test_registry_entry_builds_the_default_context():
    entry = get_entry("parroting")
    assert entry.cls is ContextParroting and "nearest match" in entry.summary
    model = create("parroting", 3)
    assert model.context == CONTEXT and model.latent_dim == 3 * CONTEXT
    assert model.n_parameters() == 0  # the library is data, not trainable parameters
    assert model.min_latent_dim(3) == 3 * CONTEXT
    assert model.min_latent_dim(3, context=5) == 15


def test_latent_size_sets_the_context_and_must_agree_with_it():
    assert create("parroting", 3, latent_dim=12).context == 4  # --latent M means context M/N
    assert create("parroting", 3, latent_dim=12, context=4).latent_dim == 12
    with pytest.raises(ConfigError, match=r"obs_dim × context = 3 × 5 = 15; got latent=12"):
        create("parroting", 3, latent_dim=12, context=5)
    with pytest.raises(ConfigError, match="multiple of the 3 observed"):
        create("parroting", 3, latent_dim=10)
    with pytest.raises(ConfigError, match="multiple of the 3 observed"):
        create("parroting", 3, latent_dim=2)


@pytest.mark.parametrize("context", [0, -2, 2.5, math.nan, math.inf, True, "8"])
def test_bad_context_is_a_config_error(context):
    with pytest.raises(ConfigError, match="context must be a whole number"):
        ContextParroting(2, context=context)


def test_external_inputs_are_refused():
    with pytest.raises(ConfigError, match="takes no external inputs"):
        create("parroting", 2, n_inputs=1)


def test_config_round_trips_through_the_registry():
    model = create("parroting", 2, context=3)
    cfg = model.config()
    assert cfg == {"obs_dim": 2, "context": 3, "n_inputs": 0}
    clone = from_config("parroting", cfg)
    assert clone.config() == cfg and clone.latent_dim == 6


# ---------------------------------------------------------------------------- the map
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3),
    d=st.integers(1, 5),
    extra=st.integers(1, 40),
    seed=st.integers(0, 10_000),
)
def test_a_training_window_steps_to_its_training_successor(n, d, extra, seed):
    """Exact training windows (all of them, one batch) map to exactly their successors, and the
    rest of the state is the shifted window."""
    x = np.random.default_rng(seed).normal(size=(d + extra, n))
    model = fitted([x], context=d)
    assert model.library_size == extra  # windows t = d−1 … T−2 have a successor
    ts = range(d - 1, x.shape[0] - 1)
    z = torch.as_tensor(np.stack([delay_vector(x, t, d) for t in ts]))
    out = model.step(z).numpy()
    np.testing.assert_array_equal(out, np.stack([delay_vector(x, t + 1, d) for t in ts]))


def test_a_free_run_started_inside_the_training_data_replays_it(lorenz_std):
    x, d = lorenz_std, 6
    model = fitted([x], context=d, dtype=torch.float32)
    t0 = 100
    z0 = torch.as_tensor(delay_vector(x, t0, d), dtype=torch.float32)
    run = model.simulate(z0=z0, steps=x.shape[0] - t0).numpy()
    np.testing.assert_array_equal(run, x[t0:].astype(np.float32))


def test_windows_never_straddle_two_trajectories():
    rng = np.random.default_rng(0)
    a, b, short = rng.normal(size=(30, 2)), rng.normal(size=(20, 2)), rng.normal(size=(4, 2))
    model = fitted([a, short, b], context=4)  # the short one has no window with a successor
    assert model.library_size == (30 - 4) + (20 - 4)
    junction = np.concatenate([a[-2:], b[:2]])[::-1].reshape(-1)  # newest first
    assert not (model.windows.numpy() == junction).all(axis=1).any()


@settings(max_examples=15, deadline=None)
@given(phase=st.floats(0.0, 2 * np.pi), d=st.integers(1, 6))
def test_a_free_run_on_a_periodic_signal_stays_on_the_cycle(phase, d):
    """From ``encode(x0)`` at any phase: every later point is a training sample (on the unit
    circle, inside the training range), the phase advances one sample per step and the run
    repeats with the training period."""
    x = circle()
    model = fitted([x], context=d)
    x0 = torch.tensor([np.cos(phase), np.sin(phase)], dtype=torch.float64)
    run = model.simulate(x0, 6 * PERIOD).numpy()
    gen = run[1:]
    dist = np.abs(gen[:, None, :] - x[None, :PERIOD, :]).max(-1).min(-1)
    assert dist.max() < 1e-9  # each point is one of the training samples
    assert np.abs(gen).max() <= np.abs(x).max() + 1e-12
    steps = np.angle(np.exp(1j * np.diff(np.arctan2(gen[:, 1], gen[:, 0]))))
    np.testing.assert_allclose(steps[d:], 2 * np.pi / PERIOD, atol=1e-9)
    np.testing.assert_allclose(gen[d + PERIOD :], gen[d:-PERIOD], atol=1e-9)


def test_encode_puts_the_observation_in_front_of_the_nearest_window():
    x = circle()
    model = fitted([x], context=3)
    x0 = x[17] + 1e-3
    z = model.encode(torch.as_tensor(x0)).numpy()
    np.testing.assert_array_equal(z[:2], x0)
    np.testing.assert_allclose(z[2:], np.concatenate([x[16], x[15]]), atol=1e-12)
    batch = torch.as_tensor(np.stack([x[20:23], x[30:33]]))  # (2, 3, N): any leading shape
    assert model.encode(batch).shape == (2, 3, 6)


def test_non_finite_states_give_nan_not_an_error():
    model = fitted([circle()], context=2)
    z = torch.tensor([[1.0, 0.0, 1.0, 0.0], [math.nan, 0.0, 1.0, 0.0]], dtype=torch.float64)
    out = model.step(z)
    assert torch.isfinite(out[0]).all() and torch.isnan(out[1, :2]).all()


# ---------------------------------------------------------------------------- the Jacobian
@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 3), d=st.integers(1, 5), b=st.integers(1, 4), seed=st.integers(0, 999))
def test_jacobian_is_the_shift_with_a_zero_top_block(n, d, b, seed):
    rng = np.random.default_rng(seed)
    model = fitted([rng.normal(size=(d + 10, n))], context=d)
    z = torch.as_tensor(3 * rng.normal(size=(b, n * d)))
    jac = model.jacobian(z)
    assert jac.shape == (b, n * d, n * d) and jac.dtype == z.dtype
    expected = np.eye(n * d, k=-n)  # J[N + i, i] = 1: the window moves down one sample
    np.testing.assert_array_equal(jac.numpy(), np.broadcast_to(expected, jac.shape))
    assert not jac[:, :n].any()  # the copied successor does not move with z
    assert model.norm_bound() == (1.0 if d > 1 else 0.0)


def test_jvp_is_the_shift_without_the_matrix():
    """``jvp`` (the Lyapunov tangent path of large latent states) equals ``J v``, and the
    tangent path (``M = 64``, 4 exponents) also gives −inf."""
    rng = np.random.default_rng(3)
    model = fitted([rng.normal(size=(200, 8))], context=8)
    z, v = torch.as_tensor(rng.normal(size=(5, 64))), torch.as_tensor(rng.normal(size=(5, 64)))
    torch.testing.assert_close(model.jvp(z, v), (model.jacobian(z) @ v[..., None])[..., 0])
    res = lyapunov_spectrum(model, z0=z[0], n_steps=100, n_transient=10, k=4)
    assert np.all(res.exponents == -np.inf)


def test_jacobian_predicts_small_moves_inside_a_voronoi_cell(lorenz_std):
    """Within a training window's cell, ``F(z + δ) − F(z) = J δ`` exactly (piecewise affine)."""
    model = fitted([lorenz_std], context=4)
    z = torch.as_tensor(np.stack([delay_vector(lorenz_std, t, 4) for t in (50, 400, 900)]))
    delta = 1e-7 * torch.randn(z.shape, generator=torch.Generator().manual_seed(0), dtype=z.dtype)
    moved = model.step(z + delta) - model.step(z)
    torch.testing.assert_close(moved, (model.jacobian(z) @ delta[..., None])[..., 0])


def test_lyapunov_exponents_are_minus_infinity_and_evaluate_reports_them(lorenz_std):
    """A nilpotent Jacobian: the QR method gives −inf (log 0), the Kaplan–Yorke dimension is 0,
    and the evaluation protocol scores the free run as usual without raising."""
    model = fitted([lorenz_std[:1000]], context=3, dtype=torch.float32)
    res = lyapunov_spectrum(model, x0=lorenz_std[1000], n_steps=300, n_transient=50)
    assert np.all(res.exponents == -np.inf) and res.kaplan_yorke_dimension == 0.0
    out = evaluate(model, lorenz_std[1000:], dt=0.01, lyapunov_steps=200)
    assert out["lambda_max"] == -math.inf and out["kaplan_yorke_dimension"] == 0.0
    assert not out["diverged"] and math.isfinite(out["D_stsp"]) and math.isfinite(out["D_H"])
    assert math.isfinite(out["PE(20)"])


# ---------------------------------------------------------------------------- checkpoints
def test_safetensors_round_trip_gives_identical_free_runs(tmp_path, lorenz_std):
    model = fitted([lorenz_std], context=5, dtype=torch.float32)
    write_safetensors(tmp_path / "m.safetensors", model.state_dict())
    state, _ = read_safetensors(tmp_path / "m.safetensors")
    clone = from_config("parroting", model.config())  # empty library, resized on load
    clone.load_state_dict(state)
    assert clone.library_size == model.library_size
    x0 = torch.as_tensor(lorenz_std[[3, 333, 777]], dtype=torch.float32)
    assert torch.equal(clone.simulate(x0, 300), model.simulate(x0, 300))
    back = load_checkpoint(save_checkpoint(tmp_path / "run.safetensors", model))
    assert torch.equal(back.simulate(x0, 300), model.simulate(x0, 300))


@pytest.mark.parametrize("other_period", [25, 40])  # another size; the same size (in place)
def test_loading_another_library_replaces_the_old_one_and_its_search_tree(other_period):
    a, b = circle(period=40), 2 * circle(period=other_period)
    model, other = fitted([a], context=2), fitted([b], context=2)
    x0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    model.simulate(x0, 5)  # builds the KD-tree of the first library
    model.load_state_dict(other.state_dict())
    assert model.library_size == other.library_size
    assert torch.equal(model.simulate(x0, 60), other.simulate(x0, 60))


def test_copies_and_dtype_changes_keep_the_map():
    model = fitted([circle()], context=3, dtype=torch.float32)
    x0 = torch.tensor([0.3, 0.9])
    want = model.simulate(x0, 80)
    assert torch.equal(copy.deepcopy(model).simulate(x0, 80), want)
    torch.testing.assert_close(model.double().simulate(x0.double(), 80).float(), want)


def test_a_checkpoint_of_another_context_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", fitted([circle()], context=3))
    with pytest.raises(RunError, match="size mismatch"):
        load_checkpoint(path, "parroting", {"obs_dim": 2, "context": 4, "n_inputs": 0})


def test_a_library_with_mismatched_rows_is_refused():
    state = fitted([circle()], context=2).state_dict()
    state["successors"] = state["successors"][:-1]
    with pytest.raises(RuntimeError, match="one successor per window"):
        ContextParroting(2, context=2).load_state_dict(state)


# ---------------------------------------------------------------------------- bad input
def test_wrong_channel_count_is_a_data_error():
    model = ContextParroting(3, context=2)
    with pytest.raises(DataError, match=r"observes 3 channel\(s\)"):
        model.fit_direct([np.zeros((50, 2))])
    with pytest.raises(DataError, match=r"observes 3 channel\(s\)"):
        model.fit_direct([np.zeros(50)])


def test_too_short_data_for_the_context_is_a_data_error():
    model = ContextParroting(2, context=8)
    with pytest.raises(DataError, match=r"shorter than context \+ 1 = 9 samples"):
        model.fit_direct([np.zeros((8, 2)), np.zeros((5, 2))])


def test_non_finite_training_data_is_a_data_error():
    x = circle()
    x[7, 1] = np.nan
    with pytest.raises(DataError, match="NaN or infinite"):
        ContextParroting(2, context=2).fit_direct([x])


def test_stepping_before_fitting_or_with_the_wrong_width_is_refused():
    model = ContextParroting(2, context=3)
    with pytest.raises(ConfigError, match="empty library; fit it first"):
        model.step(torch.zeros(1, 6))
    model.fit_direct([circle()])
    with pytest.raises(DataError, match="needs 6 entries"):
        model.step(torch.zeros(1, 4, dtype=torch.float32))
    with pytest.raises(DataError, match="needs 2 entries"):
        model.encode(torch.zeros(3, 3))
