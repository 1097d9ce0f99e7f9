"""Leaderboards from the results store: per-metric medians and spreads, exports.

Per model and metric: first the median over seeds within each system, then over systems the
median and the interquartile range ``[q25, q75]``. A failed job counts as the worst possible
value (``+inf`` for lower-is-better metrics, 0 for valid prediction times), so a model that
often diverges cannot look good by dropping its failures; the number of failed jobs is shown
next to every median.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from typing import Any

import numpy as np

from attractor.metrics.registry import MetricEntry, get_metric

#: The metrics a benchmark ranks, in the order the leaderboards are shown; their labels and
#: directions come from the metric registry (:mod:`attractor.metrics.registry`).
LEADERBOARD_KEYS = (
    "D_stsp",
    "D_H",
    "PE(20)",
    "lambda_max_error",
    "vpt_lyapunov",
    "vpt_smape_lyapunov",
    "smape_2p",
    "smape",
)
METRICS = tuple(get_metric(k) for k in LEADERBOARD_KEYS)
METRIC_BY_KEY = {m.key: m for m in METRICS}


def _value(row: dict[str, Any], metric: MetricEntry) -> float | None:
    """The row's value of ``metric``, the worst value for a failed job, None if not measured."""
    v = row["metrics"].get(metric.key)
    if row["status"] == "failed":
        return metric.worst
    if v is None:
        return None
    v = float(v)
    return metric.worst if math.isnan(v) else v


def per_system(rows: list[dict[str, Any]], metric: MetricEntry) -> dict[str, dict[str, float]]:
    """``{model: {system: median over seeds}}`` of finished (done or failed) jobs."""
    vals: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        if r["status"] not in ("done", "failed"):
            continue
        v = _value(r, metric)
        if v is not None:
            vals[(r["model"], r["system"])].append(v)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (model, system), v in vals.items():
        out[model][system] = float(np.median(v))
    return dict(out)


def leaderboard(rows: list[dict[str, Any]], metric: MetricEntry) -> list[dict[str, Any]]:
    """One entry per model, best median first: ``model, median, q25, q75, n_systems, failed``."""
    table = per_system(rows, metric)
    failed: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["status"] == "failed":
            failed[r["model"]] += 1
    out = []
    for model, by_sys in table.items():
        v = np.array(list(by_sys.values()), dtype=float)
        q25, med, q75 = (float(np.quantile(v, q, method="inverted_cdf")) for q in (0.25, 0.5, 0.75))
        out.append(
            {
                "model": model,
                "median": med,
                "q25": q25,
                "q75": q75,
                "n_systems": len(v),
                "failed": failed[model],
            }
        )
    sign = 1 if metric.lower_is_better else -1
    out.sort(key=lambda e: (sign * e["median"], e["model"]))
    return out


def available_metrics(rows: list[dict[str, Any]]) -> list[MetricEntry]:
    """The metrics that at least one finished job measured."""
    keys = {k for r in rows for k in r["metrics"]}
    return [m for m in METRICS if m.key in keys]


def winners(rows: list[dict[str, Any]], metric: MetricEntry) -> dict[str, str]:
    """``{system: best model}`` by the per-system median of ``metric`` (ties: first by name)."""
    table = per_system(rows, metric)
    best: dict[str, tuple[float, str]] = {}
    sign = 1 if metric.lower_is_better else -1
    for model in sorted(table):
        for system, v in table[model].items():
            key = (sign * v, model)
            if system not in best or key < best[system]:
                best[system] = key
    return {s: m for s, (_, m) in best.items()}


def flat_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat dict per job: identity, status, error, every metric and timing."""
    out = []
    for r in rows:
        d = {k: r[k] for k in ("system", "model", "seed", "status", "spec_hash", "attempts")}
        d["error"] = r.get("error") or ""
        for k, v in sorted(r["metrics"].items()):
            d[k] = v
        for k, v in sorted(r["timings"].items()):
            d[f"time.{k}"] = v
        out.append(d)
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    flat = flat_rows(rows)
    cols: list[str] = []
    for d in flat:
        cols += [k for k in d if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(flat)
    return buf.getvalue()


def to_json(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "leaderboards": {m.key: leaderboard(rows, m) for m in available_metrics(rows)},
        "jobs": flat_rows(rows),
    }
