"""A huge sampled grid end to end: ``engine.research.grid.run_grid`` (simulation, ranking, winner, PBO and
the other honesty statistics) on K combos drawn from the flagship workload's space widened by a
drawdown derail (``SPACE``: 11.2 M combos), in this process; prints the wall time and the peak
RSS. Not part of ``make bench`` (10 M combos take ~10 min on 2 cores).

Run: ``.venv/bin/python benchmarks/bench_memory.py 10000000``.
"""

from __future__ import annotations

import json
import sys
import time

import harness
import workload as wl

from engine.research.grid import run_grid
from engine.strategy.space import Space

SPACE = (*wl.SPACE, "exit_drawdown=0:0.3:0.05")


def main(k: int) -> dict:
    w = wl.load()
    combos = Space.from_specs(wl.STRATEGY, list(SPACE)).sample(k, wl.SEED)
    k = len(combos)
    before = harness.peak_rss_mb()
    start = time.perf_counter()
    res = run_grid(wl.STRATEGY, combos, w.cfg)
    wall = time.perf_counter() - start
    out = {
        "k": k,
        "sessions": w.sessions,
        "wall_s": round(wall, 1),
        "combo_sessions_per_s": k * w.sessions / wall,
        "peak_rss_mb_before_grid": round(before, 1),
        "peak_rss_mb": round(harness.peak_rss_mb(), 1),
        "pbo_splits": res.honesty["over_cash"]["splits"],
        "effective_trials": res.honesty["over_cash"]["effective_trials"],
        "machine": harness.machine(),
        "revision": harness.git_revision(),
    }
    print(json.dumps(out, indent=2, default=float))
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
