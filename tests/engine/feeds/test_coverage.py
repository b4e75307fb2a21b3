"""Rates must cover the run window: a partial cash-rate series is refused, not carried."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from engine.backtest.run import RunConfig, run_backtest
from engine.errors import DataError
from engine.feeds.coverage import MAX_STALE_DAYS, check_rates
from engine.feeds.instruments import load_instruments
from strategies import get_strategy
from tests.realdata import etf_folder, needs_real_data

INST = load_instruments()


class _Series:
    def __init__(self, dates, values, inst):
        self.frame = pd.DataFrame({"value": values}, index=pd.DatetimeIndex(dates))
        self.instrument = inst
        self.path = type("P", (), {"name": f"{inst.key}.csv"})()


def _market(dates, values=None):
    values = np.full(len(dates), 4.0) if values is None else values
    return {"RBA_CASH": _Series(dates, values, INST["RBA_CASH"])}


def test_a_rate_starting_after_the_window_is_refused_with_the_missing_range():
    m = _market(pd.bdate_range("2015-01-01", "2015-12-31"))
    with pytest.raises(DataError) as exc:
        check_rates(m, ["RBA_CASH"], pd.Timestamp("2011-01-04"), pd.Timestamp("2015-06-30"))
    text = str(exc.value)
    assert "RBA_CASH.csv" in text and "2011-01-04..2015-01-01" in text and "--start" in text


def test_a_rate_ending_long_before_the_window_ends_is_refused():
    m = _market(pd.bdate_range("2010-01-01", "2015-12-31"))
    with pytest.raises(DataError, match=r"ends 2015-12-31, \d+ days before the run's last"):
        check_rates(m, ["RBA_CASH"], pd.Timestamp("2011-01-04"), pd.Timestamp("2020-06-30"))


def test_covering_rates_pass_and_so_do_monthly_rows_and_price_keys():
    monthly = pd.date_range("2010-01-01", "2020-06-01", freq="MS")
    check_rates(
        _market(monthly), ["RBA_CASH"], pd.Timestamp("2011-01-04"), pd.Timestamp("2020-06-30")
    )
    last = pd.Timestamp("2020-06-30") - pd.Timedelta(days=MAX_STALE_DAYS)
    ok = _market(pd.DatetimeIndex([pd.Timestamp("2010-01-01"), last]))
    check_rates(ok, ["RBA_CASH"], pd.Timestamp("2011-01-04"), pd.Timestamp("2020-06-30"))
    blank = _market(pd.bdate_range("2010-01-01", "2020-12-31"), np.nan)
    with pytest.raises(DataError, match="holds no values"):
        check_rates(blank, ["RBA_CASH"], pd.Timestamp("2011-01-04"), pd.Timestamp("2020-06-30"))
    price = {"XSO": _Series([], [], INST["XSO"])}
    check_rates(price, ["XSO"], pd.Timestamp("2011-01-04"), pd.Timestamp("2020-06-30"))


@needs_real_data
def test_rba_cash_holding_only_2015_is_refused_and_the_full_file_runs(tmp_path):
    folder = etf_folder(tmp_path / "etf")
    cfg = RunConfig(
        data_dir=folder, start=pd.Timestamp("2012-01-03"), end=pd.Timestamp("2019-12-31")
    )
    strat = get_strategy("buy-and-hold")(asset="XSO")
    full = run_backtest(strat, cfg, sensitivity=False)
    lines = (folder / "RBA_CASH.csv").read_text(encoding="utf-8-sig").splitlines()
    kept = lines[:11] + [line for line in lines[11:] if "-2015," in line]
    (folder / "RBA_CASH.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"RBA_CASH.csv: RBA_CASH starts 2015-01-\d\d, after"):
        run_backtest(strat, cfg, sensitivity=False)
    inside = dataclasses.replace(
        cfg, start=pd.Timestamp("2015-01-05"), end=pd.Timestamp("2015-12-31")
    )
    part = run_backtest(strat, inside, sensitivity=False)
    assert part.sim.cash_return.gt(0).any() and full.sim.cash_return.gt(0).any()
