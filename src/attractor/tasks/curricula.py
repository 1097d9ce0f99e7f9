"""Curricula for the memory tasks and the loop that trains a task network through them.

Curricula (REFERENCE §4), threshold θ = 0.98 on held-out accuracy, *strictly* exceeded:

- ``single``: one head for the current N; when acc > θ move to N + 1 (same network and head).
- ``multi``: heads for N = 2 … N_max trained together; when mean(acc) > θ **and** acc(N_max) > θ
  add a head for N_max + 1.
- ``none``: one head for N = ``max_n`` from the start.

Loss: Σ_heads cross-entropy at the last step. Optimiser (published defaults): SGD, lr 0.05,
Nesterov momentum 0.1, gradient norm clipped at 2.0, batch 256, 600 steps per epoch (the
``paper`` preset of :mod:`attractor.tasks.presets`; ``quick`` is smaller); sequence
lengths per batch from ``[N_max + 2, 4 N_max + 2)``. ``precision="bf16"`` trains in mixed
precision (``torch.autocast``: bfloat16 matrix products, float32 parameters and states). After
each epoch the accuracy of every head is measured on fresh sequences (float32) and the
curriculum decides; that is the only analysis during training (τ_net and robustness run once,
after it). N is *reached* when it is solved (the criterion above holds with it as the newest
N). Training stops when ``max_n`` is reached, after ``max_epochs``, when ``time_budget`` seconds
are spent, or on Ctrl-C (keeping everything done so far, marked ``interrupted``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from attractor.errors import ConfigError, TrainingError, UnknownNameError, did_you_mean
from attractor.seeds import Seeds
from attractor.tasks.data import check_n, check_task, task_batch
from attractor.tasks.heads import TaskNetwork
from attractor.train.progress import Progress

CURRICULA = ("single", "multi", "none")
#: Training precisions: float32, or bfloat16 matrix products with float32 state (mixed).
PRECISIONS = ("fp32", "bf16")
#: Accuracy that must be strictly exceeded to advance.
THRESHOLD = 0.98


@dataclass
class TaskTrainConfig:
    """Settings of :func:`train_curriculum` (defaults: the published ones)."""

    task: str = "parity"
    curriculum: str = "multi"
    max_n: int = 100
    start_n: int = 2
    batch_size: int = 256
    steps_per_epoch: int = 600
    lr: float = 0.05
    momentum: float = 0.1
    nesterov: bool = True
    grad_clip: float = 2.0
    threshold: float = THRESHOLD
    max_epochs: int = 1000
    time_budget: float | None = None
    test_size: int = 2048
    precision: str = "fp32"
    seed: int = 0

    def check(self) -> None:
        check_task(self.task)
        check_curriculum(self.curriculum)
        check_n(self.max_n, "max_n")
        check_n(self.start_n, "start_n")
        if self.start_n > self.max_n:
            raise ConfigError(f"start N {self.start_n} exceeds max N {self.max_n}.")
        for name in ("batch_size", "steps_per_epoch", "max_epochs", "test_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if not self.lr > 0 or self.momentum < 0 or self.grad_clip <= 0:
            raise ConfigError("lr and grad_clip must be positive and momentum ≥ 0.")
        if not 0.5 <= self.threshold < 1:
            raise ConfigError(f"the accuracy threshold must lie in [0.5, 1), got {self.threshold}.")
        if self.precision not in PRECISIONS:
            raise UnknownNameError(
                f"unknown precision {self.precision!r}; choose one of {', '.join(PRECISIONS)}."
                + did_you_mean(self.precision, PRECISIONS)
            )
        if self.time_budget is not None and self.time_budget <= 0:
            raise ConfigError(f"the time budget must be positive seconds, got {self.time_budget}.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_curriculum(name: str) -> str:
    key = name.lower()
    if key not in CURRICULA:
        raise UnknownNameError(
            f"unknown curriculum {name!r}; choose one of {', '.join(CURRICULA)}."
            + did_you_mean(name, CURRICULA)
        )
    return key


# ---------------------------------------------------------------------------- curricula
class Curriculum:
    """Which N each head is trained on, and when to move on. ``update`` returns the N just
    reached (solved) or ``None``."""

    name = ""

    def __init__(self, start_n: int, max_n: int, threshold: float = THRESHOLD) -> None:
        self.max_n = check_n(max_n, "max N")
        self.threshold = float(threshold)
        self.ns: list[int] = self.initial_ns(check_n(start_n, "start N"))
        self.reached: int | None = None
        self.done = False

    def initial_ns(self, start_n: int) -> list[int]:
        return [start_n]

    @property
    def n_max(self) -> int:
        """The hardest N currently trained (sets the sequence-length range)."""
        return max(self.ns)

    def solved(self, acc: Sequence[float]) -> bool:
        return acc[-1] > self.threshold

    def update(self, acc: Sequence[float]) -> int | None:
        if len(acc) != len(self.ns):
            raise ConfigError(f"{len(acc)} accuracies for {len(self.ns)} heads.")
        if self.done or not self.solved(acc):
            return None
        n = self.n_max
        self.reached = n
        if n >= self.max_n:
            self.done = True
        else:
            self.advance()
        return n

    def advance(self) -> None:
        self.ns = [self.ns[-1] + 1]


class SingleHead(Curriculum):
    name = "single"


class MultiHead(Curriculum):
    name = "multi"

    def initial_ns(self, start_n: int) -> list[int]:
        return list(range(2, start_n + 1))

    def solved(self, acc: Sequence[float]) -> bool:
        return float(np.mean(acc)) > self.threshold and acc[-1] > self.threshold

    def advance(self) -> None:
        self.ns.append(self.ns[-1] + 1)


class NoCurriculum(Curriculum):
    name = "none"

    def initial_ns(self, start_n: int) -> list[int]:
        return [self.max_n]


def make_curriculum(
    name: str, start_n: int, max_n: int, threshold: float = THRESHOLD
) -> Curriculum:
    cls = {"single": SingleHead, "multi": MultiHead, "none": NoCurriculum}[check_curriculum(name)]
    return cls(start_n, max_n, threshold)


def heads_needed(curriculum: str, start_n: int, max_n: int) -> int:
    """Heads a network must have to start ``curriculum`` at ``start_n``."""
    return len(make_curriculum(curriculum, start_n, max_n).ns)


# ---------------------------------------------------------------------------- training
@dataclass
class CurriculumResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    reached: list[dict[str, Any]] = field(default_factory=list)  # one entry per N reached
    n_reached: int | None = None
    stopped: str = "max_epochs"
    wall_time: float = 0.0

    @property
    def interrupted(self) -> bool:
        return self.stopped == "interrupted"


def task_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Σ over heads of the mean cross-entropy: logits ``(B, H, C)``, targets ``(B, H)``."""
    b, h, c = logits.shape
    return torch.nn.functional.cross_entropy(logits.reshape(b * h, c), targets.reshape(-1)) * h


