"""Numba kernels of the rule blocks and of the rule machine (numpy and numba only).

Features on a series' own axis: record closes (``record_nb``), the running or rolling high
(``running_high_nb``), trailing means (``trailing_mean_nb``: the current and previous n - 1
values, or only the previous n for a volume baseline).

The rule machine turns block flags into each combo's orders in one parallel pass, no Python per
combo (``rule_orders_nb``). Its inputs, grouped as vectorbt groups a simulation's:

- ``Flags``: every distinct block setting's flags, one row each - ``when`` rows on the anchor axis
  (the rule's first series, or the decision points), ``exit`` rows on the decision points;
- ``Axis``: how the anchor axis meets the decision points (``first_dec``: the decision at which an
  anchor observation is first known; ``last_obs``: the last observation known before a decision);
- ``Combos``: per combo, the flag rows of each ``when``, ``when_any`` and ``exit`` block
  (-1: the block is off for that combo), its hold and its on/off weights.

A combo's state at decision j: with ``hold`` > 0, a trigger (an anchor observation at which every
``when`` and one ``when_any`` hold) known since the previous decision starts or extends a hold of
``hold`` decisions, and an exit flag ends it and wins over a trigger at the same decision (as
``hold_1d_nb``); with ``hold`` = 0 the rule is on while the last observation known satisfies the
conditions and no exit flag is set. Orders are written on the window's decision rows a..b: the
first always, later ones where the weights change (as ``window_targets``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange


@njit(cache=True)
def record_nb(close, lookback):
    """True where ``close`` exceeds every earlier close (``lookback`` = 0) or the previous
    ``lookback`` closes; the first observation is never a record. O(n) for any lookback."""
    n = close.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    if lookback == 0:
        running = -np.inf
        for i in range(n):
            out[i] = i > 0 and close[i] > running
            running = max(running, close[i])
        return out
    queue = np.empty(n, np.int64)
    head, tail = 0, 0
    for i in range(n):
        while head < tail and queue[head] < i - lookback:
            head += 1
        out[i] = head < tail and close[i] > close[queue[head]]
        while head < tail and close[queue[tail - 1]] <= close[i]:
            tail -= 1
        queue[tail] = i
        tail += 1
    return out


@njit(cache=True)
def running_high_nb(close, lookback):
    """Highest close up to and including each bar: over all history (``lookback`` = 0) or over the
    current and previous ``lookback`` bars."""
    n = close.shape[0]
    out = np.empty(n, dtype=np.float64)
    best = -np.inf
    for i in range(n):
        if lookback == 0:
            best = max(best, close[i])
            out[i] = best
        else:
            m = -np.inf
            for k in range(max(0, i - lookback), i + 1):
                m = max(m, close[k])
            out[i] = m
    return out


@njit(cache=True)
def trailing_mean_nb(values, n, exclude_current):
    """Mean of the last ``n`` values including the current one (or, with ``exclude_current``,
    the ``n`` before it); NaN until enough values exist or where any of them is NaN."""
    size = values.shape[0]
    out = np.full(size, np.nan)
    shift = 1 if exclude_current else 0
    for i in range(n - 1 + shift, size):
        total = 0.0
        for k in range(i - shift - n + 1, i - shift + 1):
            total += values[k]
        out[i] = total / n
    return out


class Flags(NamedTuple):
    when: np.ndarray  # (W, n_anchor) bool: one row per distinct when / when_any block setting
    exit: np.ndarray  # (E, n_dec) bool: one row per distinct exit block setting


class Axis(NamedTuple):
    first_dec: (
        np.ndarray
    )  # (n_anchor,) int64: decision where each anchor observation is first known
    last_obs: np.ndarray  # (n_dec,) int64: last anchor observation known before each decision, -1


class Combos(NamedTuple):
    when: np.ndarray  # (K, n_when) int64 rows of Flags.when (-1: off)
    when_any: np.ndarray  # (K, n_any) int64 rows of Flags.when (-1: off)
    exit: np.ndarray  # (K, n_exit) int64 rows of Flags.exit (-1: off)
    hold: np.ndarray  # (K,) int64 decisions a trigger holds; 0 = on while the conditions hold
    on: np.ndarray  # (K, N) weights while on
    off: np.ndarray  # (K, N) weights while off


@njit(cache=True, inline="always")
def _holds(flags, combos, k, i):
    """Whether anchor observation ``i`` satisfies combo ``k``'s when and when_any blocks."""
    for b in range(combos.when.shape[1]):
        row = combos.when[k, b]
        if row >= 0 and not flags.when[row, i]:
            return False
    n_any = combos.when_any.shape[1]
    if n_any == 0:
        return True
    live = False
    for b in range(n_any):
        row = combos.when_any[k, b]
        if row >= 0:
            live = True
            if flags.when[row, i]:
                return True
    return not live


