"""Scaling: wall time and peak memory at three sizes each of sessions T, instruments N and combos K.

Every point is its own process (warm-up first, then one timed run; memory is the peak RSS added
during the timed run). The growth exponent is the slope of log(cost) on log(size) over the three
points: 1 means cost grows linearly.

- T and K: the flagship grid of ``workload`` through ``engine.research.grid.simulate_combos`` (N = 2 traded
  plus cash); T by moving the window's start (the data before it still feeds the signals), K by
  the number of sampled combos.
- N: the flagship has two instruments, so N runs a synthetic universe through the public
  ``engine.sim.portfolio.simulate`` (one run: the same kernel, plus validation, order and trade records
  and metrics): N random-walk closes over 6,579 sessions, a rebalance every 21 sessions to random
  weights, close fills, 10 bps fees. Timed: the ``simulate`` call (inputs are built before it).
"""

from __future__ import annotations

import harness
import numpy as np
import workload as wl


def _measure(fn, *args):
    start = harness.reset_peak()
    _, wall = harness.timed(fn, *args)
    return {"wall_s": round(wall, 4), "added_rss_mb": round(harness.phase_peak_mb() - start, 1)}


def grid_point(t: int | None, k: int) -> dict:
    w = wl.load()
    if t is not None:
        w = wl.load(start=str(w.prepared.steps.val_labels[-t].date()))
    wl.run_crosscurrent(w, w.combos(64, seed=1))  # warm-up
    m = _measure(wl.run_crosscurrent, w, w.combos(k))
    work = k * w.sessions
    return {"sessions": w.sessions, "k": k, "n": 2, "combo_sessions": work,
            "combo_sessions_per_s": work / m["wall_s"], **m}  # fmt: skip


def _universe(n: int, t_len: int, seed: int = 0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2000-01-03", periods=t_len)
    close = pd.DataFrame(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (t_len, n)), axis=0)),
                         idx, [f"A{j}" for j in range(n)])  # fmt: skip
    weights = np.full((t_len, n), np.nan)
    weights[::21] = rng.dirichlet(np.ones(n), size=len(weights[::21]))
    return close, pd.DataFrame(weights, idx, close.columns)


def simulate_point(n: int, t_len: int = 6579) -> dict:
    from engine.sim.portfolio import simulate

    simulate(*_universe(n, 64), fees_bps=10.0)  # warm-up
    close, weights = _universe(n, t_len)
    m = _measure(lambda: simulate(close, weights, fees_bps=10.0, init_cash=100_000.0))
    return {"sessions": t_len, "k": 1, "n": n, "combo_sessions": t_len,
            "combo_sessions_per_s": t_len / m["wall_s"], **m}  # fmt: skip


def _dimension(points: list[dict], key: str) -> dict:
    sizes = [p[key] if key != "t" else p["sessions"] for p in points]
    return {
        "points": points,
        "time_exponent": round(harness.growth_exponent(sizes, [p["wall_s"] for p in points]), 2),
        "memory_exponent": round(
            harness.growth_exponent(sizes, [max(p["added_rss_mb"], 0.1) for p in points]), 2
        ),
    }


def run(ts, ns, ks, k_for_t: int) -> dict:
    call = harness.call_worker
    return {
        "T": _dimension([call("bench_scaling", "grid_point", t=t, k=k_for_t) for t in ts], "t"),
        "N": _dimension([call("bench_scaling", "simulate_point", n=n) for n in ns], "n"),
        "K": _dimension([call("bench_scaling", "grid_point", t=None, k=k) for k in ks], "k"),
    }


if __name__ == "__main__":
    harness.worker_main({"grid_point": grid_point, "simulate_point": simulate_point})
