"""Adapters to well-kept libraries: SINDy (pysindy) and an ESN built by reservoirpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attractor.models import create
from conftest import lorenz


def test_sindy_recovers_lorenz_equations():
    """On raw Lorenz-63 sampled every 0.01 (= 1/steps_per_unit) the fitted field is σ(y − x),
    x(ρ − z) − y, xy − βz."""
    x = lorenz(5000)
    m = create("sindy", 3, threshold=0.5)
    m.fit_direct([x])
    xi = m.xi.double().numpy()
    powers = m.powers.long().numpy().tolist()
    col = {tuple(p): i for i, p in enumerate(powers)}
    want = {
        0: {(1, 0, 0): -10.0, (0, 1, 0): 10.0},
        1: {(1, 0, 0): 28.0, (0, 1, 0): -1.0, (1, 0, 1): -1.0},
        2: {(0, 0, 1): -8 / 3, (1, 1, 0): 1.0},
    }
    for i, terms in want.items():
        expect = np.zeros(len(powers))
        for p, v in terms.items():
            expect[col[p]] = v
        np.testing.assert_allclose(xi[i], expect, atol=0.05 * np.abs(expect).max())
    assert any("x0 x2" in e for e in m.equations())
    # the RK4 map reproduces the flow step: one step from x_t lands near x_{t+1}
    pred = m.step(torch.as_tensor(x[:-1], dtype=torch.float32)).double().numpy()
    assert np.abs(pred - x[1:]).max() < 0.05


def test_reservoirpy_esn_matches_our_ridge_and_update():
    """The reservoirpy-built model, refitted by our own harvest + ridge on the same reservoir
    matrices, gives the same readout: both libraries implement the same ESN."""
    x = lorenz(3000)
    x = (x - x.mean(0)) / x.std(0)
    torch.manual_seed(1)
    theirs = create("esn-rpy", 3, reservoir=60, washout=50).double()
    theirs.fit_direct([x])
    ours = create("esn", 3, reservoir=60, washout=50, readout_input=False).double()
    for name in ("W", "W_in", "b"):
        getattr(ours, name).copy_(getattr(theirs, name))
    ours.fit_direct([x])
    np.testing.assert_allclose(ours.W_out.numpy(), theirs.W_out.numpy(), rtol=1e-5, atol=1e-6)
    # and reservoirpy's own run equals our update equation
    res, _ = theirs.rpy_nodes()
    states = res.run(x[:200])
    np.testing.assert_allclose(
        ours.harvest(torch.as_tensor(x[:200])).numpy(), states, rtol=1e-10, atol=1e-12
    )


def test_adapters_reject_bad_data():
    from attractor.errors import DataError

    with pytest.raises(DataError):
        create("sindy", 3).fit_direct([np.zeros((3, 3))])
    with pytest.raises(DataError):
        create("esn-rpy", 2).fit_direct([np.zeros((500, 3))])
