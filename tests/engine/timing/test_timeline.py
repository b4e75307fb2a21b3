"""Cross-market, cross-currency simulation against a slow plain-Python reference and by hand.

The reference walks the same events a user would list on paper - each US session's open (a fill),
each ASX session's close (a valuation) - in UTC order, keeps cash in AUD, converts with the last
AUD/USD fixing, and accrues the RBA rate over calendar days. It shares no code with the engine's
timeline or kernels.
"""

from __future__ import annotations

import math

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from engine.errors import ConfigError, DataError
from engine.feeds.marketdata import load_folder
from engine.sim.simulate import Costs, simulate_steps
from engine.timing.timeline import build_steps, fx_to_base

START, END = "2024-03-01", "2024-05-31"


def _write_folder(tmp_path, seed: int):
    rng = np.random.default_rng(seed)
    nyse = xcals.get_calendar("XNYS", start="2024-01-01").sessions_in_range(START, END)
    days = pd.bdate_range("2024-02-01", END)  # FX and rates start before the first fill
    frames = {}
    for key in ("RUT", "SPX"):
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(nyse))))
        opens = close * np.exp(rng.normal(0, 0.003, len(nyse)))
        frames[key] = pd.DataFrame(
            {
                "date": nyse.strftime("%Y-%m-%d"),
                "open": opens,
                "high": np.maximum(opens, close) * 1.01,
                "low": np.minimum(opens, close) * 0.99,
                "close": close,
            }
        )
    fx = 0.66 * np.exp(np.cumsum(rng.normal(0, 0.005, len(days))))
    frames["AUDUSD"] = pd.DataFrame(
        {"date": days.strftime("%Y-%m-%d"), "open": fx, "high": fx, "low": fx, "close": fx}
    )
    rate = np.where(days < "2024-04-15", 4.35, 4.10)
    frames["RBA_CASH"] = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "value": rate})
    (tmp_path / "instruments.toml").write_text(
        '[SPX]\nname = "S&P 500"\nkind = "index"\ncurrency = "USD"\ncalendar = "XNYS"\n'
        'tz = "America/New_York"\nreturns = "price"\nknown = "session_close"\n'
    )
    for key, frame in frames.items():
        frame.to_csv(tmp_path / f"{key}.csv", index=False)
    return load_folder(tmp_path, list(frames)), nyse


def _reference(market, assets, fill_labels, targets, fees, init_cash):
    """Plain-Python AUD portfolio of USD assets filled at NYSE opens, valued at ASX closes."""
    nyse = xcals.get_calendar("XNYS", start="2024-01-01")
    asx = xcals.get_calendar("XASX", start="2024-01-01")
    events = [(nyse.session_open(d), 0, i) for i, d in enumerate(fill_labels)]
    val_days = asx.sessions_in_range(fill_labels[0], fill_labels[-1])
    events += [(asx.session_close(d), 1, d) for d in val_days]
    events.sort(key=lambda e: (e[0], e[1]))
    fx = market["AUDUSD"].frame["close"]
    fx_known = [
        pd.Timestamp(d.strftime("%Y-%m-%d") + " 23:00", tz="Europe/London") for d in fx.index
    ]
    rates = market["RBA_CASH"].frame["value"]

    def aud_per_usd(at):
        known = [v for t, v in zip(fx_known, fx, strict=True) if t <= at]
        return 1.0 / known[-1]

    def last_close(key, at):
        frame = market[key].frame
        known = [
            c
            for d, c in zip(frame.index, frame["close"], strict=True)
            if nyse.session_close(d) <= at
        ]
        return known[-1] if known else math.nan

    cash, units, equity, prev_day = init_cash, dict.fromkeys(assets, 0.0), [], None
    for at, kind, x in events:
        if kind == 1:
            if prev_day is not None:
                rate = rates[rates.index <= prev_day].iloc[-1] / 100
                cash *= 1 + rate * (x - prev_day).days / 365
            prev_day = x
            rate_fx = aud_per_usd(at)
            equity.append(
                cash + sum(units[a] * last_close(a, at) * rate_fx for a in assets if units[a])
            )
            continue
        if np.isnan(targets[x]).all():
            continue
        rate_fx = aud_per_usd(at)
        price = {a: market[a].frame.loc[fill_labels[x], "open"] * rate_fx for a in assets}
        value = cash + sum(units[a] * price[a] for a in assets)
        wanted = {a: targets[x][j] * value - units[a] * price[a] for j, a in enumerate(assets)}
        for a in sorted(assets, key=lambda a: wanted[a]):
            traded = abs(wanted[a])
            if wanted[a] < 0:
                cash += traded * (1 - fees)
            else:
                traded = min(traded, cash / (1 + fees))
                cash -= traded * (1 + fees)
            units[a] += math.copysign(traded, wanted[a]) / price[a]
    return pd.Series(equity, val_days)


