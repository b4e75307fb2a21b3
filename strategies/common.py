"""Pieces shared by the built-in strategies: per-bar numba kernels and common parameters.

Lives here: the hold/exit state machine over decision points (``hold_1d_nb``), a two-threshold
switch (``hysteresis_1d_nb``), the running or rolling high (``running_high_1d_nb``, the rule
blocks' own kernel), features on a series' own axis (``trailing_return``, ``trailing_change``: the
rule blocks'; ``moving_average``), the shared ``risk_off``/``weight``
parameters and the small-caps/large-caps weight layout. Not here: any strategy's rule (each strategy
has its own module) or alignment onto decision points (``engine.timing.align``, via ``Context``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from engine.rules.blocks import trailing_change as trailing_change  # re-exported for strategies
from engine.rules.blocks import trailing_return as trailing_return
from engine.rules.kernels import running_high_nb as running_high_1d_nb  # noqa: F401
from engine.strategy.base import Param

SMALL, LARGE = "XSO", "XJO"


@njit(cache=True)
def hold_1d_nb(fired, exits, hold_days):
    """True for ``hold_days`` decision points from each fired one; a new fire restarts the count;
    an exit ends the hold at once and wins over a fire at the same point."""
    out = np.zeros(fired.shape[0], dtype=np.bool_)
    left = 0
    for i in range(fired.shape[0]):
        if fired[i]:
            left = hold_days
        if exits[i]:
            left = 0
        if left > 0:
            out[i] = True
            left -= 1
    return out


@njit(cache=True)
def hysteresis_1d_nb(enter, leave, start):
    """State per step: switch on where ``enter``, off where ``leave`` (leave wins a tie), else keep
    the previous state; ``start`` is the state before the first step."""
    out = np.zeros(enter.shape[0], dtype=np.bool_)
    state = start
    for i in range(enter.shape[0]):
        if leave[i]:
            state = False
        elif enter[i]:
            state = True
        out[i] = state
    return out


def moving_average(values: np.ndarray, n: int) -> np.ndarray:
    """Simple mean of the last ``n`` values including the current one; NaN for the first n - 1."""
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    if n <= len(v):
        csum = np.concatenate(([0.0], np.cumsum(v)))
        out[n - 1 :] = (csum[n:] - csum[:-n]) / n
    return out


def risk_off_param(default: str = "large") -> Param:
    return Param(
        "risk_off",
        default,
        "choice",
        "what to hold when not rotated: the S&P/ASX 200 ('large') or cash at the RBA rate ('cash')",
        choices=("large", "cash"),
    )


def hold_days_param() -> Param:
    return Param(
        "hold_days",
        20,
        "int",
        "ASX sessions to stay rotated after a signal",
        "sessions",
        low=1,
        high=1000,
    )


def weight_param() -> Param:
    return Param(
        "weight",
        1.0,
        "float",
        "fraction of the portfolio rotated into small caps",
        "fraction",
        low=0.0,
        high=1.0,
    )


def small_or_risk_off(on: np.ndarray, weight: float, risk_off: str) -> np.ndarray:
    """Weights (n, 2) for (XSO, XJO): ``weight`` in small caps where ``on``; the rest, and
    everything elsewhere, in large caps (``risk_off='large'``) or cash."""
    base = 1.0 if risk_off == "large" else 0.0
    out = np.zeros((len(on), 2))
    out[:, 0] = np.where(on, weight, 0.0)
    out[:, 1] = np.where(on, (1.0 - weight) * base, base)
    return out


PERIODS = {"daily": None, "weekly": "W", "monthly": "M", "quarterly": "Q", "yearly": "Y"}
# Most sessions a period of each kind can hold on any calendar (for the warm-up replay).
PERIOD_SESSIONS = {"daily": 1, "weekly": 7, "monthly": 25, "quarterly": 70, "yearly": 270}


def period_starts(labels: pd.DatetimeIndex, period: str) -> np.ndarray:
    """True at the first session of each period (``daily``, ``weekly``, ``monthly``, ``quarterly``,
    ``yearly``) and at row 0; from session dates only, so it never looks ahead."""
    out = np.ones(len(labels), dtype=bool)
    if PERIODS[period] is not None and len(labels) > 1:
        key = labels.to_period(PERIODS[period]).asi8
        out[1:] = key[1:] != key[:-1]
    return out


def hold_from_checks(check: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``value`` at each check row, carried forward to the rows until the next check."""
    last = np.maximum.accumulate(np.where(check, np.arange(len(check)), 0))
    return value[last]
