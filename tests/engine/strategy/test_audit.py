"""The lookahead audit (``engine.strategy.audit``): every registered strategy passes on the embedded sample
and on the real data in ``../shared/data`` (converted to the project's plain format in a temporary
folder at test time, never copied into the repository); a cheating strategy fails and the report
names the first decision that moved."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.feeds import calendars
from engine.feeds.instruments import load_instruments
from engine.strategy import audit
from engine.strategy.base import Strategy, strategy_context
from strategies import REGISTRY

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
NAMES = sorted(REGISTRY)
ALL_DERAILS = dict(exit_on_hike="on", exit_drawdown=0.08, yield_spike_bp=30, aud_drop=0.04)


class SameDayClose(Strategy):
    """Cheats: decides at the open with that session's close (known only hours later)."""

    name = "cheat-same-day-close"
    rule = "Hold small caps on sessions that close up (read before the session has closed)."
    traded = ("XSO",)

    def weights(self, ctx, p) -> np.ndarray:
        close = ctx.market["XSO"].frame["close"].reindex(ctx.labels)
        return (close > close.shift(1)).to_numpy(dtype=np.float64)[:, None]


# --- the embedded sample -----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_registered_strategy_passes_on_the_sample(name):
    strategy = REGISTRY[name]()
    _, ctx = strategy_context(strategy)
    result = audit.audit(strategy, ctx)
    assert result.passed, result.message()
    assert result.checked == len(result.cuts) >= 30
    assert "PASS" in result.message() and name in result.message()


def test_the_flagship_with_every_derail_on_passes():
    strategy = REGISTRY["russell-fed-rotation"](**ALL_DERAILS)
    _, ctx = strategy_context(strategy)
    full = strategy.target_weights(ctx)
    assert (full[:, 0] > 0).any(), "derails switched every rotation off; the audit would be vacuous"
    assert audit.audit(strategy, ctx).passed


def test_close_fills_pass_too():
    strategy = REGISTRY["russell-fed-rotation"]()
    _, ctx = strategy_context(strategy, fill="close")
    assert audit.audit(strategy, ctx).passed


def test_cut_instants_cover_decisions_gaps_changes_and_signals():
    strategy = REGISTRY["russell-fed-rotation"]()
    _, ctx = strategy_context(strategy)
    w = strategy.target_weights(ctx)
    cuts = audit.cut_instants(strategy, ctx, w, seed=0)
    d = ctx.decision_ns
    assert np.all(np.diff(cuts) > 0) and cuts[0] > d[0] and cuts[-1] <= d[-1]
    assert np.isin(d, cuts).sum() >= 12  # exactly at decision instants
    assert (~np.isin(cuts, d) & ~np.isin(cuts, d + 1) & ~np.isin(cuts, d - 1)).sum() >= 12
    first_signal = strategy.signals(ctx).known_ns
    first_signal = first_signal[first_signal > d[0]][0]
    assert first_signal in cuts and first_signal + 1 in cuts
    np.testing.assert_array_equal(cuts, audit.cut_instants(strategy, ctx, w, seed=0))
    assert not np.array_equal(cuts, audit.cut_instants(strategy, ctx, w, seed=1))


def test_a_same_day_close_lookahead_is_caught_and_reported():
    strategy = SameDayClose()
    _, ctx = strategy_context(strategy)
    result = audit.audit(strategy, ctx)
    assert not result.passed
    moved = result.moved
    xso = ctx.market["XSO"]
    close_known = int(xso.known_ns[xso.frame.index.get_loc(moved.session)])
    # The moved decision was made before the cut, and the cut fell before that session's close.
    assert moved.decided.value < moved.cut.value <= close_known
    assert ctx.labels[moved.row] == moved.session
    assert moved.before != moved.after and set(moved.before) == {"XSO"}
    msg = result.message()
    assert msg.startswith("FAIL") and "cheat-same-day-close" in msg
    assert str(moved.session.date()) in msg and "Context.asof" in msg


def test_explicit_cuts_and_progress():
    strategy = REGISTRY["buy-and-hold"]()
    _, ctx = strategy_context(strategy)
    seen = []
    cuts = ctx.decision_ns[[10, 5, 100]]
    result = audit.audit(strategy, ctx, cuts, progress=lambda i, n: seen.append((i, n)))
    assert result.passed and seen == [(1, 3), (2, 3), (3, 3)]
    assert result.cuts.tolist() == sorted(cuts.tolist())


# --- the real data -----------------------------------------------------------------------------

needs_shared = pytest.mark.skipif(
    not (SHARED / "rut_daily_yahoo.csv").is_file(),
    reason=f"real data folder {SHARED} is absent (it sits beside the repository root)",
)


