"""Named system suites: ``quick`` (10 diverse systems) and ``all`` (every continuous dysts system).

``quick`` covers the kinds of dynamics a method must handle: the classic 3-d flows (Lorenz,
Rössler, Thomas, Chua's circuit), a bursting neuron (Hindmarsh–Rose), hyperchaos in 4-d
(HyperRössler, Lorenz-96), a Hamiltonian system (double pendulum), a periodically forced
oscillator (Duffing) and a delay equation seen through a 10-d embedding (Mackey–Glass).
Suites are data, so adding one never means editing control flow.
"""

from __future__ import annotations

from attractor.errors import UnknownNameError, did_you_mean

QUICK = (
    "Lorenz",
    "Rossler",
    "Thomas",
    "Chua",
    "HindmarshRose",
    "HyperRossler",
    "Lorenz96",
    "DoublePendulum",
    "Duffing",
    "MackeyGlass",
)

SUITES = ("quick", "all")


def suite(name: str) -> list[str]:
    """The system names of suite ``name`` (``quick`` or ``all``)."""
    from attractor.data.systems import list_systems

    key = name.lower()
    if key == "quick":
        return list(QUICK)
    if key == "all":
        return list_systems()
    raise UnknownNameError(
        f"unknown suite {name!r}; choose one of {', '.join(SUITES)}." + did_you_mean(name, SUITES)
    )
