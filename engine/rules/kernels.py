"""Numba kernels of the rule blocks and of the rule machine (numpy and numba only).

Features on a series' own axis: record closes (``record_nb``), the running or rolling high
(``running_high_nb``), trailing means (``trailing_mean_nb``: the current and previous n - 1
values, or only the previous n for a volume baseline).

The rule machine turns block flags into each combo's orders in parallel passes, no Python per
combo. Its inputs, grouped as vectorbt groups a simulation's:

- ``Flags``: every distinct block setting's flags, one row each - ``when`` rows on the anchor axis
  (the rule's first series, or the decision points), ``exit`` rows on the decision points;
- ``Axis``: how the anchor axis meets the decision points (``first_dec``: the decision at which an
  anchor observation is first known; ``last_obs``: the last observation known before a decision);
- ``Sets``: the distinct combinations of settings - trigger sets (a flag row per ``when`` and
  ``when_any`` block, -1 where a block is off) and exit sets - each combined once
  (``triggers_nb``, ``exits_nb``) however many combos share it;
- ``Combos``: per combo, its trigger set, exit set, hold and on/off weights (``rule_orders_nb``).

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


class Sets(NamedTuple):
    """Distinct combinations of block settings, so each is combined once, not once per combo."""

    when: np.ndarray  # (T, n_when) int64 rows of Flags.when (-1: off)
    when_any: np.ndarray  # (T, n_any) int64 rows of Flags.when (-1: off)
    exit: np.ndarray  # (X, n_exit) int64 rows of Flags.exit (-1: off)


class Combos(NamedTuple):
    trigger: np.ndarray  # (K,) int64 row of Sets.when / Sets.when_any
    exit: np.ndarray  # (K,) int64 row of Sets.exit
    hold: np.ndarray  # (K,) int64 decisions a trigger holds; 0 = on while the conditions hold
    on: np.ndarray  # (K, N) weights while on
    off: np.ndarray  # (K, N) weights while off


@njit(cache=True, inline="always")
def _holds(flags, sets, t, i):
    """Whether anchor observation ``i`` satisfies trigger set ``t``'s when and when_any blocks."""
    for b in range(sets.when.shape[1]):
        row = sets.when[t, b]
        if row >= 0 and not flags.when[row, i]:
            return False
    n_any = sets.when_any.shape[1]
    if n_any == 0:
        return True
    live = False
    for b in range(n_any):
        row = sets.when_any[t, b]
        if row >= 0:
            live = True
            if flags.when[row, i]:
                return True
    return not live


@njit(cache=True, parallel=True)
def triggers_nb(flags, axis, sets, n_dec):
    """(fired (T, n_dec): a trigger known since the previous decision, now (T, n_dec): the last
    observation known satisfies the conditions) of every trigger set."""
    n_t = sets.when.shape[0]
    fired = np.zeros((n_t, n_dec), dtype=np.bool_)
    now = np.zeros((n_t, n_dec), dtype=np.bool_)
    n_anchor = axis.first_dec.shape[0]
    for t in prange(n_t):
        ok = np.zeros(n_anchor, dtype=np.bool_)
        for i in range(n_anchor):
            ok[i] = _holds(flags, sets, t, i)
            j = axis.first_dec[i]
            if ok[i] and j < n_dec:
                fired[t, j] = True
        for j in range(n_dec):
            i = axis.last_obs[j]
            now[t, j] = i >= 0 and ok[i]
    return fired, now


@njit(cache=True)
def exits_nb(flags, sets, n_dec):
    """(X, n_dec): any exit of each exit set at each decision (serial: a handful of sets; a
    parallel region would cost more to start than the work)."""
    n_x = sets.exit.shape[0]
    out = np.zeros((n_x, n_dec), dtype=np.bool_)
    for x in range(n_x):
        for b in range(sets.exit.shape[1]):
            row = sets.exit[x, b]
            if row >= 0:
                for j in range(n_dec):
                    out[x, j] |= flags.exit[row, j]
    return out


@njit(cache=True)
def state_nb(fired, now, exits, combos, k, out):
    """Combo ``k``'s on/off state at every decision into ``out`` (see the module docstring)."""
    t, x, hold = combos.trigger[k], combos.exit[k], combos.hold[k]
    if hold > 0:
        left = 0
        for j in range(out.shape[0]):
            if fired[t, j]:
                left = hold
            if exits[x, j]:
                left = 0
            out[j] = left > 0
            if left > 0:
                left -= 1
    else:
        for j in range(out.shape[0]):
            out[j] = now[t, j] and not exits[x, j]


@njit(cache=True, inline="always")
def _differ(a, b):
    for x in range(a.shape[0]):
        if a[x] != b[x]:
            return True
    return False