def _keep_sessions(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows on sessions of ``key``'s calendar (weekdays for FX and rates), sorted, deduplicated."""
    cal = load_instruments()[key].calendar
    dates = pd.DatetimeIndex(frame["date"])
    if cal == "weekdays":
        ok = dates.day_of_week < 5
    else:
        ok = dates.isin(calendars.sessions(cal).labels)
    frame = frame[ok].assign(date=dates[ok].strftime("%Y-%m-%d"))
    return frame.drop_duplicates("date").sort_values("date")


def _drop_spikes(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop isolated one-day spikes (> 20 % out and straight back) and bars whose open, high or low
    is > 20 % from the close: Yahoo's bad ticks such as AUD/USD at 4.57 on 2006-12-25 (close) and
    2006-12-26 (open and high)."""
    jump = np.log(frame["close"]).diff()
    bad = (
        (jump.abs() > 0.2)
        & (jump.shift(-1).abs() > 0.2)
        & (np.sign(jump) != np.sign(jump.shift(-1)))
    )
    bars = np.log(frame[["open", "high", "low"]].div(frame["close"], axis=0)).abs() > 0.2
    return frame[~(bad | bars.any(axis=1)).to_numpy()]


def convert_shared(src: Path, dst: Path) -> Path:
    """Write the real series in ``src`` as ``dst/KEY.csv`` in the plain formats; returns ``dst``.

    RUT and AUD/USD from Yahoo (Date,Close,High,Low,Open,Volume); XJO from the ASX 200 and, as a
    stand-in for XSO (no small-caps index file reaches 2025), the All Ordinaries; US10Y (DGS10) and
    FED_TARGET (DFEDTARU) from FRED; RBA_CASH from RBA table F1 (11 header lines). Rows that are
    not sessions of the instrument's calendar, and isolated bad ticks, are dropped.
    """
    dst.mkdir(parents=True, exist_ok=True)
    ohlc = ["date", "open", "high", "low", "close"]
    prices = {
        "RUT": "rut_daily_yahoo.csv",
        "AUDUSD": "audusd_daily_yahoo.csv",
        "XJO": "axjo_2011_2025.csv",
        "XSO": "aord_2011_2025.csv",
    }
    for key, name in prices.items():
        raw = pd.read_csv(src / name)
        raw.columns = [c.lower() for c in raw.columns]
        raw["date"] = pd.to_datetime(raw["date"])
        raw = raw.dropna(subset=ohlc[1:])
        _drop_spikes(_keep_sessions(raw[ohlc], key)).to_csv(dst / f"{key}.csv", index=False)
    fred = pd.read_csv(src / "fred_rates_daily.csv", parse_dates=["date"])
    for key, col in (("US10Y", "DGS10"), ("FED_TARGET", "DFEDTARU")):
        rates = fred[["date", col]].dropna().rename(columns={col: "value"})
        _keep_sessions(rates, key).to_csv(dst / f"{key}.csv", index=False)
    f1 = pd.read_csv(src / "rba_f1_cash_rate_daily.csv", skiprows=11, header=None)
    rba = pd.DataFrame(
        {"date": pd.to_datetime(f1[0], format="%d-%b-%Y"), "value": pd.to_numeric(f1[1])}
    ).dropna()
    _keep_sessions(rba, "RBA_CASH").to_csv(dst / "RBA_CASH.csv", index=False)
    return dst


@pytest.fixture(scope="module")
def real_folder(tmp_path_factory) -> Path:
    return convert_shared(SHARED, tmp_path_factory.mktemp("real"))


@cache
def _real(folder: Path, name: str, derails: bool):
    strategy = REGISTRY[name](**(ALL_DERAILS if derails else {}))
    return strategy, strategy_context(strategy, folder)[1]


@needs_shared
@pytest.mark.parametrize("name", NAMES)
def test_every_registered_strategy_passes_on_the_real_data(real_folder, name):
    strategy, ctx = _real(real_folder, name, False)
    assert ctx.labels[0] == pd.Timestamp("2011-01-04")
    result = audit.audit(strategy, ctx)
    assert result.passed, result.message()


@needs_shared
def test_the_flagship_with_every_derail_passes_on_the_real_data(real_folder):
    strategy, ctx = _real(real_folder, "russell-fed-rotation", True)
    assert set(strategy.required()) >= {"US10Y", "AUDUSD"}
    assert audit.audit(strategy, ctx).passed


@needs_shared
def test_the_real_2025_09_18_signal_is_among_the_audited_cuts(real_folder):
    strategy, ctx = _real(real_folder, "russell-fed-rotation", False)
    w = strategy.target_weights(ctx)
    cuts = audit.cut_instants(strategy, ctx, w)
    known = pd.Timestamp("2025-09-18 16:00", tz="America/New_York").value
    assert known in strategy.signals(ctx).known_ns and known in cuts and known + 1 in cuts
    assert not audit.audit(strategy, ctx, np.array([known, known + 1])).moved


@needs_shared
def test_the_cheat_is_caught_on_the_real_data(real_folder):
    strategy = SameDayClose()
    _, ctx = strategy_context(strategy, real_folder)
    assert not audit.audit(strategy, ctx).passed
