"""The metric spec: for every metric ``compute_metrics`` returns, its label, unit, how it is shown,
which way is better and what it measures - declared once, read by the console and every page.

Lives here: ``Metric`` and ``METRICS`` (in the order ``compute_metrics`` returns them, which is the
order of summary.json), ``HEADLINE`` (what metrics tables show first), ``label``,
``higher_is_better`` and ``format_value``. Not here: the formulas (``engine.stats.metrics``) or the
tables themselves (``engine.report``, ``engine.cli``).

Units: "fraction" (0.05 = 5 %, shown as a percentage), "ratio" (unitless), "count", "money" (base
currency), "date" (ISO), "years", "days", "sessions", "per year". Kinds (how a value is shown):

- pct       12.34%        fractions and probabilities
- ratio     1.23          unitless ratios and moments
- count     1,234         whole numbers
- money     145,670.00    base-currency amounts
- number    252.34        other quantities (years, sessions a year)
- date      2020-02-19    dates (n/a when there is none)
- recovery  2020-02-19    the drawdown's recovery date, "not recovered" when there is none

An undefined value (NaN or None) reads "n/a" whatever the kind (except ``recovery``). Unknown keys
read as plain values: numbers to six significant digits, flags yes/no, dates ISO.
"""

from __future__ import annotations

import datetime as dt
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

_UNITS = ("fraction", "ratio", "count", "money", "date", "years", "days", "sessions", "per year")
_KINDS = ("pct", "ratio", "count", "money", "date", "recovery", "number")
_MISSING = "n/a"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str  # e.g. "Sharpe ratio"; may contain "{currency}"
    unit: str  # one of _UNITS
    kind: str  # formatter kind, one of _KINDS
    higher_is_better: bool  # ranking direction
    headline: bool  # shown first in metrics tables
    doc: str  # one line: what it measures


def _m(key, label, unit, kind, doc, *, higher=True, headline=False) -> Metric:
    return Metric(key, label, unit, kind, higher, headline, doc)


_ALL = (
    _m("total_return", "Total return", "fraction", "pct",
       "E_T / E_0 - 1: final equity over the initial cash, less one", headline=True),
    _m("cagr", "CAGR", "fraction", "pct",
       "compound annual growth rate over calendar years (days / 365.25)", headline=True),
    _m("ann_volatility", "Annualised volatility", "fraction", "pct",
       "standard deviation of session returns times sqrt(sessions a year)",
       higher=False, headline=True),
    _m("sharpe", "Sharpe ratio", "ratio", "ratio",
       "mean over standard deviation of returns in excess of cash, annualised", headline=True),
    _m("sortino", "Sortino ratio", "ratio", "ratio",
       "mean excess return over its downside deviation, annualised", headline=True),
    _m("max_drawdown", "Max drawdown", "fraction", "pct",
       "deepest fall of equity from a running peak (negative; nearer 0 is better)",
       headline=True),
    _m("max_drawdown_start", "Max drawdown: peak", "date", "date",
       "the session of the peak the deepest drawdown fell from"),
    _m("max_drawdown_trough", "Max drawdown: trough", "date", "date",
       "the session the deepest drawdown bottomed"),
    _m("max_drawdown_end", "Max drawdown: recovered", "date", "recovery",
       "the session equity regained the peak (none: not recovered)"),
    _m("max_drawdown_days", "Max drawdown: length", "days", "count",
       "calendar days from the peak to the recovery (or to the last session)", higher=False),
    _m("calmar", "Calmar ratio", "ratio", "ratio",
       "CAGR over the depth of the max drawdown", headline=True),
    _m("exposure", "Exposure", "fraction", "pct",
       "share of sessions ending with any asset held", headline=True),
    _m("turnover", "Turnover", "fraction", "pct",
       "one-way traded value over mean equity, per year", higher=False, headline=True),
    _m("trade_count", "Trades", "count", "count", "orders filled", headline=True),
    _m("round_trips", "Round trips", "count", "count",
       "closed round-trip trades (flat -> position -> flat)"),
    _m("win_rate", "Win rate", "fraction", "pct", "share of closed round trips with a gain"),
    _m("avg_trade", "Average trade", "fraction", "pct",
       "mean return of closed round trips (pnl over cash in)"),
    _m("best_trade", "Best trade", "fraction", "pct", "best closed round trip's return"),
    _m("worst_trade", "Worst trade", "fraction", "pct", "worst closed round trip's return"),
    _m("skew", "Skew", "ratio", "ratio", "skewness of excess returns"),
    _m("kurtosis", "Kurtosis", "ratio", "ratio", "kurtosis of excess returns (not excess)"),
    _m("psr", "Probabilistic Sharpe ratio", "fraction", "pct",
       "probability the true Sharpe ratio is above 0 (Bailey & Lopez de Prado 2012)"),
    _m("beta", "Beta", "ratio", "ratio", "cov(returns, benchmark) / var(benchmark)"),
    _m("alpha", "Alpha", "fraction", "pct",
       "excess return not explained by beta times the benchmark's, per year"),
    _m("tracking_error", "Tracking error", "fraction", "pct",
       "standard deviation of returns less the benchmark's, annualised", higher=False),
    _m("information_ratio", "Information ratio", "ratio", "ratio",
       "mean over standard deviation of returns less the benchmark's, annualised"),
    _m("final_equity", "Final equity ({currency})", "money", "money",
       "equity at the last session, in base currency"),
    _m("sessions", "Sessions", "sessions", "count", "valuation sessions in the window"),
    _m("years", "Years", "years", "number", "calendar length of the window in years"),
    _m("periods_per_year", "Sessions a year", "per year", "number",
       "valuation sessions per calendar year: the annualisation factor"),
)  # fmt: skip
METRICS: dict[str, Metric] = {m.key: m for m in _ALL}
HEADLINE: tuple[str, ...] = tuple(m.key for m in _ALL if m.headline)


