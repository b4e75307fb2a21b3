"""Grid throughput: the flagship grid through crosscurrent and through vectorbt, same process.

For each K, one fresh worker process (``race``): load the workload (``workload``: untimed), compile
or load both engines from the numba cache with a small warm-up grid each, then time

- crosscurrent: ``engine.research.grid.simulate_combos`` on all K combos - target weights (signals, holds,
  change points), orders on the step timeline, the parallel kernel, all 26 grid metrics per combo,
  the result table;
- vectorbt: from the same data, the trigger flags per distinct signal setting, holds/weights/change
  points by NumPy broadcasting, ``Portfolio.from_orders`` and ``sharpe_ratio()``/``max_drawdown()``,
  in chunks of ``workload.VBT_CHUNK`` combos (vectorbt needs ~3 GB for 1,000 combos x 6,579
  sessions at once, so K = 100,000 cannot be held). When ``vbt_k`` < K, vectorbt runs an evenly
  spaced subset of vbt_k combos and its time is scaled by K / vbt_k (its cost is linear in the
  number of chunks); the output says so.

Memory is the peak RSS of each phase (reset before it), so the two do not pollute each other; the
process also reports its own peak. Parity: on every combo vectorbt ran, its Sharpe and max
drawdown must equal crosscurrent's to ``TOL``.
Run alone: ``.venv/bin/python benchmarks/bench_grid.py --worker race '{"k": 1000}'``.
"""

from __future__ import annotations

import harness
import numpy as np
import workload as wl

TOL = 1e-9


def _warm_up(w: wl.Workload) -> None:
    combos = w.combos(64, seed=1)
    wl.run_crosscurrent(w, combos)
    wl.run_vectorbt(w, combos.iloc[:4])


def _phase(fn, *args):
    start = harness.reset_peak()
    out, wall = harness.timed(fn, *args)
    peak = harness.phase_peak_mb()
    return out, wall, {"peak_rss_mb": round(peak, 1), "added_rss_mb": round(peak - start, 1)}


def race(k: int, vbt_k: int | None = None, engine: str = "numba") -> dict:
    w = wl.load()
    _warm_up(w)
    combos = w.combos(k)
    vbt_k = min(k, vbt_k or k)
    table, cc_wall, cc_mem = _phase(wl.run_crosscurrent, w, combos)
    subset = np.linspace(0, k - 1, vbt_k).round().astype(np.int64)
    (sharpe, mdd), vbt_run_wall, vbt_mem = _phase(
        wl.run_vectorbt, w, combos.iloc[subset].reset_index(drop=True), engine
    )
    vbt_wall = vbt_run_wall * k / vbt_k
    d_sharpe = np.abs(sharpe - table["sharpe"].to_numpy()[subset])
    d_mdd = np.abs(mdd - table["max_drawdown"].to_numpy()[subset])
    work = k * w.sessions
    return {
        "k": k,
        "sessions": w.sessions,
        "combo_sessions": work,
        "crosscurrent": {
            "wall_s": round(cc_wall, 3),
            "combo_sessions_per_s": work / cc_wall,
            **cc_mem,
        },  # fmt: skip
        "vectorbt": {
            "engine": engine,
            "wall_s": round(vbt_wall, 3),
            "combo_sessions_per_s": work / vbt_wall,
            "combos_run": int(vbt_k),
            "measured_wall_s": round(vbt_run_wall, 3),
            "extrapolated": vbt_k < k,
            "chunk": wl.VBT_CHUNK,
            "chunks_run": -(-vbt_k // wl.VBT_CHUNK),
            **vbt_mem,
        },
        "speedup": vbt_wall / cc_wall,
        "parity": {
            "combos_compared": int(vbt_k),
            "max_abs_diff_sharpe": float(np.nanmax(d_sharpe)),
            "max_abs_diff_max_drawdown": float(np.nanmax(d_mdd)),
            "nan_mismatch": int(
                (np.isnan(sharpe) != np.isnan(table["sharpe"].to_numpy()[subset])).sum()
            ),  # fmt: skip
            "tolerance": TOL,
            "ok": bool(np.nanmax(d_sharpe) <= TOL and np.nanmax(d_mdd) <= TOL),
        },
    }


def profile(k: int = 4096, top: int = 12) -> dict:
    """Where crosscurrent's grid time goes: ``simulate_combos`` on k combos under cProfile (after a
    warm-up), the functions with the most own time (a numba kernel's time is its Python caller's
    own time: cProfile cannot see inside compiled code)."""
    import cProfile
    import pstats

    w = wl.load()
    wl.run_crosscurrent(w, w.combos(64, seed=1))
    combos = w.combos(k)
    prof = cProfile.Profile()
    t0 = harness.time.perf_counter()
    prof.runcall(wl.run_crosscurrent, w, combos)
    total = harness.time.perf_counter() - t0
    stats = pstats.Stats(prof).stats
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]
    root = str(harness.ROOT) + "/"
    return {
        "k": k,
        "sessions": w.sessions,
        "wall_s_profiled": round(total, 3),
        "top_own_time": [
            {
                "function": f"{f.replace(root, '')}:{line}({name})",
                "calls": v[1],
                "own_s": round(v[2], 3),
                "cumulative_s": round(v[3], 3),
                "share": round(v[2] / total, 3),
            }
            for (f, line, name), v in rows
        ],  # fmt: skip
    }


def run(ks, vbt_limit: int | None, engine: str = "numba") -> list[dict]:
    """One ``race`` process per K; vectorbt runs at most ``vbt_limit`` combos (None: all)."""
    return [harness.call_worker("bench_grid", "race", k=k, vbt_k=vbt_limit, engine=engine)
            for k in ks]  # fmt: skip


if __name__ == "__main__":
    harness.worker_main({"race": race, "profile": profile})
