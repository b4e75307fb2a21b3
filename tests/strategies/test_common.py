"""Shared strategy pieces (``strategies.common``): each kernel against hand-worked cases and a slow
plain-Python version; features against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.common import (
    hold_1d_nb,
    hold_from_checks,
    hysteresis_1d_nb,
    moving_average,
    period_starts,
    running_high_1d_nb,
    small_or_risk_off,
    trailing_change,
    trailing_return,
)


def b(xs) -> np.ndarray:
    return np.asarray(xs, dtype=np.bool_)


@pytest.mark.parametrize(
    "fired,exits,hold,expected",
    [
        ([0, 1, 0, 0, 0], [0, 0, 0, 0, 0], 2, [0, 1, 1, 0, 0]),
        ([0, 1, 0, 0, 0], [0, 0, 1, 0, 0], 3, [0, 1, 0, 0, 0]),  # a derail ends the hold
        ([0, 1, 0, 0, 0], [0, 1, 0, 0, 0], 3, [0, 0, 0, 0, 0]),  # ... and wins a tie
        ([0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 0, 0], 2, [0, 1, 0, 1, 1, 0]),  # re-entry after a derail
        ([1, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0], 2, [1, 1, 1, 1, 0, 0]),  # a fresh signal extends
        ([0, 0, 0], [1, 1, 1], 5, [0, 0, 0]),  # derails outside a hold change nothing
    ],
)
def test_hold_by_hand(fired, exits, hold, expected):
    assert hold_1d_nb(b(fired), b(exits), hold).astype(int).tolist() == expected


def hold_slow(fired, exits, hold):
    out, left = [], 0
    for f, e in zip(fired, exits, strict=True):
        left = 0 if e else (hold if f else left)
        out.append(left > 0)
        left = max(left - 1, 0)
    return out


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.booleans(), st.booleans()), min_size=0, max_size=40),
    st.integers(1, 6),
)
def test_hold_matches_plain_python(pairs, hold):
    fired = b([p[0] for p in pairs])
    exits = b([p[1] for p in pairs])
    assert hold_1d_nb(fired, exits, hold).tolist() == hold_slow(fired, exits, hold)


@pytest.mark.parametrize(
    "enter,leave,start,expected",
    [
        ([0, 1, 0, 0, 0], [0, 0, 0, 1, 0], False, [0, 1, 1, 0, 0]),
        ([0, 0, 0], [0, 1, 0], True, [1, 0, 0]),
        ([1, 1, 0], [0, 1, 0], False, [1, 0, 0]),  # leave wins a tie
    ],
)
def test_hysteresis_by_hand(enter, leave, start, expected):
    assert hysteresis_1d_nb(b(enter), b(leave), start).astype(int).tolist() == expected


@pytest.mark.parametrize(
    "close,lookback,expected",
    [
        ([1, 3, 2, 5, 4], 0, [1, 3, 3, 5, 5]),
        ([1, 3, 2, 5, 4, 1, 1], 1, [1, 3, 3, 5, 5, 4, 1]),
        ([4, 1, 2, 3], 2, [4, 4, 4, 3]),
    ],
)
def test_running_high_by_hand(close, lookback, expected):
    out = running_high_1d_nb(np.asarray(close, dtype=np.float64), lookback)
    assert out.tolist() == expected


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.floats(1, 1e4), min_size=1, max_size=50), st.integers(0, 10))
def test_running_high_matches_pandas(close, lookback):
    s = pd.Series(close)
    expected = s.cummax() if lookback == 0 else s.rolling(lookback + 1, min_periods=1).max()
    out = running_high_1d_nb(np.asarray(close, dtype=np.float64), lookback)
    np.testing.assert_array_equal(out, expected.to_numpy())


def test_features_match_pandas():
    rng = np.random.default_rng(3)
    s = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300))))
    for n in (1, 5, 60):
        np.testing.assert_allclose(trailing_return(s.to_numpy(), n), s.pct_change(n), rtol=1e-12)
        np.testing.assert_allclose(trailing_change(s.to_numpy(), n), s.diff(n), rtol=1e-12)
        np.testing.assert_allclose(moving_average(s.to_numpy(), n), s.rolling(n).mean(), rtol=1e-9)


def test_features_on_short_series_are_nan_not_errors():
    short = np.array([1.0, 2.0])
    assert np.isnan(trailing_return(short, 5)).all() and np.isnan(moving_average(short, 5)).all()
    assert trailing_return(np.array([]), 3).size == 0 and moving_average(np.array([]), 3).size == 0


def test_period_starts():
    labels = pd.DatetimeIndex(
        ["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-04-02"]
    )
    assert period_starts(labels, "monthly").tolist() == [True, False, True, False, True]
    assert period_starts(labels, "quarterly").tolist() == [True, False, False, False, True]
    assert period_starts(labels, "daily").all()
    assert period_starts(labels, "yearly").tolist() == [True, False, False, False, False]


def test_hold_from_checks():
    check = b([1, 0, 0, 1, 0])
    value = b([1, 0, 0, 0, 1])
    assert hold_from_checks(check, value).tolist() == [True, True, True, False, False]


def test_small_or_risk_off_layout():
    on = b([1, 0])
    np.testing.assert_array_equal(small_or_risk_off(on, 0.5, "large"), [[0.5, 0.5], [0, 1]])
    np.testing.assert_array_equal(small_or_risk_off(on, 0.5, "cash"), [[0.5, 0], [0, 0]])
