"""Performance metrics of one simulation, each with its formula.

Lives here: ``compute_metrics`` (a thin wrapper over ``stats.kernels``) and the formula of every
key; labels, units, formats and ranking directions are in ``engine.stats.spec``. Units: fractions
(0.05 = 5 %), ratios unitless, dates ISO strings.

Annualisation: ``periods_per_year`` P = valuation sessions in the window / calendar years of the
window (an ASX-valued run uses ASX sessions per year); CAGR uses calendar time (days / 365.25).
r_t = E_t / E_{t-1} - 1 (E_{-1} = initial cash), c_t = cash return of session t, b_t = benchmark
return, x_t = r_t - c_t (excess), a_t = r_t - b_t (active).

- total_return      = E_T / E_0 - 1, with E_0 the initial cash (before the first fill)
- cagr              = (E_T / E_0) ** (1 / years) - 1, years = (last - first session + 1 day) / 365.25
- ann_volatility    = stdev(r, ddof=1) * sqrt(P)
- sharpe            = mean(x) / stdev(x, ddof=1) * sqrt(P)
- sortino           = mean(x) / sqrt(mean(min(x, 0) ** 2)) * sqrt(P)
- max_drawdown      = min_t(E_t / max_{s<=t} E_s - 1) (negative), with peak, trough and recovery dates
- calmar            = cagr / |max_drawdown|
- exposure          = share of sessions ending with any asset held
- turnover          = sum |traded value| / mean equity / years (one-way, per year)
- trade_count       = orders; round_trips = closed round-trip trades (flat -> position -> flat)
- win_rate, avg_trade, best_trade, worst_trade = over closed round trips' returns (pnl / cash in)
- skew, kurtosis    = of x (central moments, kurtosis not excess)
- psr               = probabilistic Sharpe ratio against 0 (Bailey & Lopez de Prado 2012):
                      Phi( SR sqrt(n - 1) / sqrt(1 - skew SR + (kurtosis - 1) / 4 SR^2) ),
                      SR the per-session Sharpe ratio mean(x) / stdev(x)
- beta              = cov(r, b) / var(b); alpha = (mean(x) - beta mean(b - c)) * P
- tracking_error    = stdev(a) * sqrt(P); information_ratio = mean(a) / stdev(a) * sqrt(P)

Undefined ratios: a ratio whose denominator is zero within the precision of the returns
(``stats.kernels.spread_floor``: at most 1024 ulps x (1 + rms) of the series, or for a standard
deviation 1e-4 of its rms) is NaN - null in JSON, n/a in tables, last in every ranking - never a
number made of rounding error. That is sharpe, skew, kurtosis and psr when stdev(x) is zero (a run
that holds nothing: x is 0 +/- an ulp), sortino when the downside deviation is, calmar when the
drawdown is, beta and alpha when stdev(b) is, and information_ratio when stdev(a) is (a run that
is its benchmark). The test runs once per run or combo, on its accumulator.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from engine.stats import kernels as mk
from engine.stats import spec

# Every key compute_metrics returns, in summary.json's order, and which way each ranks: both
# read from the metric spec (``engine.stats.spec``), where labels, units and formats live too.
METRIC_KEYS = tuple(spec.METRICS)
NAN = float("nan")
# The metrics tables show first, in this order.
HEADLINE = spec.HEADLINE
# Ranking direction of every metric (unknown keys: larger is better).
HIGHER_IS_BETTER = {k: m.higher_is_better for k, m in spec.METRICS.items()}


def _trade_stats(trades: pd.DataFrame) -> dict[str, Any]:
    closed = trades.loc[~trades["open"], "return"].to_numpy() if len(trades) else np.array([])
    has = closed.size > 0
    return {
        "round_trips": int(closed.size),
        "win_rate": float((closed > 0).mean()) if has else NAN,
        "avg_trade": float(closed.mean()) if has else NAN,
        "best_trade": float(closed.max()) if has else NAN,
        "worst_trade": float(closed.min()) if has else NAN,
    }


def compute_metrics(sim, benchmark_returns: pd.Series | None = None) -> dict[str, Any]:
    """Metrics of a ``SimResult``; ``benchmark_returns`` per valuation session (optional)."""
    idx = pd.DatetimeIndex(sim.equity.index)
    eq = np.ascontiguousarray(sim.equity.to_numpy(dtype=np.float64))
    rf = np.ascontiguousarray(sim.cash_return.to_numpy(dtype=np.float64))
    bench = np.full(len(eq), np.nan)
    if benchmark_returns is not None:
        bench = np.ascontiguousarray(benchmark_returns.reindex(idx).to_numpy(dtype=np.float64))
    acc = mk.stats_from_equity_nb(eq, float(sim.init_cash), rf, bench)
    extra = {
        "exposure": sim.exposed_sessions / len(eq),
        "turnover_value": sim.traded_value,
        "trade_count": int(len(sim.orders)),
        "mean_equity": float(np.cumsum(eq)[-1]) / len(eq),  # sequential, as the grid kernel sums
        **_trade_stats(sim.trades),
    }
    return metrics_from_acc(acc, idx, sim.init_cash, extra)


def _ratio_v(num, den, floor):
    """num / den, NaN where ``den`` is not above ``floor`` (zero within precision) or not finite."""
    ok = (den > floor) & np.isfinite(den)
    return np.where(ok, num / np.where(ok, den, 1.0), np.nan)


def spread_defined(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Whether the standard deviation (ddof 1) of ``x`` along ``axis`` is above the precision floor
    (``stats.kernels.spread_floor``): where it is not, a ratio over it is undefined."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[axis] < 2:
        return np.zeros(np.delete(x.shape, axis if axis >= 0 else x.ndim + axis), dtype=bool)
    rms = np.sqrt(np.mean(x * x, axis=axis))
    return x.std(axis=axis, ddof=1) > mk.spread_floor(rms)


def _rms(mean, m2, n):
    """Root mean square of a series from its mean and central second moment sum over n values."""
    return np.sqrt(mean * mean + m2 / np.maximum(n, 1))


@lru_cache(maxsize=8)
def _labels(ns: bytes) -> np.ndarray:
    """ISO dates of a session index given as int64 ns bytes (cached: a grid asks once per chunk)."""
    index = pd.DatetimeIndex(np.frombuffer(ns, dtype=np.int64).view("M8[ns]"))
    return np.asarray(index.strftime("%Y-%m-%d"), dtype=object)


def _dates(idx: pd.DatetimeIndex, pos: np.ndarray) -> np.ndarray:
    labels = _labels(idx.as_unit("ns").asi8.tobytes())
    return np.where(pos >= 0, labels[np.maximum(pos, 0)], None)


def _drawdown_cols(acc: np.ndarray, idx: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    peak, trough, end = (acc[:, k].astype(np.int64) for k in (mk.DD_PEAK, mk.DD_TROUGH, mk.DD_END))
    start_pos = np.where((peak < 0) & (trough >= 0), 0, peak)
    day = idx.as_unit("ns").asi8 // 86_400_000_000_000
    last = np.where(end >= 0, day[np.maximum(end, 0)], day[-1])
    days = np.where(start_pos >= 0, last - day[np.maximum(start_pos, 0)], 0)
    return {
        "max_drawdown": acc[:, mk.MAX_DD],
        "max_drawdown_start": _dates(idx, start_pos),
        "max_drawdown_trough": _dates(idx, trough),
        "max_drawdown_end": _dates(idx, end),
        "max_drawdown_days": days.astype(np.int64),
    }


_ERF = np.frompyfunc(math.erf, 1, 1)


def _psr_v(sr, n, skew, kurt):
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    ok = (n > 1) & (denom > 0) & np.isfinite(sr)
    z = np.where(ok, sr * np.sqrt(np.maximum(n - 1, 0)) / np.sqrt(np.where(ok, denom, 1.0)), 0.0)
    return np.where(ok, 0.5 * (1.0 + _ERF(z / math.sqrt(2.0)).astype(np.float64)), np.nan)


def metrics_table(
    acc: np.ndarray, idx: pd.DatetimeIndex, init_cash: float, extra: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Every metric, as one column per key, for K accumulators ``acc`` (K, N_ACC) on ``idx``.

    ``extra`` holds per-combo arrays the accumulator does not: exposure, turnover_value,
    mean_equity, trade_count (and, for single runs, the trade statistics).
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return _metrics_table(acc, idx, init_cash, extra)


def _metrics_table(acc, idx, init_cash, extra):
    n, nb = acc[:, mk.N], acc[:, mk.NB]
    years = ((idx[-1] - idx[0]).days + 1) / 365.25
    ppy = n / years
    root = np.sqrt(ppy)
    final = acc[:, mk.PREV]
    growth = np.where(final > 0, final / init_cash, 1.0) ** (1.0 / years)
    cagr = np.where(final > 0, growth - 1.0, -1.0)
    var = np.where(n > 1, acc[:, mk.M2] / (n - 1), np.nan)
    ex_sd = np.where(n > 1, np.sqrt(acc[:, mk.EX_M2] / (n - 1)), np.nan)
    ex_rms = _rms(acc[:, mk.EX_MEAN], acc[:, mk.EX_M2], n)
    ex_floor = mk.spread_floor(ex_rms)
    sr = _ratio_v(acc[:, mk.EX_MEAN], ex_sd, ex_floor)
    defined = np.isfinite(sr)  # skew and kurtosis divide by powers of the same spread
    m2 = np.where(defined, acc[:, mk.EX_M2] / n, np.nan)
    skew = _ratio_v(acc[:, mk.EX_M3] / n, m2**1.5, 0.0)
    kurt = _ratio_v(acc[:, mk.EX_M4] / n, m2**2, 0.0)
    b_sd = np.where(nb > 1, np.sqrt(acc[:, mk.B_M2] / (nb - 1)), np.nan)
    b_floor = mk.spread_floor(_rms(acc[:, mk.B_MEAN], acc[:, mk.B_M2], nb))
    beta = np.where(b_sd > b_floor, _ratio_v(acc[:, mk.COV], acc[:, mk.B_M2], 0.0), np.nan)
    act_sd = np.where(nb > 1, np.sqrt(acc[:, mk.A_M2] / (nb - 1)), np.nan)
    act_floor = mk.spread_floor(_rms(acc[:, mk.A_MEAN], acc[:, mk.A_M2], nb))
    bench_ex = np.where(nb > 0, acc[:, mk.BX_MEAN], np.nan)  # mean(b - c)
    down_floor = mk.spread_floor(ex_rms, central=False)  # a plain sum of squares: no cancellation
    dd = _drawdown_cols(acc, idx)
    out = {
        "total_return": final / init_cash - 1.0,
        "cagr": cagr,
        "ann_volatility": np.where(var >= 0, np.sqrt(var) * root, np.nan),
        "sharpe": sr * root,
        "sortino": _ratio_v(acc[:, mk.EX_MEAN], np.sqrt(acc[:, mk.DOWN2] / n), down_floor) * root,
        **dd,
        "calmar": _ratio_v(cagr, np.abs(dd["max_drawdown"]), mk.ABS_FLOOR),
        "turnover": extra["turnover_value"] / extra["mean_equity"] / years,
        "skew": skew,
        "kurtosis": kurt,
        "psr": _psr_v(sr, n, skew, kurt),
        "beta": beta,
        "alpha": np.where(np.isfinite(beta), (acc[:, mk.EX_MEAN] - beta * bench_ex) * ppy, np.nan),
        "tracking_error": act_sd * root,
        "information_ratio": _ratio_v(acc[:, mk.A_MEAN], act_sd, act_floor) * root,
        "final_equity": final,
        "sessions": n.astype(np.int64),
        "years": np.full(len(n), years),
        "periods_per_year": ppy,
        **{k: np.asarray(v) for k, v in extra.items() if k in METRIC_KEYS},
    }
    nan = np.full(len(n), np.nan)
    return {k: out.get(k, nan) for k in METRIC_KEYS}  # trade statistics need records


def _scalar(value):
    if value is None or isinstance(value, str):
        return value
    return int(value) if isinstance(value, np.integer) else float(value)


def metrics_from_acc(
    acc: np.ndarray, idx: pd.DatetimeIndex, init_cash: float, extra: dict[str, Any]
) -> dict[str, Any]:
    """Named metrics of one accumulator: row 0 of ``metrics_table``, so a single run and a grid
    compute every metric with the very same operations."""
    cols = metrics_table(
        acc[None, :], idx, init_cash, {k: np.asarray([v]) for k, v in extra.items()}
    )
    return {k: _scalar(v[0]) for k, v in cols.items()}