def label(key: str, currency: str = "") -> str:
    """The label of ``key`` with its currency filled in (left out when not given); unknown keys
    are their own label."""
    metric = METRICS.get(key)
    if metric is None:
        return key
    if currency:
        return metric.label.replace("{currency}", currency)
    return metric.label.replace(" ({currency})", "").replace("{currency}", "")


def higher_is_better(key: str) -> bool:
    """Ranking direction of ``key``; unknown keys rank higher-is-better."""
    metric = METRICS.get(key)
    return True if metric is None else metric.higher_is_better


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NaT: not equal to themselves
    except (TypeError, ValueError):  # pd.NA will not be a bool
        return True


def is_number(value: Any) -> bool:
    """A real number (numpy scalars too), not a boolean."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _date(value: Any) -> str:
    """ISO date of a date-like value (a datetime with a time of day keeps it); text as it is."""
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").item()
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _plain(value: Any) -> str:
    """An unknown metric's value: flags yes/no, whole numbers as they are, others to 6 digits."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if is_number(value):
        return format(float(value), ".6g")
    if isinstance(value, dt.date | np.datetime64):
        return _date(value)
    return str(value)


_NUMERIC = {
    "pct": "{:.2%}",
    "ratio": "{:.2f}",
    "count": "{:,.0f}",
    "money": "{:,.2f}",
    "number": "{:,.2f}",
}


def format_value(key: str, value: Any, currency: str = "") -> str:
    """``value`` of metric ``key`` as text: "n/a" when undefined (NaN or None), "12.34%" for a
    fraction, "1.23" for a ratio, "1,234" for a count, "145,670.00" for money (with " AUD" when
    ``currency`` is given), ISO dates; unknown keys as plain values."""
    metric = METRICS.get(key)
    kind = metric.kind if metric is not None else ""
    if _missing(value):
        return "not recovered" if kind == "recovery" else _MISSING
    if kind in _NUMERIC and is_number(value):
        text = _NUMERIC[kind].format(float(value))
        if text.startswith("-") and not any(c in "123456789" for c in text):
            text = text[1:]  # a tiny negative that rounds to zero reads 0.00%, not -0.00%
        return f"{text} {currency}" if kind == "money" and currency else text
    if kind in ("date", "recovery"):
        return _date(value)
    return _plain(value)