@njit(cache=True, inline="always")
def _exits(flags, combos, k, j):
    for b in range(combos.exit.shape[1]):
        row = combos.exit[k, b]
        if row >= 0 and flags.exit[row, j]:
            return True
    return False


@njit(cache=True)
def rule_state_nb(flags, axis, combos, k, n_dec):
    """Combo ``k``'s on/off state at every decision (see the module docstring)."""
    state = np.zeros(n_dec, dtype=np.bool_)
    hold = combos.hold[k]
    if hold > 0:
        fired = np.zeros(n_dec, dtype=np.bool_)
        for i in range(axis.first_dec.shape[0]):
            j = axis.first_dec[i]
            if j < n_dec and not fired[j] and _holds(flags, combos, k, i):
                fired[j] = True
        left = 0
        for j in range(n_dec):
            if fired[j]:
                left = hold
            if _exits(flags, combos, k, j):
                left = 0
            if left > 0:
                state[j] = True
                left -= 1
    else:
        for j in range(n_dec):
            i = axis.last_obs[j]
            state[j] = i >= 0 and _holds(flags, combos, k, i) and not _exits(flags, combos, k, j)
    return state


@njit(cache=True, inline="always")
def _differ(a, b):
    for x in range(a.shape[0]):
        if a[x] != b[x]:
            return True
    return False


@njit(cache=True)
def _write_nb(state, on, off, a, b, row, weight):
    """Orders of one combo on rows a..b (row numbers relative to a); returns how many. Only counts
    when ``row`` is too short (the counting pass)."""
    m = 0
    for j in range(a, b + 1):
        now = on if state[j] else off
        if j > a:
            before = on if state[j - 1] else off
            if not _differ(now, before):
                continue
        if m < row.shape[0]:
            row[m] = j - a
            weight[m, :] = now
        m += 1
    return m


@njit(cache=True, parallel=True)
def rule_orders_nb(flags, axis, combos, n_dec, a, b):
    """(offsets (K + 1,), row (M,), weight (M, N)): every combo's orders on decision rows a..b, as
    ``Orders`` arrays (rows relative to a)."""
    n_k, n = combos.on.shape
    counts = np.zeros(n_k + 1, np.int64)
    none_row = np.empty(0, np.int64)
    none_w = np.empty((0, n))
    for k in prange(n_k):
        state = rule_state_nb(flags, axis, combos, k, n_dec)
        counts[k + 1] = _write_nb(state, combos.on[k], combos.off[k], a, b, none_row, none_w)
    offsets = np.cumsum(counts)
    row = np.empty(offsets[n_k], np.int64)
    weight = np.empty((offsets[n_k], n))
    for k in prange(n_k):
        state = rule_state_nb(flags, axis, combos, k, n_dec)
        lo, hi = offsets[k], offsets[k + 1]
        _write_nb(state, combos.on[k], combos.off[k], a, b, row[lo:hi], weight[lo:hi])
    return offsets, row, weight
