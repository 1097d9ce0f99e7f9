"""One conformance suite for every registry model (and the memory-task cores), in the spirit of
scikit-learn's ``parametrize_with_checks``: each check is a function ``check(name, model, tmp)``
run on a small instance of every registry entry, so a new model is held to the same contract as
the shipped ones by adding nothing but its registry line (and a tiny size in :data:`TINY`).

The contract (``attractor.models.base``): shapes of step / jacobian / simulate / encode /
observe; the analytic Jacobian equals autograd; ``config()`` rebuilds an equal model; the
safetensors checkpoint of the run format round-trips; simulate is deterministic and equals the
step loop; declared capabilities are honoured (DirectFit fits and simulates without BPTT,
PiecewiseLinear's exact form matches step, StructuredJacobian's compact form matches the dense
Jacobian, MatrixFreeJVP matches ``J v``); input-driven models run as memory-task cores.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from attractor.analysis.piecewise import piecewise_linear_form
from attractor.errors import ConfigError
from attractor.models import (
    DirectFit,
    DynamicalModel,
    MatrixFreeJVP,
    PiecewiseLinear,
    Recipe,
    StructuredJacobian,
    create,
    from_config,
    get_entry,
    model_names,
    register,
    unregister,
)
from attractor.parallel.scan import to_dense
from attractor.runs.directory import load_checkpoint, save_checkpoint
from attractor.tasks.heads import (
    CORES,
    DynamicalCore,
    TaskNetwork,
    build_core,
    core_from_config,
    load_task_network,
    save_task_network,
)
from attractor.train.loop import TrainConfig, train
from conftest import lorenz

pytestmark = pytest.mark.usefixtures("one_thread")

#: Small settings of every registry entry (the conformance suite runs on these).
TINY: dict[str, dict] = {
    "shplrnn": {"latent_dim": 4, "hidden_dim": 9},
    "shplrnn-plain": {"latent_dim": 4, "hidden_dim": 9},
    "plrnn": {"latent_dim": 5},
    "parroting": {"context": 4},
    "alrnn": {"latent_dim": 6, "n_relu": 2},
    "alrnn-lsq": {"latent_dim": 6, "n_relu": 2, "restarts": 2, "iters": 40},
    "gru": {"latent_dim": 5},
    "lstm": {"latent_dim": 8},
    "diaggru": {"latent_dim": 5},
    "diaglstm": {"latent_dim": 8},
    "leaky": {"latent_dim": 6, "n_inputs": 0},
    "ssm": {"width": 4, "modes": 2, "layers": 2},
    "esn": {"reservoir": 12, "connectivity": 0.5, "washout": 20},
    "esn-rpy": {"reservoir": 12, "connectivity": 0.5, "washout": 20},
    "sindy": {"threshold": 0.05},
    "naive-last": {},
    "naive-mean": {},
}
OBS = 3
BATCH = 4


@functools.cache
def _data() -> np.ndarray:
    x = lorenz(800)
    return (x - x.mean(0)) / x.std(0)


def build(name: str, settings: dict | None = None, fit: bool = True, **over) -> DynamicalModel:
    """A small seeded instance of registry model ``name``; direct-fit models come fitted."""
    torch.manual_seed(0)
    model = create(name, OBS, **{**(TINY[name] if settings is None else settings), **over})
    if fit and isinstance(model, DirectFit):
        model.fit_direct([_data()])
    return model


@functools.cache
def _built(name: str) -> DynamicalModel:
    return build(name)


def _states(model: DynamicalModel, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randn(BATCH, model.latent_dim, generator=g, dtype=dtype)


def _autograd_jacobian(model: DynamicalModel, z: torch.Tensor, s=None) -> torch.Tensor:
    rows = []
    for i, zi in enumerate(z):
        si = None if s is None else s[i : i + 1]

        def f(v: torch.Tensor, si: torch.Tensor | None = si) -> torch.Tensor:
            return model.step(v[None], si)[0]

        rows.append(torch.autograd.functional.jacobian(f, zi))
    return torch.stack(rows)


# ---------------------------------------------------------------------------- the checks
def check_shapes(name: str, model: DynamicalModel, tmp: Path) -> None:
    n, m = model.obs_dim, model.latent_dim
    z = _states(model)
    x = torch.randn(BATCH, n)
    assert model.step(z).shape == (BATCH, m)
    assert model.jacobian(z).shape == (BATCH, m, m)
    assert model.encode(x).shape == (BATCH, m)
    assert model.observe(z).shape == (BATCH, n)
    torch.testing.assert_close(model.observe(model.encode(x)), x)  # identity readout
    traj = model.simulate(x, 7)
    assert traj.shape == (BATCH, 7, n)
    torch.testing.assert_close(traj[:, 0], x)  # the first point is the start state
    assert model.simulate(x[0], 5).shape == (5, n)
    assert model.simulate(z0=z, steps=4, return_latent=True).shape == (BATCH, 4, m)
    settings = {k: v for k, v in model.config().items() if k != "obs_dim"}
    assert model.min_latent_dim(n, **settings) <= m


def check_registry_entry(name: str, model: DynamicalModel, tmp: Path) -> None:
    """``model.kind`` names its own class in the registry (checkpoints rely on it), and the
    entry carries a recipe whose settings the class accepts."""
    entry = get_entry(name)
    assert type(model) is entry.cls is get_entry(model.kind).cls
    assert isinstance(entry.recipe, Recipe) and entry.summary
    torch.manual_seed(0)
    kw = {**entry.recipe.model, **{k: v for k, v in TINY[name].items() if k in entry.recipe.model}}
    create(name, OBS, **kw)  # the recipe's model settings build a model


def check_jacobian_matches_autograd(name: str, model: DynamicalModel, tmp: Path) -> None:
    model = copy.deepcopy(model).double()
    z = 1.5 * _states(model, torch.float64)
    torch.testing.assert_close(model.jacobian(z), _autograd_jacobian(model, z))


def check_compact_jacobian(name: str, model: DynamicalModel, tmp: Path) -> None:
    """``jacobian_compact`` has its structure's layout and expands to ``jacobian``;
    ``step_and_jacobian`` equals the two separate calls."""
    model = copy.deepcopy(model).double()
    z = _states(model, torch.float64)
    m, structure = model.latent_dim, model.jacobian_structure
    assert isinstance(model, StructuredJacobian) == (structure != "dense")
    compact = model.jacobian_compact(z)
    shape = {"dense": (BATCH, m, m), "diagonal": (BATCH, m), "block": (BATCH, 2, 2, m // 2)}
    assert compact.shape == shape[structure]
    torch.testing.assert_close(to_dense(compact, structure), model.jacobian(z))
    value, jac = model.step_and_jacobian(z)
    torch.testing.assert_close(value, model.step(z))
    torch.testing.assert_close(jac, compact)
    if isinstance(model, StructuredJacobian) and model.jacobian_out:
        buf = torch.empty_like(compact)
        with torch.no_grad():
            model.step_and_jacobian(z, out=buf)
        torch.testing.assert_close(buf, compact)


def check_param_vjp(name: str, model: DynamicalModel, tmp: Path) -> None:
    """``param_vjp`` (hand-written or the base's) equals autograd through one step."""
    model = copy.deepcopy(model).double()
    z = _states(model, torch.float64)
    g = torch.randn(BATCH, model.latent_dim, dtype=torch.float64)
    got = model.param_vjp(z, None, g)
    named = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
    out = (model.step(z) * g).sum()
    grads = (
        torch.autograd.grad(out, [p for _, p in named], allow_unused=True)
        if named and out.requires_grad  # F uses no trainable parameter: nothing to compare
        else [None] * len(named)
    )
    want = {k: gp for (k, _), gp in zip(named, grads, strict=True) if gp is not None}
    assert set(got) == set(want)
    for k in want:
        torch.testing.assert_close(got[k], want[k])


def check_config_rebuilds(name: str, model: DynamicalModel, tmp: Path) -> None:
    cfg = model.config()
    assert json.loads(json.dumps(cfg)) == cfg  # JSON-able, as config.json stores it
    clone = from_config(name, cfg)
    assert type(clone) is type(model) and clone.config() == cfg
    clone.load_state_dict(model.state_dict())
    z = _states(model)
    assert torch.equal(clone.step(z), model.step(z))


def check_checkpoint_round_trip(name: str, model: DynamicalModel, tmp: Path) -> None:
    """The run format's safetensors checkpoint rebuilds the same map (no code executed)."""
    path = save_checkpoint(tmp / f"{name}.safetensors", model)
    back = load_checkpoint(path)
    assert type(back) is type(model)
    x0 = torch.as_tensor(_data()[:BATCH], dtype=torch.float32)
    assert torch.equal(back.simulate(x0, 10), model.simulate(x0, 10))


def check_simulate_is_deterministic(name: str, model: DynamicalModel, tmp: Path) -> None:
    """Two free runs agree bit for bit and equal the step loop from ``encode(x0)``."""
    x0 = torch.as_tensor(_data()[:BATCH], dtype=torch.float32)
    first = model.simulate(x0, 12)
    assert torch.equal(first, model.simulate(x0, 12))
    with torch.no_grad():
        z, rows = model.encode(x0), []
        for t in range(12):
            if t:
                z = model.step(z)
            rows.append(model.observe(z))
    assert torch.equal(first, torch.stack(rows, 1))


def check_direct_fit(name: str, model: DynamicalModel, tmp: Path) -> None:
    """DirectFit: the trainer fits it in closed form (no gradient ever reaches a parameter) and
    it then simulates; every other model has parameters for BPTT to train."""
    if not isinstance(model, DirectFit):
        assert any(p.requires_grad for p in model.parameters())
        return
    fresh = build(name, fit=False)
    res = train(fresh, [_data()], None, config=TrainConfig(epochs=1))
    assert len(res.history) == 1 and res.best_epoch == 1
    assert all(p.grad is None for p in fresh.parameters())
    x0 = torch.as_tensor(_data()[:BATCH], dtype=torch.float32)
    assert torch.isfinite(fresh.simulate(x0, 20)).all()
    assert isinstance(fresh.direct_candidates(), tuple) and fresh.validation_factor >= 1


def check_piecewise_form(name: str, model: DynamicalModel, tmp: Path) -> None:
    """PiecewiseLinear: the exact form's step and Jacobian equal the model's (float64); a
    smooth model has no form."""
    if not isinstance(model, PiecewiseLinear):
        with pytest.raises(ConfigError, match="not piecewise linear"):
            piecewise_linear_form(model)
        return
    model = copy.deepcopy(model).double()
    form = piecewise_linear_form(model)
    z = 2.0 * _states(model, torch.float64)
    assert form.latent_dim == model.latent_dim
    with torch.no_grad():
        step, jac = model.step(z).numpy(), model.jacobian(z).numpy()
    np.testing.assert_allclose(form.step(z.numpy()), step, atol=1e-12)
    np.testing.assert_allclose(form.jacobian(z.numpy()), jac, atol=1e-12)


def check_jvp(name: str, model: DynamicalModel, tmp: Path) -> None:
    """MatrixFreeJVP: ``jvp(z, v) = J(z) v`` row by row."""
    if not isinstance(model, MatrixFreeJVP):
        return
    model = copy.deepcopy(model).double()
    z = _states(model, torch.float64)
    v = torch.randn(BATCH, model.latent_dim, dtype=torch.float64)
    want = (model.jacobian(z) @ v[..., None])[..., 0]
    torch.testing.assert_close(model.jvp(z, v), want)


def check_driven(name: str, model: DynamicalModel, tmp: Path) -> None:
    """With external inputs (the memory-task core contract): ``run`` equals the step loop,
    ``step``/``jacobian`` take ``s``, and :class:`DynamicalCore` returns ``run``'s states."""
    if isinstance(model, DirectFit):
        return  # fitted in closed form: not a task core
    driven = build(name, n_inputs=2).double()
    s = torch.randn(BATCH, 6, 2, dtype=torch.float64)
    states = driven.run(s)
    assert states.shape == (BATCH, 6, driven.latent_dim)
    torch.testing.assert_close(states, DynamicalModel.run(driven, s))
    z = _states(driven, torch.float64)
    assert driven.step(z, s[:, 0]).shape == z.shape
    torch.testing.assert_close(driven.jacobian(z, s[:, 0]), _autograd_jacobian(driven, z, s[:, 0]))
    core = DynamicalCore(driven, name)
    torch.testing.assert_close(core(s), states)
    assert core.kind == name and core.config() == driven.config()


CHECKS: list[Callable[[str, DynamicalModel, Path], None]] = [
    check_shapes,
    check_registry_entry,
    check_jacobian_matches_autograd,
    check_compact_jacobian,
    check_param_vjp,
    check_config_rebuilds,
    check_checkpoint_round_trip,
    check_simulate_is_deterministic,
    check_direct_fit,
    check_piecewise_form,
    check_jvp,
    check_driven,
]


def test_every_registry_entry_has_tiny_settings():
    assert sorted(TINY) == model_names()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("name", model_names())
def test_conformance(name, check, tmp_path):
    check(name, copy.deepcopy(_built(name)), tmp_path)


# ---------------------------------------------------------------------------- task cores
@pytest.mark.parametrize("kind", CORES)
def test_task_cores_honour_the_core_contract(kind, tmp_path):
    """Every memory-task core: states for an input sequence, a post-step constraint, optional
    timescales, and a checkpoint that rebuilds it (the names saved by earlier versions)."""
    torch.manual_seed(0)
    core = build_core(kind, 6)
    x = torch.rand(3, 5, 1)
    h = core(x)
    assert h.shape == (3, 5, 6) and core.kind == kind and core.hidden_size == 6
    core.constrain()
    tau = core.timescales()
    assert tau is None or tau.shape == (6,)
    clone = core_from_config(kind, json.loads(json.dumps(core.config())))
    clone.load_state_dict(core.state_dict())
    torch.testing.assert_close(clone(x), h)
    net = TaskNetwork(core, 2)
    back = load_task_network(save_task_network(tmp_path / "net.safetensors", net), 2)
    torch.testing.assert_close(back(x), net(x))


def test_task_core_state_names_are_those_of_earlier_checkpoints():
    """Checkpoints written before the registry-built cores still load: same parameter names."""
    torch.manual_seed(0)
    leaky = TaskNetwork(build_core("leaky", 4), 1).state_dict()
    gru = TaskNetwork(build_core("gru", 4), 1).state_dict()
    model_keys = [f"core.model.{k}" for k in ("L", "C", "W", "b", "tau", "offdiag")]
    assert sorted(leaky) == sorted([*model_keys, "heads.0.weight", "heads.0.bias"])
    assert {k for k in gru if k.startswith("core.")} == {
        f"core.rnn.{w}_{kind}_l0" for w in ("weight", "bias") for kind in ("ih", "hh")
    }


def test_any_gradient_trained_registry_model_can_be_a_task_core():
    torch.manual_seed(0)
    core = build_core("diaggru", 5)
    assert core.kind == "diaggru" and core(torch.rand(2, 4, 1)).shape == (2, 4, 5)
    with pytest.raises(ConfigError, match="closed form"):
        build_core("esn", 5)


# ---------------------------------------------------------------------------- a new model
class Toy(DynamicalModel):
    """A user's model in one class: ``z' = tanh(W z + b) + C s``."""

    kind = "toy"

    def __init__(self, obs_dim: int, latent_dim: int = 4, n_inputs: int = 0) -> None:
        super().__init__(obs_dim, latent_dim, n_inputs)
        self.W = nn.Parameter(
            0.9 * torch.eye(latent_dim) + 0.1 * torch.randn(latent_dim, latent_dim)
        )
        self.b = nn.Parameter(torch.zeros(latent_dim))

    def step(self, z: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        return torch.tanh(z @ self.W.T + self.b) + self.input_term(s)


@pytest.fixture
def toy_registered():
    entry = register("toy", Toy, "toy tanh RNN", recipe=Recipe(forcing="gtf", alpha=0.3))
    TINY["toy"] = {}
    try:
        yield entry
    finally:
        unregister("toy")
        del TINY["toy"]


def test_a_new_model_is_one_class_plus_one_registry_line(toy_registered, tmp_path):
    """Registering a toy model gives it the whole contract and ``attractor.fit``."""
    import attractor

    assert toy_registered.cls is Toy and "toy" in model_names()
    for check in CHECKS:
        check("toy", build("toy"), tmp_path)
    t = np.linspace(0, 40, 2000)
    x = np.stack([np.sin(t), np.cos(t)], 1)
    run = attractor.fit(
        x,
        model="toy",
        epochs=1,
        out=None,
        figures=False,
        train_config={"steps_per_epoch": 5, "seq_len": 20},
    )
    assert run.config["model"]["kind"] == "toy" and isinstance(run.model, Toy)
    assert run.config["forcing"]["spec"] == "gtf"  # the recipe of the registry entry
    assert len(run.history) == 1 and "D_stsp" in run.metrics


def test_register_refuses_what_is_not_a_model():
    with pytest.raises(ConfigError, match="not a DynamicalModel"):
        register("bad", nn.Linear)
    with pytest.raises(ConfigError, match="recipe"):
        register("bad", Toy, recipe={"forcing": "gtf"})  # type: ignore[arg-type]
    assert "bad" not in model_names()
