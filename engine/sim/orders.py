"""Sparse orders: for each of K combos, only the decision rows at which it trades.

A strategy's window orders are mostly "no order" (NaN rows): a target changes a few dozen times in
26 years. ``Orders`` keeps, per combo, the rows that trade and their weights in CSR form - combo k's
orders are ``row[offsets[k]:offsets[k + 1]]`` and the matching rows of ``weight`` - so a grid
chunk costs memory in proportion to its orders, not to K x sessions, and the simulation loop jumps
from one order to the next (``kernels.run_nb``). Dense (K, R, N) arrays convert both ways.

Not here: deciding the weights (strategies) or placing rows on the step timeline (``on_steps``
does that one mapping, nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@njit(cache=True)
def sparse_rows_nb(targets):
    """(offsets (K + 1,), row (M,), weight (M, N)) of dense orders ``targets`` (K, R, N): a row
    trades when any of its weights is set (not NaN)."""
    n_k, n_r, n = targets.shape
    trades = np.zeros((n_k, n_r), np.bool_)
    offsets = np.zeros(n_k + 1, np.int64)
    for k in range(n_k):
        m = 0
        for r in range(n_r):
            for j in range(n):
                if not np.isnan(targets[k, r, j]):
                    trades[k, r] = True
                    m += 1
                    break
        offsets[k + 1] = offsets[k] + m
    row = np.empty(offsets[n_k], np.int64)
    weight = np.empty((offsets[n_k], n))
    i = 0
    for k in range(n_k):
        for r in range(n_r):
            if trades[k, r]:
                row[i] = r
                weight[i] = targets[k, r]
                i += 1
    return offsets, row, weight


@njit(cache=True)
def on_steps_nb(offsets, row, fill_row, n_rows):
    """(offsets, step, keep): each order's fill step (``fill_row``: (S,) the row filled at each
    step, -1 = none); orders whose row never fills are dropped (``keep`` marks the kept ones)."""
    row_step = np.full(n_rows, -1, np.int64)
    for s in range(fill_row.shape[0]):
        if fill_row[s] >= 0:
            row_step[fill_row[s]] = s
    n_k = offsets.shape[0] - 1
    keep = np.zeros(row.shape[0], np.bool_)
    out = np.zeros(n_k + 1, np.int64)
    for k in range(n_k):
        m = 0
        for i in range(offsets[k], offsets[k + 1]):
            if row_step[row[i]] >= 0:
                keep[i] = True
                m += 1
        out[k + 1] = out[k] + m
    step = np.empty(out[n_k], np.int64)
    i_out = 0
    for i in range(row.shape[0]):
        if keep[i]:
            step[i_out] = row_step[row[i]]
            i_out += 1
    return out, step, keep


@dataclass(frozen=True)
class Orders:
    """Orders of K combos on R decision rows (see the module docstring)."""

    offsets: np.ndarray  # (K + 1,) int64
    row: np.ndarray  # (M,) int64, ascending within each combo, in [0, n_rows)
    weight: np.ndarray  # (M, N) float64; NaN = leave that asset alone
    n_rows: int

    @property
    def k(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def from_dense(cls, targets: np.ndarray) -> Orders:
        """From (R, N) (one combo) or (K, R, N) targets, NaN = no order."""
        t = np.ascontiguousarray(targets, dtype=np.float64)
        t = t[None] if t.ndim == 2 else t
        return cls(*sparse_rows_nb(t), n_rows=t.shape[1])

    def dense(self) -> np.ndarray:
        """(K, R, N) with NaN where a combo places no order."""
        out = np.full((self.k, self.n_rows, self.weight.shape[1]), np.nan)
        combo = np.repeat(np.arange(self.k), np.diff(self.offsets))
        out[combo, self.row] = self.weight
        return out

    def on_steps(self, fill_row: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(offsets, step, weight) for ``kernels.run_nb``: each order at its row's fill step."""
        offsets, step, keep = on_steps_nb(self.offsets, self.row, fill_row, self.n_rows)
        return offsets, step, np.ascontiguousarray(self.weight[keep])
