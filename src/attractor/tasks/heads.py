"""Task networks: a recurrent core and any number of linear readout heads.

::

    h_1 … h_T = core(x_1 … x_T)                 x: (B, T, K) → h: (B, T, H)
    logits_j  = V_j h_T + c_j,   j = 1 … n_heads   → (B, n_heads, 2)

A core is anything with ``n_inputs``, ``hidden_size``, ``forward(x (B, T, K)) → (B, T, H)``,
``kind`` and ``config()``; :class:`DynamicalCore` adapts any
:class:`~attractor.models.base.DynamicalModel` with external inputs (its fast ``run`` when it has
one, else ``step`` in a loop), so the leaky RNN and later GRU/LSTM ``DynamicalModel`` s plug in
unchanged; :class:`TorchRNNCore` wraps ``torch.nn.GRU`` / ``torch.nn.LSTM`` (their fused C++
loops are much faster on CPU than a Python step loop). Heads are added one at a time
(:meth:`TaskNetwork.add_head`), which is what the multi-head curriculum needs.

Checkpoints are safetensors files whose metadata names the core and its config and the number of
heads, so :func:`load_task_network` rebuilds the network without executing code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from attractor.errors import ConfigError, RunError, UnknownNameError, did_you_mean
from attractor.models.base import DynamicalModel

CORES = ("leaky", "gru", "lstm")


class RecurrentCore(Protocol):
    """What a task network needs from its recurrent part."""

    kind: str
    n_inputs: int
    hidden_size: int

    def __call__(self, x: Tensor) -> Tensor: ...

    def config(self) -> dict[str, Any]: ...


class DynamicalCore(nn.Module):
    """A :class:`DynamicalModel` with external inputs as a core: states of all M units."""

    def __init__(self, model: DynamicalModel) -> None:
        super().__init__()
        if model.n_inputs < 1:
            raise ConfigError(f"a {model.kind!r} core needs external inputs (n_inputs ≥ 1).")
        self.model = model
        self.kind = model.kind
        self.n_inputs = model.n_inputs
        self.hidden_size = model.latent_dim

    def forward(self, x: Tensor) -> Tensor:
        run = getattr(self.model, "run", None)
        if run is not None:
            return run(x)
        h = x.new_zeros(x.shape[0], self.hidden_size)
        out = []
        for t in range(x.shape[1]):
            h = self.model.step(h, x[:, t])
            out.append(h)
        return torch.stack(out, dim=1)

    def constrain(self) -> None:
        fn = getattr(self.model, "constrain", None)
        if fn is not None:
            fn()

    def config(self) -> dict[str, Any]:
        return self.model.config()


class TorchRNNCore(nn.Module):
    """``torch.nn.GRU`` / ``torch.nn.LSTM`` (one layer, batch first) as a core; zero start state."""

    def __init__(self, kind: str, n_inputs: int = 1, hidden_size: int = 128) -> None:
        super().__init__()
        if kind not in ("gru", "lstm"):
            raise UnknownNameError(f"unknown torch RNN core {kind!r}; use 'gru' or 'lstm'.")
        cls = nn.GRU if kind == "gru" else nn.LSTM
        self.kind = kind
        self.n_inputs = int(n_inputs)
        self.hidden_size = int(hidden_size)
        self.rnn = cls(n_inputs, hidden_size, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.rnn(x)[0]

    def config(self) -> dict[str, Any]:
        return {"n_inputs": self.n_inputs, "hidden_size": self.hidden_size}


def build_core(
    kind: str, hidden: int, n_inputs: int = 1, nonlinearity: str = "outside"
) -> nn.Module:
    """A core by name: ``leaky`` (learnable τ), ``gru`` or ``lstm``, with ``hidden`` units."""
    key = kind.lower()
    if key not in CORES:
        raise UnknownNameError(
            f"unknown model {kind!r} for memory tasks; choose one of {', '.join(CORES)}."
            + did_you_mean(kind, CORES)
        )
    if int(hidden) != hidden or hidden < 1:
        raise ConfigError(f"the hidden size must be a positive number of units, got {hidden}.")
    if key == "leaky":
        from attractor.models.leaky import LeakyRNN

        return DynamicalCore(
            LeakyRNN(obs_dim=1, latent_dim=hidden, n_inputs=n_inputs, nonlinearity=nonlinearity)
        )
    return TorchRNNCore(key, n_inputs, hidden)


def core_from_config(kind: str, config: dict[str, Any]) -> nn.Module:
    if kind == "leaky":
        from attractor.models.leaky import LeakyRNN

        return DynamicalCore(LeakyRNN(**config))
    if kind in ("gru", "lstm"):
        return TorchRNNCore(kind, **config)
    from attractor.models.registry import from_config

    return DynamicalCore(from_config(kind, config))


class TaskNetwork(nn.Module):
    """A recurrent core with ``n_heads`` binary readout heads on the final state."""

    def __init__(self, core: nn.Module, n_heads: int = 1, n_classes: int = 2) -> None:
        super().__init__()
        if n_heads < 1:
            raise ConfigError(f"a task network needs at least one head, got {n_heads}.")
        self.core = core
        self.n_classes = int(n_classes)
        self.heads = nn.ModuleList()
        for _ in range(n_heads):
            self.add_head()

    @property
    def n_heads(self) -> int:
        return len(self.heads)

    @property
    def hidden_size(self) -> int:
        return int(self.core.hidden_size)

    def add_head(self) -> nn.Linear:
        """Append a fresh readout head (default ``nn.Linear`` init) and return it."""
        p = next(self.core.parameters())
        head = nn.Linear(self.hidden_size, self.n_classes).to(p.device, p.dtype)
        self.heads.append(head)
        return head

    def readout(self, h: Tensor) -> Tensor:
        """``(B, H)`` → ``(B, n_heads, C)`` logits, one matrix product for all heads."""
        w = torch.cat([hd.weight for hd in self.heads])  # (n_heads·C, H)
        b = torch.cat([hd.bias for hd in self.heads])
        return torch.addmm(b, h, w.T).view(h.shape[0], self.n_heads, self.n_classes)

    def forward(self, x: Tensor) -> Tensor:
        """``x`` ``(B, T, K)`` → logits ``(B, n_heads, C)`` from the final state."""
        return self.readout(self.core(x)[:, -1])

    def constrain(self) -> None:
        fn = getattr(self.core, "constrain", None)
        if fn is not None:
            fn()

    def timescales(self) -> Tensor | None:
        """Trained single-neuron τ ``(H,)`` when the core has them, else ``None``."""
        model = getattr(self.core, "model", None)
        fn = getattr(model, "timescales", None)
        return fn().detach() if fn is not None else None

    def metadata(self) -> dict[str, str]:
        return {
            "core": self.core.kind,
            "core_config": json.dumps(self.core.config()),
            "n_heads": str(self.n_heads),
            "n_classes": str(self.n_classes),
        }


def save_task_network(
    path: str | Path, net: TaskNetwork, extra: dict[str, Any] | None = None
) -> Path:
    """Parameters as safetensors (atomic), with the core, its config and the head count."""
    from safetensors.torch import save

    from attractor.io import atomic_write_bytes

    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    meta = {**net.metadata(), **{k: json.dumps(v) for k, v in (extra or {}).items()}}
    return atomic_write_bytes(path, save(state, metadata=meta))


def load_task_network(path: str | Path, n_heads: int | None = None) -> TaskNetwork:
    """Rebuild a :class:`TaskNetwork` from :func:`save_task_network`'s file.

    ``n_heads``: the head count the caller expects; a different count raises
    :class:`~attractor.errors.ConfigError`.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise RunError(f"checkpoint {path} does not exist.")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
        state = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types
        raise RunError(f"{path} is not a readable safetensors checkpoint ({exc}).") from None
    if "core" not in meta or "n_heads" not in meta:
        raise RunError(f"{path} is not a task-network checkpoint (no core or head count).")
    have = int(meta["n_heads"])
    if n_heads is not None and n_heads != have:
        raise ConfigError(
            f"{path} holds a network with {have} head(s) but {n_heads} were asked for; "
            "use a checkpoint with the matching number of heads or change the settings."
        )
    core = core_from_config(meta["core"], json.loads(meta["core_config"]))
    net = TaskNetwork(core, have, int(meta.get("n_classes", 2)))
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise RunError(f"{path} does not match its own description ({exc}).") from None
    return net


def checkpoint_extra(path: str | Path) -> dict[str, Any]:
    """The extra metadata saved with a checkpoint (e.g. N, epoch, accuracies)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata() or {}
    skip = {"core", "core_config", "n_heads", "n_classes"}
    return {k: json.loads(v) for k, v in meta.items() if k not in skip}