@pytest.mark.parametrize("seed", range(6))
def test_aud_portfolio_of_us_assets_matches_the_reference(tmp_path, seed):
    market, nyse = _write_folder(tmp_path, seed)
    assets = ("RUT", "SPX")
    rng = np.random.default_rng(100 + seed)
    targets = rng.dirichlet([1, 1, 1], size=len(nyse))[:, :2]
    targets[rng.random(len(nyse)) < 0.8] = np.nan
    targets[0] = [0.5, 0.3]
    steps = build_steps(market, assets, "XNYS", "AUD", nyse, "open")
    sim = simulate_steps(steps, targets, assets, Costs(fees_bps=10.0), 1000.0)
    expected = _reference(market, assets, nyse, targets, 0.001, 1000.0)
    assert sim.equity.index.equals(expected.index)
    np.testing.assert_allclose(sim.equity.to_numpy(), expected.to_numpy(), rtol=1e-10)


def test_hand_worked_aud_investor_buying_a_us_asset(tmp_path):
    # 2024-03-04 (Mon): the NYSE opens at 14:30 UTC = 01:30 Tue Sydney, after the ASX Monday close,
    # so the ASX Monday valuation is all cash (1000, no interest on the first valuation day).
    # The fill uses AUD/USD fixed Friday 2024-03-01 23:00 London (Monday's fixing comes later, at
    # 23:00 UTC): buy 1000 AUD of RUT at open o_0. The ASX Tuesday close (05:00 UTC Tue) values the
    # position at Monday's US close c_0 and Monday's fixing, plus nothing in cash.
    market, nyse = _write_folder(tmp_path, 7)
    steps = build_steps(market, ("RUT",), "XNYS", "AUD", nyse[1:3], "open")
    targets = np.full((2, 1), np.nan)
    targets[0] = 1.0  # bought at the first fill session's open
    sim = simulate_steps(steps, targets, ("RUT",), Costs(), 1000.0)
    rut, fx = market["RUT"].frame, market["AUDUSD"].frame["close"]
    units = 1000.0 * fx.loc["2024-03-01"] / rut.loc["2024-03-04", "open"]
    expected_tue = units * rut.loc["2024-03-04", "close"] / fx.loc["2024-03-04"]
    assert sim.equity.loc["2024-03-04"] == pytest.approx(1000.0)
    assert sim.equity.loc["2024-03-05"] == pytest.approx(expected_tue, rel=1e-12)


def test_missing_fx_pair_is_a_clear_error(tmp_path):
    market, _ = _write_folder(tmp_path, 1)
    with pytest.raises(ConfigError, match="FX series quoting USD/JPY"):
        fx_to_base(market, "JPY", "USD", np.array([0], dtype=np.int64))


def test_fx_unknown_at_the_first_fill_is_a_clear_error(tmp_path):
    market, nyse = _write_folder(tmp_path, 1)
    early = xcals.get_calendar("XNYS", start="2024-01-01").sessions_in_range("2024-01-29", END)
    with pytest.raises(DataError, match="no FX rate is known at 2024-01-29"):
        build_steps(market, ("RUT",), "XNYS", "AUD", early, "open")
