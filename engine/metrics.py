"""Performance metrics of one equity curve, each with its formula.

Lives here: ``compute_metrics`` (a thin wrapper over the streaming kernels in ``kernels``) and the
documentation of every key. Units: fractions (0.05 = 5 %), ratios unitless, dates ISO strings.

Annualisation: ``periods_per_year`` = valuation sessions in the window / calendar years of the window
(so an ASX run uses ASX sessions per year); CAGR uses calendar time (days / 365.25).

- total_return   = E_T / E_0 - 1, with E_0 the initial cash (before the first fill)
- cagr           = (E_T / E_0) ** (1 / years) - 1, years = (last - first session + 1 day) / 365.25
- ann_volatility = stdev(r_t, ddof=1) * sqrt(periods_per_year), r_t = E_t / E_{t-1} - 1
- sharpe         = mean(r_t - c_t) / stdev(r_t - c_t) * sqrt(periods_per_year), c_t = cash return
- sortino        = mean(r_t - c_t) / sqrt(mean(min(r_t - c_t, 0) ** 2)) * sqrt(periods_per_year)
- max_drawdown   = min_t(E_t / max_{s<=t} E_s - 1) (negative), with its peak, trough and recovery dates
- calmar         = cagr / |max_drawdown|
- exposure       = share of sessions ending with any asset held
- turnover       = sum of |traded value| / mean equity / years (one-way, per year)
- trade_count    = number of orders
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine import kernels

METRIC_KEYS = (
    "total_return",
    "cagr",
    "ann_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_start",
    "max_drawdown_trough",
    "max_drawdown_end",
    "calmar",
    "exposure",
    "turnover",
    "trade_count",
    "final_equity",
    "sessions",
    "years",
    "periods_per_year",
)


def _date(idx: pd.DatetimeIndex, i: int) -> str | None:
    return None if i < 0 else str(idx[i].date())


def compute_metrics(
    equity: pd.Series,
    init_cash: float,
    cash_return: np.ndarray,
    weights: pd.DataFrame,
    traded_value: np.ndarray,
) -> dict[str, float | int | str | None]:
    """Metrics of ``equity`` (valuation sessions); ``cash_return`` per session, same length."""
    idx = pd.DatetimeIndex(equity.index)
    eq = np.ascontiguousarray(equity.to_numpy(dtype=np.float64))
    rf = np.ascontiguousarray(cash_return, dtype=np.float64)
    years = ((idx[-1] - idx[0]).days + 1) / 365.25
    ppy = len(eq) / years
    count, mean, var, ex_mean, ex_var, down = kernels.moments_nb(eq, float(init_cash), rf)
    max_dd, dd_peak, dd_trough, dd_end = kernels.drawdown_nb(eq, float(init_cash))
    total = eq[-1] / init_cash - 1.0
    cagr = (eq[-1] / init_cash) ** (1.0 / years) - 1.0 if eq[-1] > 0 else -1.0
    root = math.sqrt(ppy)
    sharpe = ex_mean / math.sqrt(ex_var) * root if ex_var > 0 else float("nan")
    sortino = ex_mean / math.sqrt(down) * root if down > 0 else float("nan")
    held = (weights.to_numpy() > 1e-12).any(axis=1)
    return {
        "total_return": float(total),
        "cagr": float(cagr),
        "ann_volatility": float(math.sqrt(var) * root) if var == var else float("nan"),
        "sharpe": float(sharpe),
        "sortino": float(sortino),
        "max_drawdown": float(max_dd),
        "max_drawdown_start": str(idx[0].date())
        if dd_peak < 0 and dd_trough >= 0
        else _date(idx, int(dd_peak)),
        "max_drawdown_trough": _date(idx, int(dd_trough)),
        "max_drawdown_end": _date(idx, int(dd_end)),
        "calmar": float(cagr / abs(max_dd)) if max_dd < 0 else float("nan"),
        "exposure": float(held.mean()),
        "turnover": float(np.abs(traded_value).sum() / eq.mean() / years),
        "trade_count": int(len(traded_value)),
        "final_equity": float(eq[-1]),
        "sessions": int(count),
        "years": float(years),
        "periods_per_year": float(ppy),
    }
