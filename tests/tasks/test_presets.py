"""Task presets and durations: quick/paper fill what the caller leaves unset; durations parse
with units and must be positive."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attractor.errors import ConfigError, UnknownNameError
from attractor.tasks.presets import HMM_PRESETS, PRESETS, parse_duration, preset, resolve


def test_paper_preset_is_the_published_configuration():
    p = preset("paper")
    assert (p["hidden"], p["batch_size"], p["steps_per_epoch"]) == (500, 256, 600)
    assert p["tau_trials"] * p["tau_steps"] == 100_000  # 10⁵ steps (REFERENCE §4)


def test_resolve_keeps_explicit_values_and_fills_the_rest():
    got = resolve("quick", {"hidden": 64, "batch_size": None, "lr": 0.1})
    assert got["hidden"] == 64 and got["lr"] == 0.1
    assert got["batch_size"] == PRESETS["quick"]["batch_size"]
    assert resolve("PAPER", {}, HMM_PRESETS) == HMM_PRESETS["paper"]
    assert preset("quick") is not PRESETS["quick"]  # a copy


def test_unknown_preset_suggests_the_nearest():
    with pytest.raises(UnknownNameError, match="Did you mean 'paper'"):
        preset("papr")


@given(
    st.floats(min_value=1e-3, max_value=1e5, allow_nan=False),
    st.sampled_from(["", "s", "m", "h"]),
)
def test_durations_scale_by_their_unit(value, unit):
    factor = {"": 1, "s": 1, "m": 60, "h": 3600}[unit]
    text = f"{value!r}{unit}"
    assert parse_duration(text) == pytest.approx(value * factor, rel=1e-12)


@pytest.mark.parametrize("bad", ["0", "-5", "0m", "-1.5h", 0, -2.0])
def test_non_positive_durations_are_refused(bad):
    with pytest.raises(ConfigError, match="positive"):
        parse_duration(bad)


@pytest.mark.parametrize("bad", ["soon", "5 minutes", "1d", "m5", ""])
def test_unparseable_durations_are_refused(bad):
    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration(bad)


def test_none_means_no_budget():
    assert parse_duration(None) is None
