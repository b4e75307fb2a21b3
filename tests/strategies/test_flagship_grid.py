"""The flagship's fused grid path (``RussellFedRotation.grid_weights``) gives exactly the orders of
one ``api.window_targets`` call per combo, on the sample and on hand-picked and random combos."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest.run import RunConfig, prepare, window_targets
from engine.rules import kernels
from strategies.russell_fed_rotation import RussellFedRotation


@pytest.fixture(scope="module")
def prepared():
    derails = dict(yield_spike_bp=1, aud_drop=0.01)  # load US10Y and AUDUSD too
    return prepare(RussellFedRotation(**derails), RunConfig(start=None))


def fast_orders(ctx, combos, rows):
    frame = RussellFedRotation.resolve_frame(
        pd.DataFrame([RussellFedRotation.resolve(c) for c in combos])
    )
    return RussellFedRotation.grid_weights(ctx, frame, rows).dense()


def slow(combos, p):
    return np.stack([window_targets(RussellFedRotation(**c), p.ctx, p.rows) for c in combos])


def test_a_small_grid_matches_one_run_per_combo(prepared):
    combos = [
        dict(hold_days=h, cut_window_days=c, record_lookback=r, risk_off=o, weight=w)
        for h, c, r, o, w in itertools.product(
            (1, 20, 60), (0, 30, 90), (0, 250), ("large", "cash"), (1.0, 0.5)
        )
    ]
    fast = fast_orders(prepared.ctx, combos, prepared.rows)
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
    fast = fast_orders(prepared.ctx, combos, prepared.rows)
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
    fast = fast_orders(prepared.ctx, combos, window)
    expected = np.stack(
        [window_targets(RussellFedRotation(**c), prepared.ctx, window) for c in combos]
    )
    np.testing.assert_array_equal(fast, expected)


def test_kernel_by_hand():
    # six decision points; a trigger at 1 holds 3 points (1, 2, 3); combo 1 is derailed at 3
    pts = kernels.Points(np.array([1]), np.array([0, 1]), np.array([1, 4]), np.array([0, 2]),
                         np.array([3]), np.array([0, 0, 1]), np.array([3, 4]),
                         np.array([0, 0, 2]))  # fmt: skip
    combos = kernels.Combos(np.array([0, 0]), np.array([0, 1]), np.array([3, 3]),
                            np.array([[1.0, 0.0], [0.5, 0.0]]),
                            np.array([[0.0, 1.0], [0.0, 0.0]]))  # fmt: skip
    offsets, row, weight = kernels.rule_orders_nb(pts, combos, 0, 5)
    np.testing.assert_array_equal(offsets, [0, 3, 6])
    np.testing.assert_array_equal(row, [0, 1, 4, 0, 1, 3])
    np.testing.assert_array_equal(weight[:3], [[0, 1], [1, 0], [0, 1]])
    np.testing.assert_array_equal(weight[3:], [[0, 0], [0.5, 0], [0, 0]])


def test_back_to_back_holds_and_a_window_inside_a_hold():
    # triggers at 2 and 5 with hold 3 make one hold [2, 8); a window 3..9 starts inside it
    none = np.array([], np.int64)
    pts = kernels.Points(np.array([2, 5]), np.array([0, 2]), none, np.array([0, 0]), none,
                         np.array([0, 0]), none, np.array([0, 0]))  # fmt: skip
    combos = kernels.Combos(np.array([0]), np.array([0]), np.array([3]), np.array([[1.0, 0.0]]),
                            np.array([[0.0, 1.0]]))  # fmt: skip
    offsets, row, weight = kernels.rule_orders_nb(pts, combos, 3, 9)
    np.testing.assert_array_equal(row, [0, 5])  # points 3 (in the hold) and 8 (its end)
    np.testing.assert_array_equal(weight, [[1, 0], [0, 1]])
    offsets, row, weight = kernels.rule_orders_nb(pts, combos, 8, 9)
    np.testing.assert_array_equal(row, [0])  # the hold ended before the window
    np.testing.assert_array_equal(weight, [[0, 1]])
