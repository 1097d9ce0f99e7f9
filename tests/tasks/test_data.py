"""Memory-task generators against brute-force definitions, and HMM sampling against exact values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.errors import AttractorError, ConfigError, UnknownNameError
from attractor.tasks.data import (
    length_range,
    make_hmm,
    sample_hmm,
    stationary,
    symbol_statistics,
    task_batch,
)


def brute_parity(bits: list[int], n: int) -> int:
    total = 0
    for b in bits[len(bits) - n :]:
        total ^= b
    return total


def brute_dms(bits: list[int], n: int) -> int:
    return int(bits[len(bits) - 1 - (n - 1)] == bits[len(bits) - 1])


@settings(max_examples=40, deadline=None)
@given(
    task=st.sampled_from(["parity", "dms"]),
    ns=st.lists(st.integers(2, 12), min_size=1, max_size=4),
    seed=st.integers(0, 10_000),
)
def test_labels_match_brute_force(task, ns, seed):
    g = torch.Generator().manual_seed(seed)
    b = task_batch(task, ns, 16, generator=g)
    ref = brute_parity if task == "parity" else brute_dms
    bits = b.inputs[..., 0].long().tolist()
    for i, seq in enumerate(bits):
        for j, n in enumerate(ns):
            assert b.targets[i, j].item() == ref(seq, n)


@settings(max_examples=30, deadline=None)
@given(n_max=st.integers(2, 40), seed=st.integers(0, 1000))
def test_sequence_length_in_published_range(n_max, seed):
    g = torch.Generator().manual_seed(seed)
    lo, hi = length_range(n_max)
    assert (lo, hi) == (n_max + 2, 4 * n_max + 2)
    lengths = {task_batch("parity", [n_max], 2, generator=g).inputs.shape[1] for _ in range(20)}
    assert all(lo <= t < hi for t in lengths)


def test_lengths_cover_the_whole_range():
    g = torch.Generator().manual_seed(0)
    lengths = {task_batch("dms", [3], 1, generator=g).inputs.shape[1] for _ in range(400)}
    assert lengths == set(range(5, 14))


def test_input_statistics():
    g = torch.Generator().manual_seed(1)
    # parity: p ~ U(0,1) per sequence → the per-sequence bit mean is spread like U(0,1)
    x = task_batch("parity", [5], 4000, length=200, generator=g).inputs[..., 0]
    m = x.mean(1)
    assert abs(float(m.mean()) - 0.5) < 0.02
    assert abs(float(m.var()) - 1 / 12) < 0.01  # Var U(0,1) = 1/12 (+ p(1−p)/T ≈ 0.001)
    # DMS: Bernoulli(0.5) bits, independent → per-sequence means concentrate; labels balanced
    b = task_batch("dms", [4], 4000, length=200, generator=g)
    m = b.inputs[..., 0].mean(1)
    assert abs(float(m.mean()) - 0.5) < 0.01 and float(m.var()) < 0.01
    assert abs(float(b.targets.float().mean()) - 0.5) < 0.03
    assert b.inputs.dtype == torch.float32 and b.targets.dtype == torch.int64


def test_shapes_and_reproducibility():
    a = task_batch("parity", [2, 3, 4], 8, generator=torch.Generator().manual_seed(5))
    b = task_batch("parity", [2, 3, 4], 8, generator=torch.Generator().manual_seed(5))
    assert a.inputs.shape[0] == 8 and a.inputs.shape[2] == 1 and a.targets.shape == (8, 3)
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets)


@pytest.mark.parametrize(
    "kw, err",
    [
        ({"task": "parity", "ns": [1]}, ConfigError),
        ({"task": "parity", "ns": []}, ConfigError),
        ({"task": "xor", "ns": [3]}, UnknownNameError),
        ({"task": "dms", "ns": [3], "batch_size": 0}, ConfigError),
        ({"task": "dms", "ns": [9], "length": 4}, ConfigError),
    ],
)
def test_bad_task_input(kw, err):
    kw.setdefault("batch_size", 4)
    with pytest.raises(err) as e:
        task_batch(**kw)
    assert isinstance(e.value, AttractorError) and str(e.value).endswith(".")


# ---------------------------------------------------------------------------- HMMs
@pytest.mark.parametrize("kind", ["linear", "full", "cyclic"])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_hmm_is_a_valid_model(kind, k):
    spec = make_hmm(kind, k)
    assert spec.transmat.shape == (k, k) and spec.emissionprob.shape == (k, 3)
    np.testing.assert_allclose(spec.transmat.sum(1), 1)
    np.testing.assert_allclose(spec.emissionprob.sum(1), 1)
    np.testing.assert_allclose(spec.startprob @ spec.transmat, spec.startprob, atol=1e-12)
    if kind == "linear":  # only neighbours
        i, j = np.nonzero(spec.transmat)
        assert np.all(np.abs(i - j) <= 1)
    if kind == "cyclic":
        assert all(spec.transmat[i, (i + 1) % k] > 0 for i in range(k))


def test_exact_sampler_matches_exact_statistics_and_hmmlearn():
    spec = make_hmm("linear", 3)
    sym, states = sample_hmm(spec, 4000, 50, seed=0)
    stats = symbol_statistics(sym)
    np.testing.assert_allclose(stats["frequencies"], spec.symbol_frequencies(), atol=0.01)
    np.testing.assert_allclose(stats["transitions"], spec.symbol_transitions(), atol=0.02)
    # hidden-state transitions too
    pairs = np.bincount((states[:, :-1] * 3 + states[:, 1:]).ravel(), minlength=9).reshape(3, 3)
    np.testing.assert_allclose(pairs / pairs.sum(1, keepdims=True), spec.transmat, atol=0.01)
    # an independent sampler (hmmlearn) agrees
    hl = spec.to_hmmlearn()
    x, _ = hl.sample(100_000, random_state=1)
    ref = symbol_statistics(x.reshape(1, -1))
    np.testing.assert_allclose(stats["frequencies"], ref["frequencies"], atol=0.02)
    np.testing.assert_allclose(stats["transitions"], ref["transitions"], atol=0.03)
    np.testing.assert_allclose(hl.get_stationary_distribution(), stationary(spec.transmat))


def test_hmm_sampling_is_seeded():
    spec = make_hmm("cyclic", 4)
    a, _ = sample_hmm(spec, 10, 20, seed=3)
    b, _ = sample_hmm(spec, 10, 20, seed=3)
    c, _ = sample_hmm(spec, 10, 20, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("kw", [{"kind": "ring"}, {"n_states": 1}, {"n_states": 6}, {"stay": 1.0}])
def test_bad_hmm_input(kw):
    with pytest.raises(AttractorError):
        make_hmm(**kw)