class Points(NamedTuple):
    """Where the dense flags of ``triggers_nb``/``exits_nb`` are set or change, per set, in CSR form
    (set s's points are ``at[off[s]:off[s + 1]]``), so a combo's orders cost its events, not its
    sessions."""

    fire_at: np.ndarray  # decisions where a trigger of the set fired
    fire_off: np.ndarray
    now_at: np.ndarray  # decisions where "conditions hold as last known" flips (from False)
    now_off: np.ndarray
    exit_at: np.ndarray  # decisions where any exit of the set is set
    exit_off: np.ndarray
    flip_at: np.ndarray  # decisions where the exit flag flips (from False)
    flip_off: np.ndarray


@njit(cache=True)
def points_nb(flags, flips):
    """(at, off): per row of ``flags`` (R, n), its set positions (``flips`` False) or the
    positions where it differs from the previous (the first compared with False)."""
    n_r, n = flags.shape
    off = np.zeros(n_r + 1, np.int64)
    for r in range(n_r):
        m = 0
        prev = False
        for j in range(n):
            if (flags[r, j] != prev) if flips else flags[r, j]:
                m += 1
            prev = flags[r, j]
        off[r + 1] = off[r] + m
    at = np.empty(off[n_r], np.int64)
    for r in range(n_r):
        i = off[r]
        prev = False
        for j in range(n):
            if (flags[r, j] != prev) if flips else flags[r, j]:
                at[i] = j
                i += 1
            prev = flags[r, j]
    return at, off


@njit(cache=True, inline="always")
def _put(row, weight, m, r, state, on, off):
    if m < row.shape[0]:
        row[m] = r
        weight[m, :] = on if state else off
    return m + 1


@njit(cache=True)
def _emit_nb(pts, combos, k, a, b, row, weight):
    """Combo ``k``'s orders on rows a..b (row numbers relative to a) from its sets' points: the
    same states as ``state_nb``, stepped from event to event; returns how many. Only counts when
    ``row`` is too short (the counting pass)."""
    big = np.iinfo(np.int64).max
    t, x, hold = combos.trigger[k], combos.exit[k], combos.hold[k]
    on, off = combos.on[k], combos.off[k]
    differ = _differ(on, off)
    if hold > 0:
        p_at, p_lo, p_hi = pts.fire_at, pts.fire_off[t], pts.fire_off[t + 1]
        q_at, q_lo, q_hi = pts.exit_at, pts.exit_off[x], pts.exit_off[x + 1]
    else:
        p_at, p_lo, p_hi = pts.now_at, pts.now_off[t], pts.now_off[t + 1]
        q_at, q_lo, q_hi = pts.flip_at, pts.flip_off[x], pts.flip_off[x + 1]
    i, e = p_lo, q_lo
    state, end, now, ex = False, np.int64(-1), False, False
    m, emitted = 0, False
    while True:
        nxt_p = p_at[i] if i < p_hi else big
        nxt_q = q_at[e] if e < q_hi else big
        nxt_x = end if (hold > 0 and state) else big  # the hold runs out
        pos = min(nxt_p, nxt_q, nxt_x)
        if pos > b:
            break
        if hold > 0:
            if nxt_p == pos:
                end = pos + hold
            if nxt_q == pos:
                end = pos  # an exit ends the hold, and wins over a trigger at the same point
            new = pos < end
        else:
            if nxt_p == pos:
                now = not now
            if nxt_q == pos:
                ex = not ex
            new = now and not ex
        if nxt_p == pos:
            i += 1
        if nxt_q == pos:
            e += 1
        if new == state:
            continue
        if pos > a and not emitted:
            m = _put(row, weight, m, 0, state, on, off)
            emitted = True
        if pos >= a and (differ or pos == a):
            if pos == a:
                emitted = True
            m = _put(row, weight, m, pos - a, new, on, off)
        state = new
    if not emitted:
        m = _put(row, weight, m, 0, state, on, off)
    return m


@njit(cache=True, parallel=True)
def rule_orders_nb(pts, combos, a, b):
    """(offsets (K + 1,), row (M,), weight (M, N)): every combo's orders on decision rows a..b, as
    ``Orders`` arrays (rows relative to a)."""
    n_k, n = combos.on.shape
    counts = np.zeros(n_k + 1, np.int64)
    none_row = np.empty(0, np.int64)
    none_w = np.empty((0, n))
    for k in prange(n_k):
        counts[k + 1] = _emit_nb(pts, combos, np.int64(k), a, b, none_row, none_w)
    offsets = np.cumsum(counts)
    row = np.empty(offsets[n_k], np.int64)
    weight = np.empty((offsets[n_k], n))
    for k in prange(n_k):
        lo, hi = offsets[k], offsets[k + 1]
        _emit_nb(pts, combos, np.int64(k), a, b, row[lo:hi], weight[lo:hi])  # one signature
    return offsets, row, weight
