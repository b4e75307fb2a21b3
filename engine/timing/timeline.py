"""The step timeline a simulation runs on: fills in the traded market, valuations in the base market.

This logic lives here, in order:

1. steps - every fill instant (each traded session's open, or close) and every valuation instant
   (each base-calendar session's close) in the window, in time order; a fill and a valuation at
   the same instant share one step, in which the fill comes first, so a close fill is valued at
   that same close;
2. prices - at a fill step each asset's fill price; its mark (for valuation) is the last price known
   at or before the step: the fill price itself at a fill step, the latest close at a valuation step;
3. FX - for each asset in a foreign currency, the base-per-foreign rate last fixed at or before the
   step (inverting the quoted pair where needed); a missing pair is an error naming what to add;
4. cash - interest per valuation step at the base currency's policy rate in force on the previous
   valuation session, over the calendar days between them (ACT/365 for AUD, ACT/360 for USD).

Not here: the accounting (``kernels``) or which instant a strategy decides at (``align``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.errors import ConfigError, DataError
from engine.feeds import calendars
from engine.feeds.marketdata import MarketData

CASH_RATE = {"AUD": ("RBA_CASH", 365.0), "USD": ("FED_TARGET", 360.0)}
VALUATION_CALENDAR = {"AUD": "XASX", "USD": "XNYS"}


@dataclass(frozen=True)
class Steps:
    """Arrays for ``kernels.run_nb`` (via ``simulate.simulate_steps``) plus the labels to put its
    output back on dates."""

    instant_ns: np.ndarray  # (S,) int64 UTC
    is_val: np.ndarray  # (S,) bool
    fill_row: np.ndarray  # (S,) index into ``fill_labels`` at fill steps, else -1
    fill: np.ndarray  # (S, N)
    mark: np.ndarray  # (S, N)
    fx: np.ndarray  # (S, N)
    accrual: np.ndarray  # (S,)
    val_labels: pd.DatetimeIndex  # (V,) base-calendar session dates
    fill_labels: pd.DatetimeIndex  # traded-calendar session dates with a fill step
    val_cash_return: np.ndarray  # (V,) the accrual at each valuation step


def _asof(known_ns: np.ndarray, values: np.ndarray, at_ns: np.ndarray) -> np.ndarray:
    """Latest value known at or before each instant (NaN before the first)."""
    padded = np.concatenate(([np.nan], values.astype(np.float64)))
    return padded[np.searchsorted(known_ns, at_ns, side="right")]


def fx_to_base(market: MarketData, currency: str, base: str, at_ns: np.ndarray) -> np.ndarray:
    """Base-currency units per one unit of ``currency`` at each instant (as last fixed)."""
    if currency == base:
        return np.ones(len(at_ns))
    for s in market.series.values():
        inst = s.instrument
        if inst.kind != "fx" or {inst.base, inst.currency} != {currency, base}:
            continue
        rate = _asof(s.known_ns, s.values.to_numpy(), at_ns)  # inst.currency per inst.base
        return rate if inst.currency == base else 1.0 / rate
    raise ConfigError(
        f"holding a {currency} asset in a {base} portfolio needs an FX series quoting {base}/"
        f"{currency} (e.g. AUDUSD for AUD and USD) in the data folder; add it or change "
        "--base-currency."
    )


def session_days(labels: pd.DatetimeIndex) -> np.ndarray:
    """Calendar days since the previous session (0 for the first), whatever the index's unit."""
    ns = pd.DatetimeIndex(labels).as_unit("ns").asi8
    return np.diff(ns, prepend=ns[:1]) / 86_400e9


def cash_accrual(market: MarketData, base: str, labels: pd.DatetimeIndex) -> np.ndarray:
    """Cash growth at each valuation session: previous session's rate x days / basis."""
    key, basis = CASH_RATE[base]
    series = market[key].values
    rate = series.reindex(labels.union(series.index)).ffill().reindex(labels)
    prev = rate.shift(1).fillna(0.0).to_numpy() / 100.0
    days = session_days(labels)
    return prev * days / basis


def _prices(market: MarketData, assets, labels: pd.DatetimeIndex, col: str) -> np.ndarray:
    out = np.full((len(labels), len(assets)), np.nan)
    for j, key in enumerate(assets):
        frame = market[key].frame
        if col not in frame.columns:
            raise DataError(
                f"{market[key].path}: no '{col}' column for {key}; fills at the {col} need it "
                "(add the column or use --fill close)."
            )
        out[:, j] = frame[col].reindex(labels).to_numpy()
    return out


def build_steps(
    market: MarketData,
    assets: tuple[str, ...],
    traded_calendar: str,
    base: str,
    fill_labels: pd.DatetimeIndex,
    fill: str,
) -> Steps:
    """Steps for trading ``assets`` on ``fill_labels`` sessions, valued on the base calendar."""
    traded = calendars.sessions(traded_calendar)
    pos = traded.labels.get_indexer(fill_labels)
    fill_ns = (traded.open_ns if fill == "open" else traded.close_ns)[pos]
    val = calendars.sessions(VALUATION_CALENDAR[base])
    val = val.between(fill_labels[0], fill_labels[-1])
    # One step per distinct instant: a close fill in the base market shares its step with that
    # session's valuation (interest accrues on the cash held until then, then the fill, then
    # the valuation), which also halves the steps of close-fill runs.
    instant, inverse = np.unique(np.concatenate((fill_ns, val.close_ns)), return_inverse=True)
    fill_row = np.full(len(instant), -1, dtype=np.int64)
    fill_row[inverse[: len(fill_ns)]] = np.arange(len(fill_ns))
    is_val = np.zeros(len(instant), dtype=bool)
    is_val[inverse[len(fill_ns) :]] = True
    n = len(assets)
    fill_px = np.full((len(instant), n), np.nan)
    at_fill = fill_row >= 0
    fill_px[at_fill] = _prices(market, assets, fill_labels, fill)[fill_row[at_fill]]
    mark = np.empty_like(fill_px)
    fx = np.empty_like(fill_px)
    for j, key in enumerate(assets):
        s = market[key]
        mark[:, j] = _asof(s.known_ns, s.values.to_numpy(), instant)
        fx[:, j] = fx_to_base(market, s.instrument.currency, base, instant)
    mark[at_fill] = np.where(np.isnan(fill_px[at_fill]), mark[at_fill], fill_px[at_fill])
    # Before the first fill nothing is held, so an FX rate is needed only from then on.
    missing = np.isnan(fx).any(axis=1) & (np.arange(len(instant)) >= np.argmax(at_fill))
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise DataError(
            f"no FX rate is known at {pd.Timestamp(instant[first], tz='UTC')}; the FX series must "
            "start before the first session of the window (move --start later)."
        )
    val_ret = cash_accrual(market, base, val.labels)
    accrual = np.zeros(len(instant))
    accrual[is_val] = val_ret
    return Steps(
        instant, is_val, fill_row, fill_px, mark, fx, accrual, val.labels, fill_labels, val_ret
    )
