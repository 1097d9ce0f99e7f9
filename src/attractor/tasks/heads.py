"""Task networks: a recurrent core and any number of linear readout heads.

::

    h_1 … h_T = core(x_1 … x_T)                 x: (B, T, K) → h: (B, T, H)
    logits_j  = V_j h_T + c_j,   j = 1 … n_heads   → (B, n_heads, 2)

A core is a :class:`~attractor.models.base.DynamicalModel` from the model registry with external
inputs, adapted by :class:`DynamicalCore` (its ``run`` over the input sequence: the leaky RNN's
one-``addmm``-per-step loop, the base class's ``step`` loop otherwise), so memory tasks use the
same models, constraints (``constrain``) and timescales (``timescales``) as everything else.

One adapter is named apart: in memory tasks ``gru`` and ``lstm`` mean :class:`TorchRNNCore`, i.e.
``torch.nn.GRU`` / ``torch.nn.LSTM`` with their fused C++ loops (much faster on CPU than a Python
step loop), *not* the registry's :class:`~attractor.models.gated.GRU` / ``LSTM`` that
``attractor fit`` trains. The equations are the same, but PyTorch's cells have two bias vectors
and another initialisation order, so switching would change every published GRU/LSTM task
number and break their checkpoints; :data:`TORCH_CORES` is the whole exception.

Heads are added one at a time (:meth:`TaskNetwork.add_head`), which is what the multi-head
curriculum needs. Checkpoints are safetensors files whose metadata names the core and its config
and the number of heads, so :func:`load_task_network` rebuilds the network without executing
code.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from attractor.errors import ConfigError, RunError, UnknownNameError, did_you_mean
from attractor.io import read_safetensors, write_safetensors
from attractor.models.base import DirectFit, DynamicalModel
from attractor.models.registry import create, from_config, get_entry, model_names

#: Task-core names that mean PyTorch's fused cells (:class:`TorchRNNCore`), not registry models.
TORCH_CORES: dict[str, type[nn.RNNBase]] = {"gru": nn.GRU, "lstm": nn.LSTM}
#: The cores the CLI offers (any registry model trained by gradient also works).
CORES = ("leaky", *TORCH_CORES)


class RecurrentCore(Protocol):
    """What a task network needs from its recurrent part."""

    kind: str
    n_inputs: int
    hidden_size: int

    def __call__(self, x: Tensor) -> Tensor: ...

    def final_state(self, x: Tensor) -> Tensor: ...

    def config(self) -> dict[str, Any]: ...

    def constrain(self) -> None: ...

    def timescales(self) -> Tensor | None: ...


class DynamicalCore(nn.Module):
    """A :class:`DynamicalModel` with external inputs as a core: states of all M units.

    ``kind`` is the registry name the model was built from (default: the class's own)."""

    def __init__(self, model: DynamicalModel, kind: str | None = None) -> None:
        super().__init__()
        if model.n_inputs < 1:
            raise ConfigError(f"a {model.kind!r} core needs external inputs (n_inputs ≥ 1).")
        if isinstance(model, DirectFit):
            raise ConfigError(
                f"a {model.kind!r} model is fitted in closed form, not by gradient descent, so "
                "it cannot be a memory-task core; use leaky, gru or lstm."
            )
        self.model = model
        self.kind = kind or model.kind
        self.n_inputs = model.n_inputs
        self.hidden_size = model.latent_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.model.run(x)

    def final_state(self, x: Tensor) -> Tensor:
        """``h_T`` ``(B, M)`` (the model's :meth:`~DynamicalModel.final_state`)."""
        return self.model.final_state(x)

    def constrain(self) -> None:
        self.model.constrain()

    def timescales(self) -> Tensor | None:
        return self.model.timescales()

    def config(self) -> dict[str, Any]:
        return self.model.config()


class TorchRNNCore(nn.Module):
    """``torch.nn.GRU`` / ``torch.nn.LSTM`` (one layer, batch first) as a core; zero start state.

    The one task core that is not a registry model (module docstring)."""

    def __init__(self, kind: str, n_inputs: int = 1, hidden_size: int = 128) -> None:
        super().__init__()
        if kind not in TORCH_CORES:
            raise UnknownNameError(f"unknown torch RNN core {kind!r}; use 'gru' or 'lstm'.")
        self.kind = kind
        self.n_inputs = int(n_inputs)
        self.hidden_size = int(hidden_size)
        self.rnn = TORCH_CORES[kind](n_inputs, hidden_size, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.rnn(x)[0]

    def final_state(self, x: Tensor) -> Tensor:
        """``h_T`` ``(B, M)``."""
        return self.rnn(x)[0][:, -1]

    def constrain(self) -> None:
        """No constraints on PyTorch's cells."""

    def timescales(self) -> Tensor | None:
        """PyTorch's cells have no single-unit timescales."""
        return None

    def config(self) -> dict[str, Any]:
        return {"n_inputs": self.n_inputs, "hidden_size": self.hidden_size}


def _known_core(kind: str) -> str:
    key = kind.lower()
    if key in TORCH_CORES:
        return key
    try:
        get_entry(key)
    except UnknownNameError:
        raise UnknownNameError(
            f"unknown model {kind!r} for memory tasks; choose one of {', '.join(CORES)} (or "
            "another registry model trained by gradient)."
            + did_you_mean(kind, [*CORES, *model_names()])
        ) from None
    return key


def build_core(
    kind: str, hidden: int, n_inputs: int = 1, nonlinearity: str = "outside"
) -> RecurrentCore:
    """A core by name with ``hidden`` units: ``leaky`` (learnable τ) or any registry model with
    external inputs, built by the registry; ``gru`` / ``lstm``: :class:`TorchRNNCore`.
    ``nonlinearity`` goes to models that take it (the leaky RNN's placement of φ)."""
    key = _known_core(kind)
    if int(hidden) != hidden or hidden < 1:
        raise ConfigError(f"the hidden size must be a positive number of units, got {hidden}.")
    if key in TORCH_CORES:
        return TorchRNNCore(key, n_inputs, hidden)
    entry = get_entry(key)
    if issubclass(entry.cls, DirectFit):
        raise ConfigError(
            f"a {key!r} model is fitted in closed form, not by gradient descent, so it cannot "
            "be a memory-task core; use leaky, gru or lstm."
        )
    kw: dict[str, Any] = {"latent_dim": hidden, "n_inputs": n_inputs}
    if "nonlinearity" in inspect.signature(entry.cls).parameters:
        kw["nonlinearity"] = nonlinearity
    return DynamicalCore(create(key, 1, **kw), key)


def core_from_config(kind: str, config: dict[str, Any]) -> RecurrentCore:
    """Rebuild a core from the ``kind`` and ``config()`` a checkpoint stores."""
    if kind in TORCH_CORES:
        return TorchRNNCore(kind, **config)
    return DynamicalCore(from_config(kind, config), kind)


class TaskNetwork(nn.Module):
    """A recurrent core with ``n_heads`` binary readout heads on the final state."""

    def __init__(self, core: RecurrentCore, n_heads: int = 1, n_classes: int = 2) -> None:
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
        return self.readout(self.core.final_state(x))

    def constrain(self) -> None:
        """Project the core's parameters onto their constraints (after an optimiser step)."""
        self.core.constrain()

    def timescales(self) -> Tensor | None:
        """Trained single-neuron τ ``(H,)`` when the core has them, else ``None``."""
        tau = self.core.timescales()
        return tau.detach() if tau is not None else None

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
    meta = {**net.metadata(), **{k: json.dumps(v) for k, v in (extra or {}).items()}}
    return write_safetensors(path, net.state_dict(), meta)


def load_task_network(path: str | Path, n_heads: int | None = None) -> TaskNetwork:
    """Rebuild a :class:`TaskNetwork` from :func:`save_task_network`'s file.

    ``n_heads``: the head count the caller expects; a different count raises
    :class:`~attractor.errors.ConfigError`.
    """
    path = Path(path)
    if not path.is_file():
        raise RunError(f"checkpoint {path} does not exist.")
    state, meta = read_safetensors(path)
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
