"""One seed, named random streams (attractor.seeds): reproducible, independent, order-free, and
never touching torch's global generator."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from attractor.errors import ConfigError
from attractor.seeds import MAX_SEED, Seeds

names = st.text(min_size=1, max_size=20)
seeds = st.integers(min_value=0, max_value=2**64 - 1)


@given(seeds, names)
def test_a_stream_is_the_seed_sequence_child_at_its_name(seed, name):
    want = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),))
    got = Seeds(seed).sequence(name)
    assert got.entropy == want.entropy and got.spawn_key == want.spawn_key
    a = Seeds(seed).numpy(name).standard_normal(4)
    np.testing.assert_array_equal(a, np.random.default_rng(want).standard_normal(4))
    assert 0 <= Seeds(seed).integer(name) <= MAX_SEED


def test_streams_do_not_depend_on_the_order_they_are_asked_for():
    s = Seeds(7)
    first = [s.numpy(n).random(3) for n in ("init", "batches", "noise/train")]
    second = [s.numpy(n).random(3) for n in ("noise/train", "init", "batches")]
    np.testing.assert_array_equal(first[0], second[1])
    np.testing.assert_array_equal(first[2], second[0])


def test_different_names_and_seeds_give_different_streams():
    draws = {
        (seed, name): tuple(Seeds(seed).numpy(name).integers(0, 2**62, 4))
        for seed in (0, 1, 2)
        for name in ("init", "batches", "noise/train", "noise/val")
    }
    assert len(set(draws.values())) == len(draws)
    assert Seeds(0).child("restart/0") != Seeds(0).child("restart/1")


def test_torch_streams_are_reproducible_generators():
    a = torch.randn(5, generator=Seeds(3).torch("batches"))
    b = torch.randn(5, generator=Seeds(3).torch("batches"))
    c = torch.randn(5, generator=Seeds(3).torch("init"))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_torch_default_seeds_inside_the_block_and_restores_the_caller_state():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    with Seeds(5).torch_default("init"):
        inside = torch.randn(3)
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's state is untouched
    with Seeds(5).torch_default("init"):
        again = torch.randn(3)
    assert torch.equal(inside, again)
    with Seeds(6).torch_default("init"):
        other = torch.randn(3)
    assert not torch.equal(inside, other)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", None, True])
def test_a_bad_seed_is_one_sentence(bad):
    with pytest.raises(ConfigError, match="seed must be a non-negative integer"):
        Seeds(bad)


def test_a_stream_needs_a_name():
    with pytest.raises(ConfigError, match="non-empty name"):
        Seeds(0).sequence("")
