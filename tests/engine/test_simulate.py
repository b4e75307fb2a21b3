"""The simulation kernel against vectorbt (the oracle), a slow reference, and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import vectorbt as vbt

from engine.simulate import simulate, simulate_sessions


def _random_case(seed: int):
    rng = np.random.default_rng(seed)
    t_len, n = int(rng.integers(3, 400)), int(rng.integers(1, 6))
    rets = rng.standard_t(4, size=(t_len, n)) * 0.015
    close = 50 * np.exp(np.cumsum(rets, axis=0))
    close[rng.random((t_len, n)) < 0.03] = np.nan  # quote gaps
    close[0] = np.where(np.isnan(close[0]), 50.0, close[0])
    w = rng.dirichlet(np.ones(n + 1), size=t_len)[:, :n]  # leave some cash
    w[rng.random(t_len) < 0.7] = np.nan  # rebalance on ~30 % of bars
    idx = pd.bdate_range("2020-01-01", periods=t_len)
    cols = [f"a{j}" for j in range(n)]
    fees = float(rng.choice([0.0, 5.0, 25.0]))
    return pd.DataFrame(close, idx, cols), pd.DataFrame(w, idx, cols), fees


@pytest.mark.parametrize("seed", range(200))
def test_equity_matches_vectorbt_from_orders(seed):
    close, w, fees_bps = _random_case(seed)
    ours = simulate_sessions(close, close, w, fees_bps=fees_bps, init_cash=100.0)
    pf = vbt.Portfolio.from_orders(
        close.ffill(),
        w,
        size_type="targetpercent",
        price=close,
        fees=fees_bps * 1e-4,
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        init_cash=100.0,
        freq="1D",
    )
    np.testing.assert_allclose(ours.equity.to_numpy(), pf.value().to_numpy(), rtol=1e-9)
    assert len(ours.orders) == pf.orders.count()


def test_hand_worked_three_bars_with_fees():
    # bar 0: buy 100 % of 1000 at 10 with 1 % fee -> units = 1000 / 10.1 = 99.0099..
    # bar 1: close 11 -> equity = 99.0099 * 11 = 1089.1089
    # bar 2: sell all at 12 -> proceeds 1188.1188, fee 11.8812 -> cash 1176.2376
    close = pd.DataFrame({"a": [10.0, 11.0, 12.0]}, pd.bdate_range("2024-01-01", periods=3))
    w = pd.DataFrame({"a": [1.0, np.nan, 0.0]}, close.index)
    res = simulate_sessions(close, close, w, init_cash=1000.0, fees_bps=100.0)
    units = 1000 / 10.1
    expected = [units * 10, units * 11, units * 12 * 0.99]
    np.testing.assert_allclose(res.equity.to_numpy(), expected, rtol=1e-12)
    assert list(res.orders["units"].round(6)) == [round(units, 6), round(-units, 6)]
    np.testing.assert_allclose(res.orders["fee"], [1000 - units * 10, units * 12 * 0.01])


def test_public_simulate_fills_at_next_session():
    close = pd.DataFrame({"a": [10.0, 20.0, 40.0, 40.0]}, pd.bdate_range("2024-01-01", periods=4))
    w = pd.DataFrame({"a": [1.0, np.nan, np.nan, np.nan]}, close.index)
    res = simulate(close, w, init_cash=1.0)
    # decided at bar 0's close, bought at bar 1's close (20): 0.05 units -> 2.0 at bar 2
    np.testing.assert_allclose(res.equity.to_numpy(), [1.0, 1.0, 2.0, 2.0])


def test_zero_weights_grow_cash_only_by_interest():
    close = pd.DataFrame({"a": [10.0, 5.0, 20.0]}, pd.bdate_range("2024-01-01", periods=3))
    w = pd.DataFrame({"a": [0.0, 0.0, 0.0]}, close.index)
    res = simulate_sessions(close, close, w, accrual=np.array([0.0, 0.001, 0.002]))
    np.testing.assert_allclose(res.equity.to_numpy(), [1.0, 1.001, 1.001 * 1.002])
    assert res.orders.empty


def test_costs_never_help():
    close, w, _ = _random_case(7)
    free = simulate_sessions(close, close, w, fees_bps=0.0).equity
    costly = simulate_sessions(close, close, w, fees_bps=10.0, slippage_bps=5.0).equity
    assert (costly.to_numpy() <= free.to_numpy() * (1 + 1e-12)).all()


def test_cash_plus_positions_equal_equity():
    close, w, fees = _random_case(11)
    res = simulate_sessions(close, close, w, fees_bps=fees)
    held = (res.units * close.ffill()).sum(axis=1)
    np.testing.assert_allclose((res.cash + held).to_numpy(), res.equity.to_numpy(), rtol=1e-12)
    assert (res.cash >= 0).all()
