"""The flagship's fused grid path (``RussellFedRotation.grid_weights``) gives exactly the orders of
one ``api.window_targets`` call per combo, on the sample and on hand-picked and random combos."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api import RunConfig, prepare, window_targets
from strategies.russell_fed_rotation import RussellFedRotation, grid_targets_nb


@pytest.fixture(scope="module")
def prepared():
    derails = dict(yield_spike_bp=1, aud_drop=0.01)  # load US10Y and AUDUSD too
    return prepare(RussellFedRotation(**derails), RunConfig(start=None))


def slow(combos, p):
    return np.stack([window_targets(RussellFedRotation(**c), p.ctx, p.rows) for c in combos])


def test_a_small_grid_matches_one_run_per_combo(prepared):
    combos = [
        dict(hold_days=h, cut_window_days=c, record_lookback=r, risk_off=o, weight=w)
        for h, c, r, o, w in itertools.product(
            (1, 20, 60), (0, 30, 90), (0, 250), ("large", "cash"), (1.0, 0.5)
        )
    ]
    fast = RussellFedRotation.grid_weights(prepared.ctx, combos, prepared.rows)
    np.testing.assert_array_equal(fast, slow(combos, prepared))
    assert np.isfinite(fast[:, 1:]).any(), "no combo ever changed its target: vacuous"


def test_derails_match_one_run_per_combo(prepared):
    combos = [
        dict(exit_on_hike="on", hold_days=60),
        dict(exit_drawdown=0.05, record_lookback=250, hold_days=60),
        dict(yield_spike_bp=20, yield_window=10, hold_days=60),
        dict(aud_drop=0.03, aud_window=5, hold_days=60),
        dict(hold_days=60),
    ]
    fast = RussellFedRotation.grid_weights(prepared.ctx, combos, prepared.rows)
    np.testing.assert_array_equal(fast, slow(combos, prepared))


@settings(max_examples=20, deadline=None, derandomize=True)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "hold_days": st.integers(1, 120),
                "cut_window_days": st.integers(0, 200),
                "record_lookback": st.sampled_from([0, 5, 60, 500]),
                "risk_off": st.sampled_from(["large", "cash"]),
                "weight": st.sampled_from([0.0, 0.3, 1.0]),
                "exit_drawdown": st.sampled_from([0.0, 0.03]),
            }
        ),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 6000),
)
def test_random_combos_and_windows_match(prepared, combos, start):
    rows = prepared.ctx.labels.size
    window = np.arange(start, min(start + 400, rows))
    fast = RussellFedRotation.grid_weights(prepared.ctx, combos, window)
    expected = np.stack(
        [window_targets(RussellFedRotation(**c), prepared.ctx, window) for c in combos]
    )
    np.testing.assert_array_equal(fast, expected)


def test_kernel_by_hand():
    fired = np.array([[0, 1, 0, 0, 0, 0]], dtype=np.bool_)
    exits = np.array([[0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0]], dtype=np.bool_)
    out = grid_targets_nb(
        fired,
        exits,
        np.array([0, 0]),
        np.array([0, 1]),
        np.array([3, 3]),
        np.array([1.0, 0.5]),
        np.array([1.0, 0.0]),
        np.arange(6),
    )
    nan = np.nan
    np.testing.assert_array_equal(
        out[0], [[0, 1], [1, 0], [nan, nan], [nan, nan], [0, 1], [nan, nan]]
    )
    np.testing.assert_array_equal(
        out[1], [[0, 0], [0.5, 0], [nan, nan], [0, 0], [nan, nan], [nan, nan]]
    )
