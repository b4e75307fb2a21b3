"""Stale opens: the measure against hand-worked bars, the refusal rule, and the real series."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.feeds import opens
from engine.feeds.instruments import load_instruments
from engine.feeds.marketdata import load_folder
from tests.realdata import SHARED, index_folder, needs_real_data

INST = load_instruments()


def _frame(o, c, start="2024-01-02"):
    idx = pd.bdate_range(start, periods=len(c))
    return pd.DataFrame({"open": o, "close": c}, index=idx, dtype=float)


def test_open_quality_by_hand():
    # closes 100, 101, 102, 100; opens: 99 (ignored: no previous close), 100 (= previous close:
    # stale), 101.5 (fresh), 102.0005 (within 1e-5 of 102: stale)
    q = opens.open_quality(_frame([99, 100, 101.5, 102.0005], [100, 101, 102, 100]))
    assert (q.sessions, q.stale) == (3, 2)
    assert q.stale_share == pytest.approx(2 / 3)
    overnight = np.mean([100 / 100 - 1, 101.5 / 101 - 1, 102.0005 / 102 - 1])
    intraday = np.mean([101 / 100 - 1, 102 / 101.5 - 1, 100 / 102.0005 - 1])
    assert q.overnight == pytest.approx(overnight, rel=1e-12)
    assert q.intraday == pytest.approx(intraday, rel=1e-12)


def test_a_tick_away_is_not_stale_and_float_noise_is():
    noise = 2467.699951171875  # Yahoo's float32 rendering of 2467.70
    q = opens.open_quality(_frame([np.nan, noise, 2467.8], [2467.70, 2467.70, 2467.9]))
    assert (q.sessions, q.stale) == (2, 1)  # 2467.8 is one 0.1 tick away: a real open


def test_missing_opens_and_closes_are_not_counted():
    # session 1: no open; session 2: no previous close; session 3: 10 -> open 11 (fresh)
    q = opens.open_quality(_frame([np.nan, np.nan, 10, 11], [10, np.nan, 10, 12]))
    assert (q.sessions, q.stale) == (1, 0)
    assert opens.open_quality(pd.DataFrame({"close": [1.0, 2.0]})) is None


def test_window_quality_falls_back_to_the_whole_series_on_a_short_window():
    c = np.linspace(100, 200, 300)
    o = np.r_[np.nan, c[:-1]]  # every open stale
    o[200:] = c[200:] * 1.001  # ... until row 200
    f = _frame(o, c)
    assert opens.window_quality(f, f.index[210], f.index[-1]).stale_share == 0.0
    assert opens.window_quality(f, f.index[10], f.index[150]).stale_share == 1.0
    short = opens.window_quality(f, f.index[-5], f.index[-1])  # 5 sessions: the whole file
    assert short.sessions == 299 and short.stale_share == pytest.approx(199 / 299)


class _Series:
    def __init__(self, frame, inst, name="XSO.csv"):
        self.frame, self.instrument = frame, inst
        self.path = type("P", (), {"name": name})()


def test_check_open_fills_refuses_names_the_ways_out_and_honours_the_limit():
    c = np.linspace(100, 120, 200)
    f = _frame(np.r_[np.nan, c[:-1]], c)
    market = {"XSO": _Series(f, INST["XSO"])}
    with pytest.raises(DataError) as exc:
        opens.check_open_fills(market, ["XSO"], f.index[0], f.index[-1], allow=False)
    text = str(exc.value)
    assert "XSO.csv" in text and "100%" in text and "limit 25%" in text
    for way in ("--fill close", "ETF", "--allow-stale-open"):
        assert way in text
    shares = opens.check_open_fills(market, ["XSO"], f.index[0], f.index[-1], allow=True)
    assert shares == {"XSO": 1.0}
    relaxed = dataclasses.replace(INST["XSO"], checks={"max_stale_open": 1.0})
    market = {"XSO": _Series(f, relaxed)}
    assert opens.check_open_fills(market, ["XSO"], f.index[0], f.index[-1], allow=False)


@needs_real_data
@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("aord_2011_2025.csv", 0.80, 0.86),  # All Ordinaries: 83 %
        ("axjo_2011_2025.csv", 0.63, 0.69),  # ASX 200: 66 %
        ("iso_ax_daily.csv", 0.15, 0.22),  # ISO.AX: 18.5 %
        ("ioz_ax_daily.csv", 0.02, 0.08),  # IOZ.AX: 4.6 %
        ("vso_ax_daily.csv", 0.08, 0.16),  # VSO.AX: 12 %
    ],
)
def test_real_stale_open_shares(name, low, high):
    f = pd.read_csv(SHARED / name)
    f.columns = [c.lower() for c in f.columns]
    share = opens.open_quality(f).stale_share
    assert low < share < high
    assert (share > opens.MAX_STALE_OPEN) == name.startswith(("aord", "axjo"))


@needs_real_data
def test_the_index_folder_refuses_open_fills_over_any_window(tmp_path):
    market = load_folder(index_folder(tmp_path), ["XSO", "XJO"])
    for a, b in (("2011-01-04", "2025-12-30"), ("2020-01-02", "2020-12-31")):
        with pytest.raises(DataError, match=r"XSO.csv: XSO's open equals the previous close"):
            opens.check_open_fills(market, ["XSO", "XJO"], pd.Timestamp(a), pd.Timestamp(b), False)
