"""Shared fixtures: an isolated trajectory cache and small data files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's ~/.cache: every test session gets its own trajectory cache."""
    monkeypatch.setenv("ATTRACTOR_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def one_thread():
    """Pin torch to one thread for a module (tiny tensors, and CI shares two cores between the
    test process and its subprocesses); restored afterwards. Use it with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def lorenz(n: int = 4000, dt: float = 0.01, seed: int = 0) -> np.ndarray:
    def rhs(t, u):
        x, y, z = u
        return [10 * (y - x), x * (28 - z) - y, x * y - 8 / 3 * z]

    x0 = np.array([1.0, 1.0, 20.0]) + np.random.default_rng(seed).normal(size=3)
    t = np.arange(n + 500) * dt
    sol = solve_ivp(rhs, (0, t[-1]), x0, t_eval=t, rtol=1e-9, atol=1e-9)
    return sol.y.T[500:]


@pytest.fixture(scope="session")
def lorenz_csv(tmp_path_factory):
    """A 4,000-point Lorenz-63 trajectory as CSV with a time column (dt = 0.01)."""
    path = tmp_path_factory.mktemp("data") / "lorenz.csv"
    x = lorenz()
    t = np.arange(len(x)) * 0.01
    np.savetxt(path, np.column_stack([t, x]), delimiter=",", header="t,x,y,z", comments="")
    return path
