"""Robustness of trained task networks: single-neuron ablations and weight / τ perturbations.

(REFERENCE §4.) With ``d`` a standard normal tensor of the parameter's shape::

    ablation of neuron i:  W[i, :] = W[:, i] = 0, W_in[i] = 0, readout[:, i] = 0 (every head)
    weight perturbation:   W ← W + ε ‖W‖_F d / ‖d‖_F           (diag(W) stays 0)
    τ perturbation:        τ ← τ + ε ‖τ‖_F |d| / ‖d‖_F          (upward only)
    relative accuracy:     (acc − 0.5) / (acc_base − 0.5)

Accuracy is measured on the same fixed test sequences before and after (one seed), so the
differences come from the network alone. Ablation and W perturbation also work for GRU/LSTM cores
(the unit's rows and columns in every gate); τ perturbation needs a core with τ (leaky).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from attractor.errors import ConfigError
from attractor.models.leaky import LeakyRNN
from attractor.tasks.curricula import evaluate_accuracy
from attractor.tasks.heads import DynamicalCore, TaskNetwork, TorchRNNCore

EPSILONS = (0.01, 0.02, 0.05, 0.1, 0.2)
#: Neurons ablated one at a time from each end of the τ ordering.
N_ABLATE = 10


def relative_accuracy(acc: float | np.ndarray, base: float) -> float | np.ndarray:
    """``(acc − 0.5) / (base − 0.5)``: 1 = unharmed, 0 = chance."""
    if base <= 0.5:
        raise ConfigError(f"the base accuracy {base:.3f} is at chance; nothing to compare with.")
    return (np.asarray(acc) - 0.5) / (base - 0.5)


def _leaky(net: TaskNetwork) -> LeakyRNN | None:
    """The leaky RNN inside ``net``'s core, if that is what the core holds."""
    core = net.core
    if isinstance(core, DynamicalCore) and isinstance(core.model, LeakyRNN):
        return core.model
    return None


def _rnn(net: TaskNetwork) -> torch.nn.RNNBase | None:
    """PyTorch's GRU/LSTM inside a :class:`TorchRNNCore`, else ``None``."""
    return net.core.rnn if isinstance(net.core, TorchRNNCore) else None


@torch.no_grad()
def ablate(net: TaskNetwork, units: Sequence[int] | int) -> TaskNetwork:
    """A copy of ``net`` with ``units`` silenced (rows, columns, inputs and readouts zeroed)."""
    out = copy.deepcopy(net)
    idx = torch.as_tensor([units] if isinstance(units, int) else list(units), dtype=torch.long)
    if len(idx) and (idx.min() < 0 or idx.max() >= net.hidden_size):
        raise ConfigError(f"units must lie in [0, {net.hidden_size}), got {idx.tolist()}.")
    m = _leaky(out)
    if m is not None:
        m.W[idx, :] = 0
        m.W[:, idx] = 0
        if m.C is not None:
            m.C[idx] = 0
    elif (rnn := _rnn(out)) is not None:
        h = rnn.hidden_size
        gates = rnn.weight_hh_l0.shape[0] // h
        rows = torch.cat([idx + g * h for g in range(gates)])
        rnn.weight_ih_l0[rows] = 0
        rnn.weight_hh_l0[rows] = 0
        rnn.weight_hh_l0[:, idx] = 0
        rnn.bias_ih_l0[rows] = 0
        rnn.bias_hh_l0[rows] = 0
    else:
        raise ConfigError(f"ablation is not implemented for a {net.core.kind!r} core.")
    for head in out.heads:
        head.weight[:, idx] = 0
    return out


def _direction(shape: torch.Size, generator: torch.Generator) -> torch.Tensor:
    d = torch.randn(shape, generator=generator)
    return d / d.norm()


@torch.no_grad()
def perturb_weights(net: TaskNetwork, eps: float, generator: torch.Generator) -> TaskNetwork:
    """A copy with ``W ← W + ε‖W‖_F d/‖d‖_F`` (recurrent weights; diagonal kept 0 for leaky)."""
    out = copy.deepcopy(net)
    m = _leaky(out)
    if m is not None:
        w = m.weight()
        d = _direction(w.shape, generator).to(w) * m.offdiag
        m.W.copy_(w + eps * w.norm() * d / d.norm())
    elif (rnn := _rnn(out)) is not None:
        w = rnn.weight_hh_l0
        w.add_(eps * w.norm() * _direction(w.shape, generator).to(w))
    else:
        raise ConfigError(f"weight perturbation is not implemented for a {net.core.kind!r} core.")
    return out


@torch.no_grad()
def perturb_tau(net: TaskNetwork, eps: float, generator: torch.Generator) -> TaskNetwork:
    """A copy with ``τ ← τ + ε‖τ‖_F |d|/‖d‖_F`` (only for cores with learnable τ)."""
    out = copy.deepcopy(net)
    m = _leaky(out)
    if m is None:
        raise ConfigError(f"a {net.core.kind!r} core has no τ to perturb; use the leaky model.")
    tau = m.timescales()
    m.tau.copy_(tau + eps * tau.norm() * _direction(tau.shape, generator).to(tau).abs())
    return out


def robustness(
    net: TaskNetwork,
    task: str,
    ns: Sequence[int],
    head: int = -1,
    epsilons: Sequence[float] = EPSILONS,
    n_ablate: int = N_ABLATE,
    repeats: int = 3,
    n_sequences: int = 2048,
    seed: int = 0,
) -> dict[str, Any]:
    """Relative accuracy of head ``head`` (its N is ``ns[head]``) after single-neuron ablations
    of the ``n_ablate`` fastest and slowest neurons (by τ; by index without τ) and after W and τ
    perturbations of size ε (``repeats`` random directions each)."""
    if len(ns) != net.n_heads:
        raise ConfigError(f"{len(ns)} values of N for a network with {net.n_heads} heads.")

    def acc(n: TaskNetwork) -> float:
        g = torch.Generator().manual_seed(seed + 7)
        return float(evaluate_accuracy(n, task, ns, n_sequences, g)[head])

    net = net.eval()
    base = acc(net)
    out: dict[str, Any] = {"N": int(ns[head]), "base_accuracy": base, "epsilons": list(epsilons)}
    if base <= 0.5:
        out["note"] = "base accuracy at chance; relative accuracies undefined"
        return out
    tau = net.timescales()
    order = torch.argsort(tau).tolist() if tau is not None else list(range(net.hidden_size))
    k = min(n_ablate, len(order) // 2)
    for label, units in (("fastest", order[:k]), ("slowest", order[::-1][:k])):
        rel = [float(relative_accuracy(acc(ablate(net, u)), base)) for u in units]
        out[f"ablation_{label}"] = rel
        out[f"ablation_{label}_mean"] = float(np.mean(rel))
        if tau is not None:
            out[f"ablation_{label}_tau"] = [float(tau[u]) for u in units]
    g = torch.Generator().manual_seed(seed)
    out["perturb_W"] = [
        float(
            np.mean(
                [relative_accuracy(acc(perturb_weights(net, e, g)), base) for _ in range(repeats)]
            )
        )
        for e in epsilons
    ]
    if tau is not None:
        out["perturb_tau"] = [
            float(
                np.mean(
                    [relative_accuracy(acc(perturb_tau(net, e, g)), base) for _ in range(repeats)]
                )
            )
            for e in epsilons
        ]
    return out