@torch.no_grad()
def evaluate_accuracy(
    net: TaskNetwork,
    task: str,
    ns: Sequence[int],
    n_sequences: int = 2048,
    generator: torch.Generator | None = None,
    n_batches: int = 4,
) -> np.ndarray:
    """Accuracy of each head ``(H,)`` on fresh sequences (``n_batches`` random lengths)."""
    correct = np.zeros(len(ns))
    total = 0
    per = max(1, n_sequences // n_batches)
    dev = next(net.parameters()).device
    for _ in range(n_batches):
        batch = task_batch(task, ns, per, generator=generator)
        pred = net(batch.inputs.to(dev)).argmax(-1).cpu()
        correct += (pred == batch.targets).double().sum(0).numpy()
        total += per
    return correct / total


def train_curriculum(
    net: TaskNetwork,
    config: TaskTrainConfig,
    progress: Progress | None = None,
    on_reached: Callable[[int, TaskNetwork, dict[str, Any]], None] | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> CurriculumResult:
    """Train ``net`` through ``config.curriculum``; see the module docstring.

    ``on_reached(N, net, row)`` is called each time an N is reached (checkpoint it there);
    ``on_epoch(row)`` after every epoch. ``net`` must have as many heads as the curriculum
    starts with (:func:`heads_needed`).
    """
    config.check()
    cur = make_curriculum(config.curriculum, config.start_n, config.max_n, config.threshold)
    if net.n_heads != len(cur.ns):
        raise ConfigError(
            f"the network has {net.n_heads} head(s) but the {cur.name} curriculum starting at "
            f"N={config.start_n} needs {len(cur.ns)}."
        )
    seeds = Seeds(config.seed)
    gen, test_gen = seeds.torch("task/sequences"), seeds.torch("task/test")
    dev = next(net.parameters()).device
    opt = torch.optim.SGD(
        net.parameters(), lr=config.lr, momentum=config.momentum, nesterov=config.nesterov
    )
    res = CurriculumResult()
    t0 = time.perf_counter()
    if progress is not None:
        progress.start(config.max_epochs, f"{config.task} · {cur.name}")
    bad_steps = 0
    mixed = config.precision == "bf16"
    try:
        for epoch in range(1, config.max_epochs + 1):
            net.train()
            losses = []
            for _ in range(config.steps_per_epoch):
                batch = task_batch(config.task, cur.ns, config.batch_size, generator=gen)
                with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=mixed):
                    logits = net(batch.inputs.to(dev))
                loss = task_loss(logits.float(), batch.targets.to(dev))
                if not torch.isfinite(loss):
                    bad_steps += 1
                    if bad_steps > 10:
                        raise TrainingError(
                            "the loss was non-finite in more than 10 steps; lower lr=."
                        )
                    continue
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
                opt.step()
                net.constrain()
                losses.append(loss.item())
            net.eval()
            acc = evaluate_accuracy(net, config.task, cur.ns, config.test_size, test_gen)
            tau = net.timescales()
            row: dict[str, Any] = {
                "epoch": epoch,
                "n": cur.n_max,
                "n_heads": len(cur.ns),
                "loss": float(np.mean(losses)) if losses else math.nan,
                "acc_mean": float(np.mean(acc)),
                "acc_newest": float(acc[-1]),
                "acc_min": float(np.min(acc)),
                "tau_mean": float(tau.mean()) if tau is not None else None,
                "time": time.perf_counter() - t0,
            }
            reached = cur.update(acc.tolist())
            row["n_reached"] = cur.reached
            res.history.append(row)
            res.n_reached = cur.reached
            if reached is not None:
                info = {**row, "n": reached, "acc": acc.tolist()}
                res.reached.append(info)
                if on_reached is not None:
                    on_reached(reached, net, info)
                while net.n_heads < len(cur.ns):
                    opt.add_param_group({"params": list(net.add_head().parameters())})
            if on_epoch is not None:
                on_epoch(row)
            if progress is not None:
                progress.epoch(epoch, row)
            if cur.done:
                res.stopped = "max_n"
                break
            if config.time_budget is not None and time.perf_counter() - t0 > config.time_budget:
                res.stopped = "time_budget"
                break
    except KeyboardInterrupt:
        res.stopped = "interrupted"
        if progress is not None:
            progress.message("interrupted: keeping the checkpoints of every N reached so far.")
    finally:
        if progress is not None:
            progress.stop()
    res.wall_time = time.perf_counter() - t0
    return res
