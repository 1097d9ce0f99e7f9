"""Curricula advance exactly at the threshold; a tiny real training learns 2-parity;
robustness utilities do what their equations say."""

from __future__ import annotations

import pytest
import torch

from attractor.errors import AttractorError, ConfigError, UnknownNameError
from attractor.tasks.curricula import (
    TaskTrainConfig,
    evaluate_accuracy,
    heads_needed,
    make_curriculum,
    train_curriculum,
)
from attractor.tasks.heads import TaskNetwork, build_core
from attractor.tasks.robustness import (
    ablate,
    perturb_tau,
    perturb_weights,
    relative_accuracy,
    robustness,
)

JUST_ABOVE = 0.98 + 1e-9


def test_single_head_advances_only_strictly_above_threshold():
    c = make_curriculum("single", 2, 5)
    assert c.ns == [2]
    assert c.update([0.98]) is None and c.ns == [2]  # exactly at θ: stay
    assert c.update([JUST_ABOVE]) == 2 and c.ns == [3] and c.reached == 2
    assert c.update([0.5]) is None and c.ns == [3]
    for n in (3, 4):
        assert c.update([1.0]) == n
    assert not c.done and c.ns == [5]
    assert c.update([0.99]) == 5 and c.done and c.reached == 5
    assert c.update([1.0]) is None  # nothing after max N


def test_multi_head_needs_mean_and_newest_above_threshold():
    c = make_curriculum("multi", 3, 10)
    assert c.ns == [2, 3] and c.n_max == 3
    assert c.update([1.0, 0.98]) is None  # newest exactly at θ
    assert c.update([0.96, 0.999]) is None  # mean 0.9795 ≤ θ
    assert c.update([0.98, 0.98]) is None  # both exactly at θ
    assert c.update([0.97, 0.99 + 1e-9]) == 3  # mean just above 0.98
    assert c.ns == [2, 3, 4]
    assert c.update([1.0, 1.0, 0.9]) is None and len(c.ns) == 3


def test_no_curriculum_trains_max_n_directly():
    c = make_curriculum("none", 2, 7)
    assert c.ns == [7]
    assert c.update([0.99]) == 7 and c.done
    assert heads_needed("multi", 5, 9) == 4 and heads_needed("single", 5, 9) == 1


@pytest.mark.parametrize(
    "kw, err",
    [
        ({"curriculum": "double"}, UnknownNameError),
        ({"max_n": 1}, ConfigError),
        ({"start_n": 5, "max_n": 3}, ConfigError),
        ({"task": "copy"}, UnknownNameError),
        ({"batch_size": 0}, ConfigError),
    ],
)
def test_bad_training_config(kw, err):
    with pytest.raises(err):
        TaskTrainConfig(**kw).check()


def test_head_count_must_match_the_curriculum():
    net = TaskNetwork(build_core("leaky", 8), 1)
    with pytest.raises(ConfigError, match="needs 3"):
        train_curriculum(net, TaskTrainConfig(curriculum="multi", start_n=4, max_n=6))


def tiny_config(**kw):
    base = dict(
        task="parity", max_n=3, batch_size=32, steps_per_epoch=30, max_epochs=20,
        test_size=512, lr=0.2, seed=0,
    )  # fmt: skip
    return TaskTrainConfig(**{**base, **kw})


