"""The flagship's fused grid path: many hold combos' orders from trigger and derail points at once.

``RussellFedRotation.grid_weights`` computes the trigger points of each distinct signal setting
and the derail points of each distinct derail setting once (``hold_points``: CSR form), then
``grid_orders_nb`` turns every combo's holds into orders in one parallel kernel - identical to one
``api.window_targets`` call per combo. ``factorize`` finds the distinct settings.

The kernel takes NamedTuples (defined here, at module level, so numba's disk cache finds them):

- ``HoldPoints`` - setting s fires at decision points ``fire_at[fire_off[s]:fire_off[s + 1]]``
  and derail setting e ends holds at ``exit_at[exit_off[e]:exit_off[e + 1]]`` (int64, sorted);
- ``HoldCombos`` - per combo k: its signal setting ``sig_of[k]``, derail setting ``exit_of[k]``
  (int64), ``hold_days[k]`` (int64), its small-cap ``weight[k]`` and ``base[k]`` (float64: 1.0
  = the rest in large caps, 0.0 = in cash).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numba import njit, prange


class HoldPoints(NamedTuple):
    fire_at: np.ndarray
    fire_off: np.ndarray
    exit_at: np.ndarray
    exit_off: np.ndarray


class HoldCombos(NamedTuple):
    sig_of: np.ndarray
    exit_of: np.ndarray
    hold_days: np.ndarray
    weight: np.ndarray
    base: np.ndarray


def _csr(flags: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(points, offsets): the True positions of each boolean array, concatenated."""
    at = [np.flatnonzero(f) for f in flags]
    return np.concatenate(at).astype(np.int64), np.cumsum([0] + [len(x) for x in at]).astype(
        np.int64
    )


def hold_points(fired: list[np.ndarray], exits: list[np.ndarray]) -> HoldPoints:
    """The trigger points of each signal setting (``fired``) and the derail points of each
    derail setting (``exits``), from their flags per decision point."""
    return HoldPoints(*_csr(fired), *_csr(exits))


@njit(cache=True, inline="always")
def _emit_nb(row, weight, i, r, small, large, prev_small, prev_large, force):
    """Write order (r, small, large) at ``i`` when it changes the target (or ``force``); returns
    the next index. Only counts when ``row`` is too short (the counting pass)."""
    if force or small != prev_small or large != prev_large:
        if i < row.shape[0]:
            row[i], weight[i, 0], weight[i, 1] = r, small, large
        i += 1
    return i


@njit(cache=True)
def _hold_orders_nb(points, combos, k, a, b, row, weight):
    """Combo k's orders on decision points a..b from its sorted trigger points ``fi`` and derail
    points ``ei`` (see ``grid_orders_nb``), written into ``row`` and ``weight`` (counted only,
    past their end); returns how many. Holds are merged intervals [start, stop); the first point
    a always trades."""
    s, e = combos.sig_of[k], combos.exit_of[k]
    fi = points.fire_at[points.fire_off[s] : points.fire_off[s + 1]]
    ei = points.exit_at[points.exit_off[e] : points.exit_off[e + 1]]
    hold, w, base = combos.hold_days[k], combos.weight[k], combos.base[k]
    on, off = (w, (1.0 - w) * base), (0.0, base)
    i = 0
    fp, ep, n_f, n_e = 0, 0, fi.shape[0], ei.shape[0]
    first = True
    prev = off
    cur_start, cur_stop = -1, -1
    while True:
        start, stop = -1, -1
        while fp < n_f and fi[fp] <= b:  # the next hold: a trigger not derailed at once
            f = fi[fp]
            while ep < n_e and ei[ep] < f:
                ep += 1
            fp += 1
            if ep < n_e and ei[ep] == f:  # a derail wins over a trigger at the same point
                continue
            start, stop = f, f + hold
            next_exit = ei[ep] if ep < n_e else b + hold + 1
            while fp < n_f and fi[fp] < min(stop, next_exit):  # a fresh trigger extends it
                stop = fi[fp] + hold
                fp += 1
            stop = min(stop, next_exit)
            break
        if start >= 0 and start == cur_stop:  # back to back: one hold
            cur_stop = stop
            continue
        if cur_start >= 0 and cur_stop > a and cur_stop > cur_start:
            if first:
                state = on if cur_start <= a else off
                i = _emit_nb(row, weight, i, 0, state[0], state[1], prev[0], prev[1], True)
                prev, first = state, False
            if a < cur_start:
                i = _emit_nb(row, weight, i, cur_start - a, on[0], on[1], prev[0], prev[1], False)
                prev = on
            if cur_stop <= b:
                i = _emit_nb(row, weight, i, cur_stop - a, off[0], off[1], prev[0], prev[1], False)
                prev = off
        if start < 0:
            break
        cur_start, cur_stop = start, stop
    if first:
        i = _emit_nb(row, weight, i, 0, off[0], off[1], prev[0], prev[1], True)
    return i


@njit(cache=True, parallel=True)
def grid_orders_nb(points, combos, a, b):
    """Orders of K combos (``combos``, a ``HoldCombos``) on the decision points a..b (rows
    0..b - a of the result), as ``Orders`` arrays (offsets, row, weight (M, 2)). Combo k's
    triggers and derails are its settings' ``points`` (a ``HoldPoints``); a trigger holds
    ``hold_days[k]`` points (as ``hold_1d_nb``: a fresh trigger extends it, a derail ends it and
    wins over a trigger at the same point). Weights: (``weight[k]``, the rest times ``base[k]``)
    inside a hold and (0, ``base[k]``) outside; the first point always trades, later ones only
    where the target changes."""
    n_k = combos.sig_of.shape[0]
    counts = np.zeros(n_k + 1, np.int64)
    none_row = np.empty(0, np.int64)
    none_w = np.empty((0, 2))
    for k in prange(n_k):
        # np.int64: prange's index is int64 in one loop, uint64 in the other (two versions)
        counts[k + 1] = _hold_orders_nb(points, combos, np.int64(k), a, b, none_row, none_w)
    offsets = np.cumsum(counts)
    row = np.empty(offsets[n_k], np.int64)
    out = np.empty((offsets[n_k], 2))
    for k in prange(n_k):
        lo, hi = offsets[k], offsets[k + 1]
        _hold_orders_nb(points, combos, np.int64(k), a, b, row[lo:hi], out[lo:hi])
    return offsets, row, out


def factorize(combos: pd.DataFrame, keys: tuple[str, ...]) -> tuple[np.ndarray, list[dict]]:
    """(code per combo, the distinct settings of ``keys`` as dicts), codes into that list."""
    columns = [combos[k].to_numpy() for k in keys]
    codes = np.zeros(len(combos), dtype=np.int64)
    for col in columns:  # mixed radix, renumbered after each key so codes stay below K
        c, uniques = pd.factorize(col)
        codes = np.unique(codes * len(uniques) + c, return_inverse=True)[1].astype(np.int64)
    _, first = np.unique(codes, return_index=True)
    settings = [
        dict(zip(keys, row, strict=True))
        for row in zip(*(c[first].tolist() for c in columns), strict=True)
    ]
    return codes, settings
