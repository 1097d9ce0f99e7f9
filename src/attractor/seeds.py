"""One seed, named random streams.

A run's integer seed becomes a :class:`numpy.random.SeedSequence`; every consumer of randomness
asks for its own stream by name and gets an independent generator::

    seeds = Seeds(0)
    rng = seeds.numpy("noise/train")     # numpy Generator for the training part's noise
    gen = seeds.torch("batches")         # torch Generator for the training windows
    with seeds.torch_default("init"):    # torch.nn.init draws from torch's default generator:
        model = create("shplrnn", 3)     #   fork it, seed it from the stream, restore it after

Stream ``name`` is ``SeedSequence(seed, spawn_key=(crc32(name),))`` — the child a
``SeedSequence(seed).spawn`` would give at that key, but found by name, so streams do not depend
on the order in which they are asked for, and adding a stream never shifts another. Nothing here
draws from, or leaves a change in, a global generator.

Stream names in use (one place, so two consumers never share a stream by accident):

=====================  =====================================================================
``noise/train``        observation noise on the training part (:mod:`attractor.data.pipeline`)
``noise/val``          observation noise on the validation part
``init``               model initialisation (:func:`attractor.train.recipes.build_model`)
``batches``            training windows and window noise (:func:`attractor.train.loop.train`)
``validation``         noise matched to the data in validation free runs
``task/init``          a memory-task network's initialisation (:mod:`attractor.api.task`)
``task/sequences``     training sequences of a curriculum (:mod:`attractor.tasks.curricula`)
``task/test``          test sequences of a curriculum
``hmm/...``            the HMM-emulation streams (:mod:`attractor.tasks.hmm`)
=====================  =====================================================================
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from attractor.errors import ConfigError

if TYPE_CHECKING:
    import torch

#: Largest integer handed to libraries that take an integer seed (torch takes 64-bit seeds).
MAX_SEED = 2**63 - 1


def check_seed(seed: Any, name: str = "seed") -> int:
    """``seed`` as a non-negative int, or a ConfigError naming ``name``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"{name} must be a non-negative integer, got {seed!r}.")
    return int(seed)


@dataclass(frozen=True)
class Seeds:
    """Named, independent random streams derived from one integer ``seed``."""

    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", check_seed(self.seed))

    def sequence(self, name: str) -> np.random.SeedSequence:
        """The SeedSequence of stream ``name``."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a random stream needs a non-empty name, got {name!r}.")
        return np.random.SeedSequence(self.seed, spawn_key=(zlib.crc32(name.encode()),))

    def numpy(self, name: str) -> np.random.Generator:
        """A fresh numpy Generator for stream ``name``."""
        return np.random.default_rng(self.sequence(name))

    def integer(self, name: str) -> int:
        """A 63-bit integer seed for stream ``name`` (for libraries that take an int)."""
        return int(self.sequence(name).generate_state(1, np.uint64)[0] & np.uint64(MAX_SEED))

    def torch(self, name: str, device: Any = "cpu") -> torch.Generator:
        """A fresh torch Generator for stream ``name``."""
        import torch

        return torch.Generator(device=device).manual_seed(self.integer(name))

    @contextlib.contextmanager
    def torch_default(self, name: str) -> Iterator[None]:
        """Seed torch's default (CPU) generator from stream ``name`` inside the block only.

        For code that draws from the default generator and cannot be handed one — the
        ``torch.nn.init`` functions every ``nn.Module`` constructor calls. The caller's generator
        state is restored on exit (:func:`torch.random.fork_rng`).
        """
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.integer(name))
            yield

    def child(self, name: str) -> Seeds:
        """Streams of a sub-task (a restart, a job) that stay independent of this one's."""
        return Seeds(self.integer(name))
