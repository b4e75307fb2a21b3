"""The NamedTuples the accounting kernels take, and building them once per run or grid chunk.

Kernels take their inputs grouped, as vectorbt's take ``SimulationContext`` and
``ProcessOrderState``: plain ``typing.NamedTuple`` classes of arrays and scalars, defined here at
module level, built on the pandas-facing side (``simulate``) and only read - field by field - by
the kernels (``kernels.run_nb``, ``grid_kernels.grid_nb``), which never build one and so need not
import this module. Field f of combo k is a row ``tuple.f[k]``, as vectorbt's per-column state.

- ``SimContext`` - what every combo of a run shares, read-only: the step timeline ``fill``,
  ``last`` (marks carried forward), ``fx`` (S, N), ``vpos`` (S,; valuation steps before each
  step), ``is_val`` (S,); per valuation step ``pv`` (V, N; last x fx), ``growth``, ``rf``,
  ``bench``, ``has_bench`` (V,); the benchmark's moments ``bench_moments`` (N_BENCH,); ``bounds``
  (B + 1,; first valuation step of each block, then V) and ``slots`` (where each per-block field
  goes, -1 not kept); ``init_cash``.
- ``ComboOrders`` - K combos' orders in CSR form (``orders.Orders.on_steps``): combo k trades at
  ``step[offsets[k]:offsets[k + 1]]`` towards those rows of ``weight`` (M, N), with the cost model
  ``costs[k]`` (K, N_COSTS).
- ``RunState`` - each combo's working rows, rewritten by every run: the metric state ``metric``
  (K, N_STATE), the running totals ``aux`` (K, N_AUX), ``units``, ``held`` (asset indices) and
  ``scratch`` (K, N).
- ``SimOutputs`` - what runs leave: ``acc`` (K, N_ACC), ``blocks`` (K, F B), ``counts``
  (K, N_COUNTS); ``curves`` (V, 2 + 2N) and order records ``orders`` (S N, ORDER_FIELDS) of a
  single run (K = 1), empty (0 rows) in a grid.

numba compiles (and caches on disk) one version per argument type, and a NamedTuple's type is its
class and its fields' types. So the fields are concrete and fixed: C-contiguous writable float64,
int64 or bool arrays and a float ``init_cash`` (``_array``) - an int ``init_cash`` or a read-only
array (e.g. unpickled on a Dask worker) would be another type, compiled again and cached apart.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engine.sim import kernels
from engine.stats import kernels as mk
from engine.timing.timeline import Steps


class SimContext(NamedTuple):
    """What every combo of a run shares (read-only; the module docstring)."""

    fill: np.ndarray
    last: np.ndarray
    fx: np.ndarray
    vpos: np.ndarray
    is_val: np.ndarray
    pv: np.ndarray
    growth: np.ndarray
    rf: np.ndarray
    bench: np.ndarray
    has_bench: np.ndarray
    bench_moments: np.ndarray
    bounds: np.ndarray
    slots: np.ndarray
    init_cash: float


class ComboOrders(NamedTuple):
    """K combos' orders (CSR) and cost models."""

    offsets: np.ndarray
    step: np.ndarray
    weight: np.ndarray
    costs: np.ndarray


class RunState(NamedTuple):
    """Each combo's working rows (rewritten by every run)."""

    metric: np.ndarray
    aux: np.ndarray
    units: np.ndarray
    held: np.ndarray
    scratch: np.ndarray


class SimOutputs(NamedTuple):
    """What K runs leave; curves and order records for a single run only."""

    acc: np.ndarray
    blocks: np.ndarray
    counts: np.ndarray
    curves: np.ndarray
    orders: np.ndarray


def _array(a, dtype=np.float64) -> np.ndarray:
    """``a`` as a C-contiguous writable array of ``dtype`` (itself when it already is one)."""
    out = np.ascontiguousarray(a, dtype=dtype)
    return out if out.flags.writeable else out.copy()


def sim_context(
    steps: Steps,
    init_cash: float,
    bench: np.ndarray | None = None,
    bounds: np.ndarray | None = None,
    slots: np.ndarray | None = None,
) -> SimContext:
    """The shared context of a run over ``steps``: with ``bench`` (V,; benchmark returns, NaN =
    none), ``bounds`` and ``slots`` for a grid; without, a single run's (no benchmark, one block,
    no block sums kept)."""
    fill, mark, fx = _array(steps.fill), _array(steps.mark), _array(steps.fx)
    is_val = _array(steps.is_val, np.bool_)
    last, vpos, pv, growth, rf = kernels.timeline_nb(mark, fx, is_val, _array(steps.accrual))
    n_val = pv.shape[0]
    if bench is None:
        b = e = np.zeros(n_val)
        moments = np.zeros(mk.N_BENCH)
    else:
        bench = np.ascontiguousarray(bench, dtype=np.float64)  # not kept: may be read-only
        b, e = mk.bench_split_nb(bench)
        moments = mk.bench_moments_nb(rf, bench)
    if bounds is None:
        bounds = np.array([0, n_val])
    if slots is None:
        slots = np.full(len(mk.BLOCK_FIELDS), -1)
    return SimContext(
        fill, last, fx, vpos, is_val, pv, growth, rf, b, e, moments,
        _array(bounds, np.int64), _array(slots, np.int64), float(init_cash),
    )  # fmt: skip


def combo_orders(offsets, step, weight, costs: np.ndarray) -> ComboOrders:
    """K combos' orders (``orders.Orders.on_steps``) and their cost models (K, N_COSTS)."""
    return ComboOrders(
        _array(offsets, np.int64), _array(step, np.int64), _array(weight), _array(costs)
    )


def run_state(k: int, n: int) -> RunState:
    """Working rows for K combos of N assets (``run_nb`` initialises a combo's rows itself)."""
    return RunState(
        np.empty((k, mk.N_STATE)), np.empty((k, kernels.N_AUX)), np.empty((k, n)),
        np.empty((k, n), np.int64), np.empty((k, n)),
    )  # fmt: skip


def sim_outputs(ctx: SimContext, k: int, records: int = 0) -> SimOutputs:
    """Outputs of K combos; ``records`` > 0: a single run's curves and room for that many order
    records, else none (a grid keeps no curves)."""
    n_val, n = ctx.pv.shape
    n_blocks = (int(ctx.slots.max()) + 1) * (ctx.bounds.shape[0] - 1)
    return SimOutputs(
        np.empty((k, mk.N_ACC)), np.zeros((k, n_blocks)), np.zeros((k, kernels.N_COUNTS)),
        np.empty((n_val, 2 + 2 * n) if records else (0, 0)),
        np.empty((records, kernels.ORDER_FIELDS)),
    )  # fmt: skip
