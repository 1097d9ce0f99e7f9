"""Memory tasks: N-parity, N-delayed-match-to-sample (N-DMS) and HMM emission sequences.

Binary tasks (REFERENCE §4), one input channel, label read out at the final step::

    length T ~ U{N_max + 2, …, 4 N_max + 1}       (one T per batch: [N_max + 2, 4 N_max + 2))
    N-parity: p ~ U(0, 1) per sequence, bits b_t ~ Bernoulli(p), y_N = (Σ_{t=T−N+1}^{T} b_t) mod 2
    N-DMS:    b_t ~ Bernoulli(0.5),                             y_N = 1[b_{T−N+1} = b_T]

A batch holds ``inputs`` ``(B, T, 1)`` (float 0/1) and ``targets`` ``(B, H)`` (int64 labels, one
column per head, i.e. per N in ``ns``). Every sequence of a batch has the same length, so the
labels all sit at the last step and no mask is needed.

HMM emissions: a categorical HMM (K hidden states, 3 symbols) is sampled **exactly** and
vectorised over sequences with numpy (the start state is drawn from the stationary distribution,
so sequences are stationary); :meth:`HMMSpec.to_hmmlearn` gives the same model as an
``hmmlearn.hmm.CategoricalHMM`` for likelihoods and an independent sampler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from attractor.errors import ConfigError, UnknownNameError, did_you_mean

TASKS = ("parity", "dms")
#: Smallest N a memory task accepts.
MIN_N = 2
#: Symbols of the HMM tasks.
N_SYMBOLS = 3
HMM_KINDS = ("linear", "full", "cyclic")


@dataclass(frozen=True)
class TaskBatch:
    """``inputs`` ``(B, T, 1)`` float, ``targets`` ``(B, H)`` int64 (one column per N in ``ns``)."""

    inputs: Tensor
    targets: Tensor
    ns: tuple[int, ...]


def check_n(n: int, what: str = "N") -> int:
    if int(n) != n or n < MIN_N:
        raise ConfigError(
            f"{what} must be an integer ≥ {MIN_N} (memory of at least 2 bits), got {n}."
        )
    return int(n)


def check_task(task: str) -> str:
    key = task.lower()
    if key not in TASKS:
        raise UnknownNameError(
            f"unknown task {task!r}; choose one of {', '.join(TASKS)}." + did_you_mean(task, TASKS)
        )
    return key


def length_range(n_max: int) -> tuple[int, int]:
    """Half-open range ``[N_max + 2, 4 N_max + 2)`` of sequence lengths."""
    n_max = check_n(n_max, "N_max")
    return n_max + 2, 4 * n_max + 2


def sample_length(n_max: int, generator: torch.Generator | None = None) -> int:
    """One sequence length drawn uniformly from :func:`length_range`."""
    lo, hi = length_range(n_max)
    return int(torch.randint(lo, hi, (1,), generator=generator).item())


def parity_labels(bits: Tensor, ns: Sequence[int]) -> Tensor:
    """``(B, T)`` bits → ``(B, H)`` labels ``(sum of the last N bits) mod 2`` for each N."""
    csum = torch.cumsum(bits.flip(1).long(), dim=1)  # csum[:, k] = sum of the last k+1 bits
    return torch.stack([csum[:, n - 1] % 2 for n in ns], dim=1)


def dms_labels(bits: Tensor, ns: Sequence[int]) -> Tensor:
    """``(B, T)`` bits → ``(B, H)`` labels ``1[b_{T−N+1} = b_T]`` for each N."""
    last = bits[:, -1]
    return torch.stack([(bits[:, -n] == last).long() for n in ns], dim=1)


def task_batch(
    task: str,
    ns: Sequence[int],
    batch_size: int,
    length: int | None = None,
    generator: torch.Generator | None = None,
) -> TaskBatch:
    """A batch of ``task`` (``"parity"`` or ``"dms"``) with labels for every N in ``ns``.

    ``length``: the sequence length; by default drawn from :func:`length_range` of ``max(ns)``.
    """
    key = check_task(task)
    ns = tuple(check_n(n) for n in ns)
    if not ns:
        raise ConfigError("at least one N (one readout head) is needed.")
    if batch_size < 1:
        raise ConfigError(f"the batch size must be at least 1, got {batch_size}.")
    n_max = max(ns)
    t = sample_length(n_max, generator) if length is None else int(length)
    if t < n_max:
        raise ConfigError(
            f"sequences of length {t} cannot hold {n_max} bits; use length ≥ {n_max}."
        )
    if key == "parity":
        p = torch.rand(batch_size, 1, generator=generator)
        bits = torch.rand(batch_size, t, generator=generator) < p
        targets = parity_labels(bits, ns)
    else:
        bits = torch.rand(batch_size, t, generator=generator) < 0.5
        targets = dms_labels(bits, ns)
    return TaskBatch(bits.float().unsqueeze(-1), targets, ns)


# ---------------------------------------------------------------------------- HMM emissions
@dataclass(frozen=True)
class HMMSpec:
    """A categorical HMM: ``transmat`` ``(K, K)``, ``emissionprob`` ``(K, S)``, ``startprob``."""

    name: str
    transmat: np.ndarray
    emissionprob: np.ndarray
    startprob: np.ndarray

    @property
    def n_states(self) -> int:
        return int(self.transmat.shape[0])

    @property
    def n_symbols(self) -> int:
        return int(self.emissionprob.shape[1])

    def to_hmmlearn(self):
        """The same model as an ``hmmlearn.hmm.CategoricalHMM`` (parameters fixed)."""
        from hmmlearn.hmm import CategoricalHMM

        m = CategoricalHMM(n_components=self.n_states, n_features=self.n_symbols, init_params="")
        m.startprob_ = self.startprob.copy()
        m.transmat_ = self.transmat.copy()
        m.emissionprob_ = self.emissionprob.copy()
        return m

    def symbol_frequencies(self) -> np.ndarray:
        """Stationary symbol probabilities ``π E`` ``(S,)``."""
        return stationary(self.transmat) @ self.emissionprob

    def symbol_transitions(self) -> np.ndarray:
        """Exact ``P(x_{t+1} = j | x_t = i)`` ``(S, S)`` under the stationary chain."""
        pi = stationary(self.transmat)
        e = self.emissionprob
        joint = (pi[:, None] * e).T @ self.transmat @ e  # P(x_t = i, x_{t+1} = j)
        return joint / joint.sum(1, keepdims=True)


def stationary(transmat: np.ndarray) -> np.ndarray:
    """Stationary distribution π = π P (left eigenvector for eigenvalue 1), ``(K,)``."""
    w, v = np.linalg.eig(transmat.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1))])
    return pi / pi.sum()


def _emissions(k: int, width: float = 0.3, floor: float = 0.05) -> np.ndarray:
    """State i (position u_i = i/(K−1) along the chain) prefers symbol round(2 u_i):
    ``E_is ∝ exp(−(u_i − s/2)² / 2w²)``, mixed with ``floor`` of the uniform distribution."""
    u = np.linspace(0.0, 1.0, k)[:, None]
    c = np.array([0.0, 0.5, 1.0])[None]
    e = np.exp(-((u - c) ** 2) / (2 * width**2))
    e /= e.sum(1, keepdims=True)
    return (1 - floor) * e + floor / N_SYMBOLS


def make_hmm(kind: str = "linear", n_states: int = 3, stay: float = 0.9, seed: int = 0) -> HMMSpec:
    """The HMMs of the emulation task, with 3 symbols and ``n_states`` ∈ [2, 5] states.

    - ``linear``: a chain; stay with probability ``stay``, else step to a neighbour (reflecting).
    - ``cyclic``: stay with probability ``stay``, else move to state i+1 (mod K).
    - ``full``: fully connected, ``stay`` on the diagonal, the rest spread by a Dirichlet(1)
      draw (``seed``).
    Emissions follow :func:`_emissions`; the start distribution is the stationary one.
    """
    key = kind.lower()
    if key not in HMM_KINDS:
        raise UnknownNameError(
            f"unknown HMM kind {kind!r}; choose one of {', '.join(HMM_KINDS)}."
            + did_you_mean(kind, HMM_KINDS)
        )
    if not 2 <= n_states <= 5:
        raise ConfigError(f"the HMM needs 2 to 5 states, got {n_states}.")
    if not 0.0 < stay < 1.0:
        raise ConfigError(f"the stay probability must lie in (0, 1), got {stay}.")
    k = n_states
    t = np.zeros((k, k))
    if key == "linear":
        for i in range(k):
            nb = [j for j in (i - 1, i + 1) if 0 <= j < k]
            t[i, i] = stay
            for j in nb:
                t[i, j] = (1 - stay) / len(nb)
    elif key == "cyclic":
        for i in range(k):
            t[i, i] = stay
            t[i, (i + 1) % k] += 1 - stay
    else:
        rng = np.random.default_rng(seed)
        for i in range(k):
            off = rng.dirichlet(np.ones(k - 1)) * (1 - stay)
            t[i, np.arange(k) != i] = off
            t[i, i] = stay
    e = _emissions(k)
    return HMMSpec(f"{key}-{k}", t, e, stationary(t))


def sample_hmm(
    spec: HMMSpec, n_sequences: int, length: int, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Exact ancestral sampling, vectorised over sequences.

    Returns ``(symbols, states)``, both ``(n_sequences, length)`` int64. Inverse-CDF draws:
    ``s_{t+1} = #{j : cumsum(P[s_t])_j ≤ u}`` with ``u ~ U(0, 1)``.
    """
    if n_sequences < 1 or length < 1:
        raise ConfigError(f"need at least one sequence of length ≥ 1, got {n_sequences}×{length}.")
    rng = np.random.default_rng(seed)
    cum_t = np.cumsum(spec.transmat, axis=1)
    cum_e = np.cumsum(spec.emissionprob, axis=1)
    k = spec.n_states
    states = np.empty((n_sequences, length), dtype=np.int64)
    s = np.minimum((rng.random((n_sequences, 1)) > np.cumsum(spec.startprob)).sum(1), k - 1)
    for t in range(length):
        states[:, t] = s
        u = rng.random((n_sequences, 1))
        s = np.minimum((u > cum_t[s]).sum(1), k - 1)
    u = rng.random((n_sequences, length, 1))
    symbols = np.minimum((u > cum_e[states]).sum(-1), spec.n_symbols - 1)
    return symbols.astype(np.int64), states


def one_hot(symbols: np.ndarray | Tensor, n_symbols: int = N_SYMBOLS) -> Tensor:
    """``(B, T)`` int symbols → ``(B, T, S)`` float one-hot."""
    x = torch.as_tensor(symbols, dtype=torch.long)
    return torch.nn.functional.one_hot(x, n_symbols).float()


def symbol_statistics(symbols: np.ndarray, n_symbols: int = N_SYMBOLS) -> dict[str, np.ndarray]:
    """Empirical symbol frequencies ``(S,)`` and transition matrix ``P(x_{t+1}|x_t)`` ``(S, S)``
    from ``(B, T)`` symbols (rows with no visits are uniform)."""
    x = np.asarray(symbols)
    freq = np.bincount(x.ravel(), minlength=n_symbols) / x.size
    pairs = x[:, :-1] * n_symbols + x[:, 1:]
    counts = np.bincount(pairs.ravel(), minlength=n_symbols**2).reshape(n_symbols, n_symbols)
    rows = counts.sum(1, keepdims=True)
    trans = np.where(rows > 0, counts / np.maximum(rows, 1), 1.0 / n_symbols)
    return {"frequencies": freq, "transitions": trans}
