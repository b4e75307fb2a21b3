"""Performance metrics of one simulation, each with its formula.

Lives here: ``compute_metrics`` (a thin wrapper over ``metric_kernels``) and the documentation of
every key. Units: fractions (0.05 = 5 %), ratios unitless, dates ISO strings.

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
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from engine import metric_kernels as mk

METRIC_KEYS = (
    "total_return", "cagr", "ann_volatility", "sharpe", "sortino", "max_drawdown",
    "max_drawdown_start", "max_drawdown_trough", "max_drawdown_end", "max_drawdown_days", "calmar",
    "exposure", "turnover", "trade_count", "round_trips", "win_rate", "avg_trade", "best_trade",
    "worst_trade", "skew", "kurtosis", "psr", "beta", "alpha", "tracking_error",
    "information_ratio", "final_equity", "sessions", "years", "periods_per_year",
)  # fmt: skip
NAN = float("nan")
# Ranking direction of metrics where smaller is better (all others: larger is better).
HIGHER_IS_BETTER = {"ann_volatility": False, "tracking_error": False, "turnover": False}


def _date(idx: pd.DatetimeIndex, i: int) -> str | None:
    return None if i < 0 else str(idx[i].date())


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 and math.isfinite(den) else NAN


def _drawdown(acc: np.ndarray, idx: pd.DatetimeIndex) -> dict[str, Any]:
    peak, trough, end = (int(acc[k]) for k in (mk.DD_PEAK, mk.DD_TROUGH, mk.DD_END))
    start = str(idx[0].date()) if peak < 0 and trough >= 0 else _date(idx, peak)
    last = idx[end] if end >= 0 else idx[-1]
    days = (last - pd.Timestamp(start)).days if start is not None else 0
    return {
        "max_drawdown": float(acc[mk.MAX_DD]),
        "max_drawdown_start": start,
        "max_drawdown_trough": _date(idx, trough),
        "max_drawdown_end": _date(idx, end),
        "max_drawdown_days": int(days),
    }


def _psr(sr: float, n: int, skew: float, kurt: float) -> float:
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if not (n > 1 and denom > 0 and math.isfinite(sr)):
        return NAN
    return 0.5 * (1.0 + math.erf(sr * math.sqrt(n - 1) / math.sqrt(denom) / math.sqrt(2.0)))


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


def metrics_from_acc(
    acc: np.ndarray, idx: pd.DatetimeIndex, init_cash: float, extra: dict[str, Any]
) -> dict[str, Any]:
    """Named metrics from an accumulator (``metric_kernels.ACC``) and the run's other counts."""
    n, nb = acc[mk.N], acc[mk.NB]
    years = ((idx[-1] - idx[0]).days + 1) / 365.25
    ppy = n / years
    root = math.sqrt(ppy)
    final = acc[mk.PREV]
    cagr = (final / init_cash) ** (1.0 / years) - 1.0 if final > 0 else -1.0
    var = acc[mk.M2] / (n - 1) if n > 1 else NAN
    ex_sd = math.sqrt(acc[mk.EX_M2] / (n - 1)) if n > 1 else NAN
    sr = _ratio(acc[mk.EX_MEAN], ex_sd)
    m2 = acc[mk.EX_M2] / n
    skew = _ratio(acc[mk.EX_M3] / n, m2**1.5)
    kurt = _ratio(acc[mk.EX_M4] / n, m2**2)
    beta = _ratio(acc[mk.COV], acc[mk.B_M2])
    act_sd = math.sqrt(acc[mk.A_M2] / (nb - 1)) if nb > 1 else NAN
    bench_ex = acc[mk.BX_MEAN] if nb > 0 else NAN  # mean(b - c)
    dd = _drawdown(acc, idx)
    out: dict[str, Any] = {
        "total_return": float(final / init_cash - 1.0),
        "cagr": float(cagr),
        "ann_volatility": math.sqrt(var) * root if var >= 0 else NAN,
        "sharpe": sr * root,
        "sortino": _ratio(acc[mk.EX_MEAN], math.sqrt(acc[mk.DOWN2] / n)) * root,
        **dd,
        "calmar": _ratio(cagr, abs(dd["max_drawdown"])),
        "turnover": extra["turnover_value"] / extra["mean_equity"] / years,
        "skew": skew,
        "kurtosis": kurt,
        "psr": _psr(sr, int(n), skew, kurt),
        "beta": beta,
        "alpha": (acc[mk.EX_MEAN] - beta * bench_ex) * ppy if math.isfinite(beta) else NAN,
        "tracking_error": act_sd * root,
        "information_ratio": _ratio(acc[mk.A_MEAN], act_sd) * root,
        "final_equity": float(final),
        "sessions": int(n),
        "years": float(years),
        "periods_per_year": float(ppy),
        **{k: v for k, v in extra.items() if k in METRIC_KEYS},
    }  # fmt: skip
    return {k: out.get(k, NAN) for k in METRIC_KEYS}  # trade statistics need records
