"""Our forecast-protocol medians next to the published dysts numbers (REFERENCE §6).

Reads one or more ``attractor bench`` results stores (jobs run with ``--protocol forecast`` or
``both``), and per model prints the median over systems of the 2-period sMAPE (0–200, the
horizon of the published medians), the valid prediction time in Lyapunov times by both criteria
(NRMSE > 0.5, cumulative sMAPE > 30), and how many systems were scored. A job without forecast
metrics (a diverged model) counts as the worst case — sMAPE 200, VPT 0 — in the "all" columns,
so a model cannot look better by failing; the "scored" columns use scored systems only.

Usage::

    python benchmarks/forecast_vs_dysts.py benchmarks/runs/all135.sqlite \
        benchmarks/runs/naive135.sqlite --json benchmarks/results/forecast_vs_dysts.json
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
from pathlib import Path
from typing import Any

#: Published medians over 131 dysts systems, 2-period sMAPE (REFERENCE §6).
PUBLISHED_SMAPE = {"NBEATS": 67.7, "Transformer": 101.4, "LSTM": 102.0, "naive mean": 148.9}
WORST = {"smape_2p": 200.0, "vpt_lyapunov": 0.0, "vpt_smape_lyapunov": 0.0}


def rows(path: Path) -> list[dict[str, Any]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = []
        for system, model, status, metrics in con.execute(
            "SELECT system, model, status, metrics FROM jobs WHERE status IN ('done', 'failed')"
        ):
            out.append(
                {
                    "system": system,
                    "model": model,
                    "status": status,
                    "metrics": json.loads(metrics) if metrics else {},
                }
            )
        return out
    finally:
        con.close()


def summarise(jobs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_model: dict[str, list[dict[str, Any]]] = {}
    for j in jobs:
        by_model.setdefault(j["model"], []).append(j)
    table: dict[str, dict[str, Any]] = {}
    for model, js in sorted(by_model.items()):
        entry: dict[str, Any] = {"systems": len(js)}
        for key, worst in WORST.items():
            scored = [
                float(j["metrics"][key])
                for j in js
                if isinstance(j["metrics"].get(key), (int, float))
            ]
            everything = scored + [worst] * (len(js) - len(scored))
            entry[f"{key}_scored"] = statistics.median(scored) if scored else None
            entry[f"{key}_all"] = statistics.median(everything) if everything else None
            entry[f"{key}_n_scored"] = len(scored)
        table[model] = entry
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("stores", nargs="+", type=Path)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    jobs = [j for p in args.stores for j in rows(p)]
    table = summarise(jobs)

    def f(v: Any, d: int = 1) -> str:
        return "—" if v is None else f"{v:.{d}f}"

    head = (
        f"{'model':<12} {'systems':>7} {'sMAPE2p all':>11} {'scored':>7} "
        f"{'VPT_nrmse (λ-times)':>19} {'VPT_smape (λ-times)':>19}"
    )
    print(head)
    print("-" * len(head))
    for model, e in table.items():
        print(
            f"{model:<12} {e['systems']:>7} {f(e['smape_2p_all']):>11} "
            f"{e['smape_2p_n_scored']:>7} {f(e['vpt_lyapunov_all'], 2):>19} "
            f"{f(e['vpt_smape_lyapunov_all'], 2):>19}"
        )
    print(
        "published medians (131 systems, 2-period sMAPE): "
        + ", ".join(f"{k} {v}" for k, v in PUBLISHED_SMAPE.items())
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "stores": [str(p) for p in args.stores],
                    "ours": table,
                    "published_smape_2p": PUBLISHED_SMAPE,
                },
                indent=2,
            )
        )
        tmp.replace(args.json)


if __name__ == "__main__":
    main()
