"""Training throughput of the memory-task networks at the published size (500 units, batch 256).

For each core (leaky RNN, GRU, LSTM) and each N (multi-head curriculum: heads for 2 … N, sequence
lengths drawn from [N + 2, 4N + 2) as in training) this times full optimiser steps (batch,
forward, loss, backward, gradient clipping, SGD, constraints) after a warm-up:

- ``before``: the leaky RNN's autograd step loop as ``LeakyRNN.run`` had it (commit 5ccd96f),
  PyTorch's GRU/LSTM in float32;
- ``fp32``: the fused loop with hand-written BPTT (:mod:`attractor.models.leaky_scan`);
  GRU/LSTM are unchanged in float32;
- ``bf16``: ``--precision bf16`` (mixed precision under ``torch.autocast``).

It also records a torch-profiler table (top operators by self time) for the leaky RNN at
N = 10, before and after, prints a table and writes ``benchmarks/results/task_throughput.json``.
Time it alone (it uses all threads torch is given).

    .venv/bin/python benchmarks/task_throughput.py              # ≈ 4 min
    .venv/bin/python benchmarks/task_throughput.py --quick      # N = 4 only, fewer steps
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from attractor.tasks.curricula import task_loss
from attractor.tasks.data import task_batch
from attractor.tasks.heads import TaskNetwork, build_core

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "task_throughput.json"
HIDDEN, BATCH = 500, 256


def reference_core(net: TaskNetwork) -> None:
    """Make ``net``'s leaky core run the loop ``LeakyRNN.run`` had before the fused scan (commit
    5ccd96f, nonlinearity outside): autograd through one ``addmm`` per step, all states stacked,
    the last one read out."""
    model = net.core.model

    def final_state(s: torch.Tensor) -> torch.Tensor:
        b, t = s.shape[:2]
        inv = 1.0 / model.timescales()
        w = model.weight()
        u = model._drive(s, s.new_zeros(b, t, model.latent_dim))
        h = s.new_zeros(b, model.latent_dim)
        mt = ((1 - inv)[:, None] * torch.eye(model.latent_dim) + inv[:, None] * w).T
        ui = u * inv
        out = []
        for k in range(t):
            h = model.phi(torch.addmm(ui[:, k], h, mt))
            out.append(h)
        return torch.stack(out, dim=1)[:, -1]

    net.core.final_state = final_state  # type: ignore[method-assign]


def make(kind: str, n: int, variant: str, seed: int = 0):
    torch.manual_seed(seed)
    ns = list(range(2, n + 1))
    net = TaskNetwork(build_core(kind, HIDDEN, 1), len(ns))
    if variant == "before" and kind == "leaky":
        reference_core(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.1, nesterov=True)
    gen = torch.Generator().manual_seed(seed)
    mixed = variant == "bf16"

    def step() -> float:
        batch = task_batch("parity", ns, BATCH, generator=gen)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed):
            logits = net(batch.inputs)
        loss = task_loss(logits.float(), batch.targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 2.0)
        opt.step()
        net.constrain()
        return loss.item()

    return step


def time_steps(kind: str, n: int, variant: str, steps: int) -> float:
    step = make(kind, n, variant)
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - t0)


def profile(variant: str, n: int = 10, steps: int = 10, rows: int = 8) -> list[dict]:
    from torch.profiler import profile as torch_profile

    step = make("leaky", n, variant)
    for _ in range(3):
        step()
    with torch_profile() as prof:
        for _ in range(steps):
            step()
    ops = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:rows]
    total = sum(e.self_cpu_time_total for e in prof.key_averages())
    return [
        {
            "op": e.key,
            "calls_per_step": e.count / steps,
            "self_ms_per_step": e.self_cpu_time_total / 1e3 / steps,
            "share": e.self_cpu_time_total / total,
        }
        for e in ops
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 4 only, fewer steps")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    console = Console()
    ns = (4,) if args.quick else (4, 10, 20)
    rows = []
    for kind in ("leaky", "gru", "lstm"):
        for n in ns:
            steps = max(4, int((12 if args.quick else 40) * 4 / n))
            if kind != "leaky":
                steps = max(3, steps // 3)
            rate = {v: time_steps(kind, n, v, steps) for v in ("before", "fp32", "bf16")}
            rows.append(
                {
                    "core": kind,
                    "N": n,
                    "steps_timed": steps,
                    **{f"steps_per_s_{v}": r for v, r in rate.items()},
                    "speedup_fp32": rate["fp32"] / rate["before"],
                    "speedup_bf16": rate["bf16"] / rate["before"],
                }
            )
            console.print(rows[-1])
    prof = {v: profile(v) for v in ("before", "fp32", "bf16")}
    table = Table(title=f"optimiser steps per second, {HIDDEN} units, batch {BATCH}")
    for col in ("core", "N", "before", "fp32", "bf16", "× fp32", "× bf16"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["core"],
            str(r["N"]),
            f"{r['steps_per_s_before']:.2f}",
            f"{r['steps_per_s_fp32']:.2f}",
            f"{r['steps_per_s_bf16']:.2f}",
            f"{r['speedup_fp32']:.2f}",
            f"{r['speedup_bf16']:.2f}",
        )
    console.print(table)
    for v, ops in prof.items():
        t = Table(title=f"leaky RNN, N = 10, {v}: top operators (self time per step)")
        for col in ("op", "calls/step", "ms/step", "share"):
            t.add_column(col, justify="right")
        for o in ops:
            t.add_row(
                o["op"],
                f"{o['calls_per_step']:.0f}",
                f"{o['self_ms_per_step']:.2f}",
                f"{o['share']:.0%}",
            )
        console.print(t)
    out = {
        "hidden": HIDDEN,
        "batch": BATCH,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "rows": rows,
        "profile_leaky_N10": prof,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
