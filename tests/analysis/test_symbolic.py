"""Symbolic dynamics of AL-RNNs: codes, coverage, dwell times, transition graph, region fixed
points, on hand-built models and trajectories whose answers are known."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from attractor.analysis.symbolic import symbol_sequence, symbolic_dynamics, transition_graph
from attractor.errors import ConfigError, DataError
from attractor.models import ALRNN, ShallowPLRNN


def test_codes_counts_dwell_and_transitions_of_a_hand_built_trajectory():
    model = ALRNN(2, 2, n_relu=2)
    # signs of (z1, z2) → code = 1[z1>0] + 2·1[z2>0]
    z = np.array([[1, -1], [1, -1], [1, 1], [-1, 1], [-1, 1], [-1, 1], [1, -1]], dtype=float)
    np.testing.assert_array_equal(symbol_sequence(model, z), [1, 1, 3, 2, 2, 2, 1])
    with torch.no_grad():
        np.testing.assert_array_equal(
            symbol_sequence(model, z), model.symbols(torch.tensor(z)).numpy()
        )  # the same integer code as the model's own
    sym = symbolic_dynamics(model, z)
    assert [(r.code, r.count) for r in sym.regions] == [(1, 3), (2, 3), (3, 1)]  # ranked
    assert [r.pattern for r in sym.regions] == ["10", "01", "11"]
    assert [r.coverage for r in sym.regions] == pytest.approx([3 / 7, 3 / 7, 1 / 7])
    assert {r.code: r.mean_dwell for r in sym.regions} == {1: 1.5, 2: 3.0, 3: 1.0}
    g = sym.graph
    expected = {(1, 1): 1, (1, 3): 1, (3, 2): 1, (2, 2): 2, (2, 1): 1}
    assert {e: g.edges[e]["count"] for e in g.edges} == expected
    assert g.edges[1, 1]["probability"] == pytest.approx(0.5)
    assert g.edges[2, 2]["probability"] == pytest.approx(2 / 3)
    assert g.edges[3, 2]["probability"] == pytest.approx(1.0)
    assert sym.n_visited == 3 and sym.n_possible == 4
    d = sym.to_dict(obs_dim=2)
    assert d["regions"][-1]["cumulative_coverage"] == pytest.approx(1.0)
    assert nx.node_link_graph(d["transition_graph"], edges="edges").number_of_edges() == 5


def test_free_run_on_a_stable_two_cycle_alternates_two_regions():
    # z' = −0.25 z − 1.75 ReLU(z) + 1: slopes −0.25 (z ≤ 0) and −2 (z > 0); stable 2-cycle
    # {−2, 1.5} (multiplier 0.5); fixed point of region 1 is real (1/3, unstable flip), that of
    # region 0 virtual (0.8 lies outside z ≤ 0)
    model = ALRNN(1, 1, n_relu=1)
    with torch.no_grad():
        model.A.fill_(-0.25)
        model.W.fill_(-1.75)
        model.h.fill_(1.0)
        z = (
            model.double()
            .simulate(
                z0=torch.tensor([[-1.0]], dtype=torch.float64), steps=400, return_latent=True
            )[0, 200:]
            .numpy()
        )
    np.testing.assert_allclose(np.unique(np.round(z[:, 0], 9)), [-2.0, 1.5])
    sym = symbolic_dynamics(model, z)
    assert sym.n_visited == 2
    assert [r.coverage for r in sym.regions] == pytest.approx([0.5, 0.5])
    assert all(r.mean_dwell == 1.0 for r in sym.regions)
    assert set(sym.graph.edges) == {(0, 1), (1, 0)}  # no self-loops: it never dwells
    regions = {r.code: r for r in sym.regions}
    assert regions[1].real and regions[1].fixed_point[0] == pytest.approx(1 / 3)
    assert regions[1].stability.n_unstable == 1 and regions[1].stability.flip
    assert not regions[0].real and regions[0].fixed_point[0] == pytest.approx(0.8)
    assert regions[0].stability.stable


def test_transition_graph_rows_are_probabilities():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, size=500)
    g = transition_graph(codes)
    for v in g.nodes:
        out = sum(g.edges[v, w]["probability"] for w in g.successors(v))
        assert out == pytest.approx(1.0) or v == codes[-1]  # the last symbol has one less exit
    assert sum(g.edges[e]["count"] for e in g.edges) == len(codes) - 1


def test_symbolic_codes_refuse_models_with_too_many_regions_and_bad_states():
    with pytest.raises(ConfigError, match="boundary units"):
        symbolic_dynamics(ShallowPLRNN(3, 3, hidden_dim=50), np.zeros((10, 3)))
    with pytest.raises(DataError, match="finite latent trajectory"):
        symbolic_dynamics(ALRNN(2, 3, n_relu=1), np.full((10, 3), np.nan))
