"""Dask: a sampled flagship grid on a 2-worker local cluster against the same grid in-process.

One fresh process (``race``): draw K distinct combos from the flagship space (``Space.sample``,
timed on its own), then

1. in-process: ``simulate_combos`` (numba threads over the chunks' combos), after a warm-up;
2. Dask: ``engine.research.cluster.DaskExecutor("local:2")`` - cluster start-up timed on its own, a
   warm-up on every worker (kernels, calendars) and through the executor, then the same K combos
   through ``map_chunks``, as ``backtest grid --cluster local:2`` runs them.

Both tables must be identical. Memory: the client process's peak RSS during each phase, and each
worker process's own peak. The 1-million-combo figure is measured directly with ``--full``;
otherwise K is smaller and the time at 1 M is extrapolated linearly (cost is linear in K: see the
scaling section) and labelled as such.
"""

from __future__ import annotations

import resource

import harness
import numpy as np
import workload as wl


def _worker_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _phase(fn, *args, **kwargs):
    start = harness.reset_peak()
    out, wall = harness.timed(fn, *args, **kwargs)
    peak = harness.phase_peak_mb()
    return out, wall, {"peak_rss_mb": round(peak, 1), "added_rss_mb": round(peak - start, 1)}


def race(k: int, workers: int = 2, target_k: int = 1_000_000) -> dict:
    from engine.research.cluster import DaskExecutor

    w = wl.load()
    combos, sample_wall = harness.timed(w.combos, k)
    wl.run_crosscurrent(w, w.combos(64, seed=1))  # warm-up
    local, local_wall, local_mem = _phase(wl.run_crosscurrent, w, combos)
    ex = DaskExecutor(f"local:{workers}")
    _, start_wall = harness.timed(ex.__enter__)
    try:
        ex.client.run(_warm_up_worker)  # every worker loads its kernels and calendars
        wl.run_crosscurrent(w, w.combos(512, seed=1), executor=ex)
        dask, dask_wall, dask_mem = _phase(wl.run_crosscurrent, w, combos, executor=ex)
        worker_peaks = sorted(ex.client.run(_worker_peak_mb).values())
        numba_threads = sorted(set(ex.client.run(_numba_threads).values()))
    finally:
        ex.__exit__(None, None, None)
    metrics = [c for c in local.select_dtypes("number").columns if c not in combos.columns]
    diff = (local[metrics] - dask[metrics]).abs().to_numpy()
    same = local.equals(dask)
    work = k * w.sessions
    scale = target_k / k

    def side(wall, mem, **extra):
        return {"wall_s": round(wall, 3), "combo_sessions_per_s": work / wall,
                f"wall_s_at_{target_k}": round(wall * scale, 1), **mem, **extra}  # fmt: skip

    return {
        "k": k,
        "target_k": target_k,
        "extrapolated": k < target_k,
        "sessions": w.sessions,
        "combo_sessions": work,
        "sample_s": round(sample_wall, 3),
        "in_process": side(local_wall, local_mem),
        "dask": side(
            dask_wall,
            dask_mem,
            workers=workers,
            cluster_start_s=round(start_wall, 2),
            worker_peak_rss_mb=[round(x, 1) for x in worker_peaks],
            worker_numba_threads=numba_threads,
        ),  # fmt: skip
        "dask_vs_in_process": local_wall / dask_wall,
        "identical_tables": bool(same),
        "max_abs_diff": float(np.nanmax(diff)) if diff.size else 0.0,
    }


def _warm_up_worker() -> bool:
    w = wl.load()
    wl.run_crosscurrent(w, w.combos(16, seed=1))
    return True


def _numba_threads() -> int:
    import numba

    return numba.get_num_threads()


def run(k: int, target_k: int = 1_000_000) -> dict:
    return harness.call_worker("bench_dask", "race", k=k, target_k=target_k)


if __name__ == "__main__":
    harness.worker_main({"race": race})