@pytest.mark.usefixtures("one_thread")
def test_tiny_training_learns_2_parity_and_checkpoints_each_n():
    torch.manual_seed(0)
    net = TaskNetwork(build_core("leaky", 32), 1)
    chance = evaluate_accuracy(net, "parity", [2], 512, torch.Generator().manual_seed(9))[0]
    seen = []
    res = train_curriculum(
        net,
        tiny_config(curriculum="single", max_n=2),
        on_reached=lambda n, _net, row: seen.append((n, row["acc"][-1])),
    )
    assert res.n_reached == 2 and res.stopped == "max_n", res.history
    assert seen and seen[0][0] == 2 and seen[0][1] > 0.98
    acc = evaluate_accuracy(net, "parity", [2], 1024, torch.Generator().manual_seed(9))[0]
    assert acc > 0.97 and chance < 0.8
    model = net.core.model
    assert model.tau.min().item() >= 1.0 and torch.all(model.W.diagonal() == 0)
    rows = res.history
    assert [r["epoch"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(r["n"] == 2 for r in rows)


def test_multi_head_training_adds_a_head_and_stops_cleanly_on_ctrl_c():
    torch.manual_seed(0)
    net = TaskNetwork(build_core("leaky", 32), 1)

    def stop_after_new_head(row):
        if row["n_reached"] == 2:
            raise KeyboardInterrupt

    res = train_curriculum(net, tiny_config(curriculum="multi"), on_epoch=stop_after_new_head)
    assert res.n_reached == 2 and res.interrupted
    assert net.n_heads == 2  # heads for N = 2 and N = 3
    assert res.history[-1]["n_heads"] == 1 and res.reached[0]["n"] == 2


# ---------------------------------------------------------------------------- robustness
@pytest.fixture()
def leaky_net():
    torch.manual_seed(0)
    return TaskNetwork(build_core("leaky", 10), 2)


def test_ablation_zeroes_row_column_input_and_readout(leaky_net):
    out = ablate(leaky_net, [3, 7])
    m, m0 = out.core.model, leaky_net.core.model
    for i in (3, 7):
        assert torch.all(m.W[i] == 0) and torch.all(m.W[:, i] == 0) and torch.all(m.C[i] == 0)
        assert all(torch.all(h.weight[:, i] == 0) for h in out.heads)
    keep = [i for i in range(10) if i not in (3, 7)]
    torch.testing.assert_close(m.W[keep][:, keep], m0.W[keep][:, keep])
    assert torch.any(m0.W[3] != 0)  # the original is untouched


def test_ablated_unit_has_no_effect_on_the_readout(leaky_net):
    out = ablate(leaky_net, 4)
    x = torch.rand(3, 8, 1)
    h = out.core(x)
    other = [i for i in range(10) if i != 4]
    # zeroing the unit's state as well changes nothing else
    h2 = h.clone()
    h2[..., 4] = 123.0
    torch.testing.assert_close(out.readout(h[:, -1]), out.readout(h2[:, -1]))
    assert h[..., other].abs().sum() > 0


def test_perturbations_have_the_stated_size(leaky_net):
    g = torch.Generator().manual_seed(0)
    m0 = leaky_net.core.model
    w = perturb_weights(leaky_net, 0.1, g).core.model.weight()
    d = w - m0.weight()
    assert torch.all(torch.diagonal(w) == 0)
    assert d.norm().item() == pytest.approx(0.1 * m0.weight().norm().item(), rel=1e-5)
    t = perturb_tau(leaky_net, 0.2, g).core.model.tau
    dt = t - m0.tau
    assert torch.all(dt >= 0)
    assert dt.norm().item() == pytest.approx(0.2 * m0.tau.norm().item(), rel=1e-5)


def test_relative_accuracy_and_robustness_summary(leaky_net):
    assert relative_accuracy(0.75, 1.0) == pytest.approx(0.5)
    assert relative_accuracy(0.5, 0.9) == pytest.approx(0.0)
    with pytest.raises(AttractorError):
        relative_accuracy(0.7, 0.5)
    gru = TaskNetwork(build_core("gru", 6), 1)
    with pytest.raises(ConfigError):
        perturb_tau(gru, 0.1, torch.Generator())
    ablated = ablate(gru, 2)
    assert torch.all(ablated.core.rnn.weight_hh_l0[:, 2] == 0)
    # untrained nets sit at chance: the summary says so instead of dividing by ~0
    r = robustness(leaky_net, "dms", [2, 3], n_sequences=256, epsilons=(0.1,), repeats=1)
    assert r["N"] == 3 and 0 <= r["base_accuracy"] <= 1
