"""The seeded generator of the embedded synthetic sample (``data/sample/``).

Lives here: ``generate`` (seed -> one frame per flagship instrument) and ``write_sample`` (atomic,
byte-stable CSVs plus a ``SYNTHETIC`` marker that every run reads to label its outputs).

The recipe, so a reader knows what the sample can and cannot show:

1. Sessions follow the real XNYS and XASX calendars (``exchange_calendars``); FX and rates use weekdays.
2. Russell 2000: GARCH(1,1) returns with Student-t(5) shocks, ~22 % annual volatility, ~7 % drift.
3. ASX indices: a common Australian GARCH-t factor plus the *lagged* US move - the sum of the US
   session returns that closed since the previous ASX session - with betas 0.25 (XJO) and 0.35 (XSO);
   most of that US move lands in the ASX opening gap.
4. Planted effects, so the flagship has something to find: for 60 days after a real Fed cut
   announcement (``data/events/fomc.csv``) the Russell 2000 drifts an extra 25 % a year, and for
   120 days ASX small caps drift an extra 8 % a year.
5. AUD/USD: mean-reverting log random walk tied to US risk; US 10-year yield: mean-reverting level.
6. Policy rates are the real decision levels from ``data/events/``, stepping on their effective days
   (the next weekday for afternoon announcements, the same day for morning ones).

Numbers made from it describe the engine, not the market: every output says "synthetic sample data".
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from engine import paths
from engine.errors import ConfigError
from engine.feeds import calendars
from engine.feeds.events import load_decisions

SEED = 20250918
START, END = "2000-01-01", "2025-12-31"
MARKER = "SYNTHETIC"
_FORMATS = {
    "RUT": "%.2f",
    "XSO": "%.2f",
    "XJO": "%.2f",
    "AUDUSD": "%.5f",
    "FED_TARGET": "%.2f",
    "RBA_CASH": "%.2f",
    "US10Y": "%.3f",
}


def _garch_t(rng: np.random.Generator, n: int, vol: float, a: float = 0.08, b: float = 0.90):
    """Daily GARCH(1,1) log returns with unit-variance Student-t(5) shocks, long-run stdev ``vol``."""
    z = rng.standard_t(5, size=n) / np.sqrt(5.0 / 3.0)
    omega = vol**2 * (1.0 - a - b)
    out = np.empty(n)
    var = vol**2
    for i in range(n):
        out[i] = np.sqrt(var) * z[i]
        var = omega + a * out[i] ** 2 + b * var
    return out


def _days_since(event_ns: np.ndarray, at_ns: np.ndarray, days: int) -> np.ndarray:
    """True where the last event known before ``at_ns`` is at most ``days`` days old."""
    pos = np.searchsorted(event_ns, at_ns, side="left") - 1
    age = at_ns - event_ns[np.maximum(pos, 0)]
    return (pos >= 0) & (age <= days * calendars.DAY_NS)


def _ohlc(rng, prev_close: float, gap: np.ndarray, intraday: np.ndarray, vol: float):
    close = prev_close * np.exp(np.cumsum(gap + intraday))
    open_ = np.concatenate(([prev_close], close[:-1])) * np.exp(gap)
    wick = np.abs(rng.standard_normal((2, len(close)))) * vol * 0.4
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close})


def _policy_levels(bank: str, days: pd.DatetimeIndex) -> np.ndarray:
    dec = load_decisions(bank)
    times = dec.frame["time"].fillna("00:00")
    afternoon = (times >= "12:00").to_numpy()
    effective = dec.frame.index + pd.to_timedelta(afternoon.astype(int), unit="D")
    pos = np.searchsorted(effective.as_unit("ns").asi8, days.as_unit("ns").asi8, side="right") - 1
    levels = dec.level.to_numpy()[np.maximum(pos, 0)]
    return np.where(pos >= 0, levels, levels[0])


def generate(seed: int = SEED, start: str = START, end: str = END) -> dict[str, pd.DataFrame]:
    """One frame per instrument key (date column first), deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    us = calendars.sessions("XNYS").between(first, last)
    au = calendars.sessions("XASX").between(first, last)
    days = pd.bdate_range(first, last)

    cuts = load_decisions("fomc").changes(-1)[1]
    us_ret = _garch_t(rng, len(us.labels), 0.014) + 0.07 / 252
    us_ret += _days_since(cuts, us.close_ns, 60) * 0.25 / 252
    rut = _ohlc(rng, 500.0, 0.15 * us_ret, 0.85 * us_ret, 0.014)

    # US moves that closed since the previous ASX session, as seen at each ASX open.
    csum = np.concatenate(([0.0], np.cumsum(us_ret)))
    seen = csum[np.searchsorted(us.close_ns, au.open_ns, side="left")]
    us_lag = np.diff(seen, prepend=0.0)
    easing = _days_since(cuts, au.open_ns, 120)
    factor = _garch_t(rng, len(au.labels), 0.007)
    own = rng.standard_normal((2, len(au.labels))) * np.array([[0.003], [0.006]])
    xjo_r = 0.25 * us_lag + factor + own[0] + 0.04 / 252
    xso_r = 0.35 * us_lag + 1.1 * factor + own[1] + 0.02 / 252 + easing * 0.08 / 252
    xjo = _ohlc(rng, 3100.0, 0.6 * 0.25 * us_lag, xjo_r - 0.6 * 0.25 * us_lag, 0.009)
    xso = _ohlc(rng, 2800.0, 0.6 * 0.35 * us_lag, xso_r - 0.6 * 0.35 * us_lag, 0.011)

    us_on_day = pd.Series(us_ret, us.labels).reindex(days, fill_value=0.0).to_numpy()
    fx = np.empty(len(days))
    level, noise = np.log(0.65), rng.standard_normal(len(days)) * 0.006
    for i in range(len(days)):
        level += 0.003 * (np.log(0.75) - level) + noise[i] + 0.2 * us_on_day[i]
        fx[i] = np.exp(level)
    y, shocks = 6.4, rng.standard_normal(len(days)) * 0.055
    ten = np.empty(len(days))
    for i in range(len(days)):
        y = max(0.4, y + 0.0015 * (4.0 - y) + shocks[i])
        ten[i] = y

    def dated(index: pd.DatetimeIndex, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(date=index.strftime("%Y-%m-%d"))[["date", *frame.columns]]

    fx_frame = pd.DataFrame({"open": fx, "high": fx, "low": fx, "close": fx})
    rates = {
        "FED_TARGET": _policy_levels("fomc", days),
        "RBA_CASH": _policy_levels("rba", days),
        "US10Y": ten,
    }
    out = {
        "RUT": dated(us.labels, rut),
        "XSO": dated(au.labels, xso),
        "XJO": dated(au.labels, xjo),
        "AUDUSD": dated(days, fx_frame),
    }
    out.update({k: dated(days, pd.DataFrame({"value": v})) for k, v in rates.items()})
    return out


def marker_text(seed: int) -> str:
    return (
        "synthetic sample data - generated by `backtest data sample` "
        f"(engine/feeds/sample.py, seed {seed}). Not market history.\n"
    )


def write_sample(folder: Path | None = None, seed: int = SEED) -> Path:
    """Write the sample to ``folder`` (default ``data/sample``) atomically; returns the folder.

    An installed package never writes into its own folder (its sample is what every run without
    ``--data-dir`` reads): there, ``folder`` must be given and lie outside the package."""
    if folder is None and paths.installed():
        raise ConfigError(
            f"the embedded sample in {paths.sample_dir()} belongs to the installed package and is "
            "not rewritten; write a copy elsewhere with --out FOLDER (and pass it as --data-dir)."
        )
    folder = Path(folder or paths.sample_dir())
    if paths.installed() and paths.inside_package(folder):
        raise ConfigError(
            f"--out {folder} is inside the installed package; choose a folder of your own."
        )
    frames = generate(seed)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sample-", dir=folder.parent))
    tmp.chmod(0o755)
    try:
        for key, frame in frames.items():
            frame.to_csv(
                tmp / f"{key}.csv", index=False, float_format=_FORMATS[key], lineterminator="\n"
            )
        (tmp / MARKER).write_text(marker_text(seed), encoding="utf-8")
        if folder.exists():
            old = folder.with_name(folder.name + ".old")
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old)
        else:
            os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return folder
