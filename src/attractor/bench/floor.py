"""The data floor of a system: what a perfect model would score at the test length.

``floor = D(x_clean, x'_clean)``: D_stsp and D_H between two clean trajectories of the same
system from two initial conditions (``load_system`` seeds 101 and 102), both z-scored with the
first one's mean and std, compared as a model's free run is
(:func:`attractor.metrics.protocol.compare`). Finite samples of a chaotic attractor never cover
it the same way twice, so even the true system scores above zero, and at short lengths above
the 0.5 threshold of a faithful reconstruction: a model's score reads against this floor.

Integrating two trajectories costs seconds per system, so :func:`store_floor` caches each floor
in the results store's ``meta`` table (key ``floor:<system>:<n>``, JSON value): a report
computes it once per system and length, and later reports read it back.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from typing import Any

from attractor.bench.store import Store, dumps
from attractor.runs import sqlite as db

log = logging.getLogger(__name__)

#: Longest trajectory a report compares (keeps a first report of a large sweep fast).
MAX_FLOOR_LENGTH = 20_000
#: Seeds of the two clean trajectories (``load_system``: ``k > 0`` perturbs dysts' IC).
FLOOR_SEEDS = (101, 102)
#: Test length of a job for ``n_train`` samples: as ``attractor.data.pipeline`` splits a system
#: (test ``max(TEST_MIN, n_train // 2)``).
TEST_MIN = 1_000


def data_floor(system: str, n: int, seeds: tuple[int, int] = FLOOR_SEEDS) -> dict[str, float]:
    """``{"D_stsp", "D_H"}`` between two clean ``n``-sample trajectories of ``system``."""
    from attractor.data.systems import load_system
    from attractor.metrics.protocol import compare
    from attractor.metrics.registry import Comparison

    a = load_system(system, n=n, seed=seeds[0])
    b = load_system(system, n=n, seed=seeds[1])
    x, y = a.trials[0], b.trials[0]
    mu, sd = x.mean(0), x.std(0)
    m = compare(Comparison((x - mu) / sd, (y - mu) / sd, a.dt))
    return {"D_stsp": float(m["D_stsp"]), "D_H": float(m["D_H"])}


def floor_key(system: str, n: int, seeds: tuple[int, int] = FLOOR_SEEDS) -> str:
    key = f"floor:{system}:{n}"
    return key if tuple(seeds) == FLOOR_SEEDS else f"{key}:{seeds[0]},{seeds[1]}"


def store_floor(
    store: Store, system: str, n: int, seeds: tuple[int, int] = FLOOR_SEEDS
) -> dict[str, float] | None:
    """:func:`data_floor`, read from / written to ``store``'s ``meta`` table; ``None`` when it
    cannot be computed (an unknown system, a failed integration). A store that cannot be
    written (read-only file) only loses the cache."""
    key = floor_key(system, n, seeds)
    row = store.con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    if row is not None:
        cached = db.decode(row[0])
        if isinstance(cached, dict):
            return {k: float(v) for k, v in cached.items()}
    try:
        floor = data_floor(system, n, seeds)
    except Exception as exc:  # a report never fails for a floor
        log.warning("no data floor for %s (n=%d): %s", system, n, exc)
        return None
    try:
        with store.transaction() as c:
            c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, dumps(floor)))
    except sqlite3.Error as exc:
        log.warning("data floor of %s not cached in %s: %s", system, store.path, exc)
    return floor


def floor_length(store: Store, rows: list[dict[str, Any]]) -> int | None:
    """The test length of one system's ``rows`` (capped at :data:`MAX_FLOOR_LENGTH`): from
    their spec's ``n_train``; without a known spec, the length of a stored trace; else None."""
    from attractor.data.pipeline import SYSTEM_TEST

    settings = {s["hash"]: s["settings"] for s in store.specs()}
    lengths = []
    for r in rows:
        if r.get("spec_hash") in settings:
            n_train = settings[r["spec_hash"]].get("n_train")
            lengths.append(SYSTEM_TEST if n_train is None else max(TEST_MIN, int(n_train) // 2))
    if not lengths:
        from attractor.bench.jobs import decode_array

        for r in rows:
            tr = store.trace(r["id"]) if "id" in r else None
            if tr is not None:
                lengths.append(len(decode_array(tr[0])))
                break
    return min(max(lengths), MAX_FLOOR_LENGTH) if lengths else None


def report_floors(store: Store, rows: list[dict[str, Any]]) -> dict[str, dict[str, float] | None]:
    """``{system: floor or None}`` for every system of ``rows`` (a floor's values may be
    non-finite where a metric is undefined)."""
    by_system: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_system[r["system"]].append(r)
    out: dict[str, dict[str, float] | None] = {}
    for system, rs in sorted(by_system.items()):
        n = floor_length(store, rs)
        out[system] = store_floor(store, system, n) if n else None
    return out


__all__ = ["data_floor", "floor_length", "report_floors", "store_floor"]
