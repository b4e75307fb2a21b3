"""``make bench``: every benchmark of crosscurrent against vectorbt, a table, ``results.json``.

This logic lives here, in order:

1. grid throughput (``bench_grid``): the flagship grid at K = 1,000 and 100,000 combos through both
   engines in one process each, with a parity check and peak memory per engine; and
   (``bench_rules``) a 3-block rule's grid beside the flagship's and vectorbt's, same process;
2. single run (``bench_single``): ``backtest run russell-fed-rotation`` and the equivalent
   vectorbt script as fresh processes, warm and cold caches, plus a profile of a warm run;
3. scaling (``bench_scaling``): three sizes each of T, N and K, with growth exponents;
4. Dask (``bench_dask``): a sampled grid on a 2-worker local cluster against in-process;
5. the targets (``TARGETS``) judged on those measurements, then the table and
   ``benchmarks/results.json`` (machine, versions, date, every measurement, every target with
   pass/miss and by how much).

Modes: default (~10 min on 2 cores: vectorbt's K = 100,000 and the 1 M-combo Dask grid are
measured on a part and extrapolated, labelled so), ``--quick`` (~3 min, smaller sizes, for
checking the harness) and ``--full`` (everything at full size, no extrapolation; ~35 min on 2
cores: vectorbt's 100 chunks alone take ~10 min, the 1 M-combo grid ~6 min each way).
Run: ``make bench`` (``make bench BENCH_ARGS=--full``) or ``.venv/bin/python benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import bench_dask
import bench_grid
import bench_rules
import bench_scaling
import bench_single
import harness
import report

MODES = {
    "quick": {"grid_ks": [1000, 10_000], "vbt_limit": 1000, "rule_k": 10_000, "single_repeat": 2,
              "scale_ts": [1625, 3250, 6579], "scale_k_for_t": 1000, "scale_ns": [5, 50, 500],
              "scale_ks": [500, 2000, 8000], "dask_k": 5000},
    "default": {"grid_ks": [1000, 100_000], "vbt_limit": 5000, "rule_k": 39_600, "single_repeat": 3,
                "scale_ts": [1625, 3250, 6579], "scale_k_for_t": 5000, "scale_ns": [5, 50, 500],
                "scale_ks": [2500, 10_000, 40_000], "dask_k": 100_000},
    "full": {"grid_ks": [1000, 100_000], "vbt_limit": None, "rule_k": 39_600, "single_repeat": 5,
             "scale_ts": [1625, 3250, 6579], "scale_k_for_t": 10_000, "scale_ns": [5, 50, 500],
             "scale_ks": [6250, 25_000, 100_000], "dask_k": 1_000_000},
}  # fmt: skip
SECTIONS = ("grid", "rules", "single", "scaling", "dask")
ONE_MILLION = 1_000_000


def _target(name, measured, op, threshold, unit, how, extrapolated=False) -> dict:
    higher = op == ">="
    ok = (
        measured >= threshold
        if higher
        else measured < threshold
        if op == "<"
        else (measured <= threshold)
    )
    factor = measured / threshold if higher else threshold / measured
    return {
        "target": name,
        "op": op,
        "threshold": threshold,
        "measured": measured,
        "unit": unit,
        "how": how,
        "extrapolated": bool(extrapolated),
        "pass": bool(ok),
        # > 1: met with this much to spare; < 1: missed - the measured figure must improve 1/factor x
        "factor": round(factor, 3),
        "miss_by": None if ok else f"{1 / factor:.2f}x short",
    }


def _memory_at_million(res: dict) -> tuple[float, bool]:
    """Peak RSS (MB) of an in-process 1 M-combo grid: measured (``--full``), or extrapolated from
    every in-process point (Dask section, K scaling): a least-squares line of added RSS on K,
    evaluated at 1 M, on top of the RSS the process had before the grid."""
    side = res["dask"]["in_process"]
    if res["dask"]["k"] >= ONE_MILLION:
        return side["peak_rss_mb"], False
    points = [(res["dask"]["k"], side["added_rss_mb"], side["peak_rss_mb"] - side["added_rss_mb"])]
    for p in res.get("scaling", {}).get("K", {}).get("points", []):
        points.append((p["k"], p["added_rss_mb"], None))
    ks = [p[0] for p in points]
    added = [p[1] for p in points]
    mk, ma = sum(ks) / len(ks), sum(added) / len(added)
    den = sum((k - mk) ** 2 for k in ks)
    slope = sum((k - mk) * (a - ma) for k, a in zip(ks, added, strict=True)) / den if den else 0.0
    slope = slope if den else ma / mk  # one point: proportional
    return points[0][2] + ma + slope * (ONE_MILLION - mk), True


def targets(res: dict) -> list[dict]:
    out = []
    if "grid" in res:
        big = max(res["grid"], key=lambda g: g["k"])
        k = f"K = {big['k']:,}"
        out.append(_target("grid throughput vs vectorbt", big["speedup"], ">=", 100.0, "x",
                           f"wall-time ratio, {k}", big["vectorbt"]["extrapolated"]))  # fmt: skip
        out.append(_target("grid combo-sessions per second",
                           big["crosscurrent"]["combo_sessions_per_s"], ">=", 50e6,
                           "combo-sessions/s", f"crosscurrent, {k}"))  # fmt: skip
    if "rules" in res:
        r = res["rules"]
        k = f"K = {r['k']:,}, {r['rule']}"
        out.append(_target("rule grid vs the flagship's (combo-sessions/s)",
                           r["rule_vs_flagship"], ">=", 0.5, "x", f"same process, {k}"))  # fmt: skip
        out.append(_target("rule grid vs vectorbt", r["speedup_vs_vectorbt"], ">=", 100.0, "x",
                           f"wall-time ratio, {k}", r["vectorbt_extrapolated"]))  # fmt: skip
    if "dask" in res:
        mb, extra = _memory_at_million(res)
        out.append(_target("grid memory for 1 M combos", mb / 1024.0, "<", 2.0, "GB",
                           "peak RSS of the in-process grid process", extra))  # fmt: skip
    if "single" in res:
        single = res["single"]
        cc = single["crosscurrent"]
        out.append(_target("warm single run (process wall)", cc["warm"]["wall_s_best"], "<=", 1.5,
                           "s", "best of the warm runs"))  # fmt: skip
        out.append(_target("warm single run vs vectorbt script", single["warm_speedup"], ">=",
                           5.0, "x", "best warm wall-time ratio"))  # fmt: skip
        out.append(_target("cold first run (process wall)", cc["cold"]["wall_s_best"], "<=", 20.0,
                           "s", "empty numba cache"))  # fmt: skip
    return out


def main() -> dict:
    parser = argparse.ArgumentParser(description="crosscurrent vs vectorbt benchmarks")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes (~3 min)")
    mode.add_argument("--full", action="store_true", help="full sizes, no extrapolation (~35 min)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument("--vbt-engine", default="numba", help="vectorbt engine: numba or rust")
    parser.add_argument("--out", type=Path, default=harness.HERE / "results.json")
    args = parser.parse_args()
    name = "quick" if args.quick else "full" if args.full else "default"
    cfg = MODES[name]
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"--only: unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    res: dict = {}
    t0 = time.perf_counter()
    steps = {
        "grid": lambda: bench_grid.run(cfg["grid_ks"], cfg["vbt_limit"], args.vbt_engine),
        "grid_profile": lambda: harness.call_worker("bench_grid", "profile"),
        "rules": lambda: bench_rules.run(cfg["rule_k"], cfg["vbt_limit"]),
        "single": lambda: bench_single.run(cfg["single_repeat"]),
        "scaling": lambda: bench_scaling.run(
            cfg["scale_ts"], cfg["scale_ns"], cfg["scale_ks"], cfg["scale_k_for_t"]
        ),  # fmt: skip
        "dask": lambda: bench_dask.run(cfg["dask_k"], ONE_MILLION),
    }
    for key, step in steps.items():
        if key.split("_")[0] in only:
            report.progress(f"{key} ...")
            res[key] = step()
    doc = {
        "mode": name,
        "mode_sizes": cfg,
        "command": "make bench"
        + {"quick": " BENCH_ARGS=--quick", "full": " BENCH_ARGS=--full", "default": ""}[
            name
        ],  # fmt: skip
        "machine": harness.machine(),
        "revision": harness.git_revision(),
        "workload": report.WORKLOAD,
        "results": res,
        "targets": targets(res),
        "total_wall_s": round(time.perf_counter() - t0, 1),
    }
    args.out.write_text(json.dumps(doc, indent=2, default=float) + "\n")
    report.render(doc)
    report.progress(f"wrote {args.out}")
    return doc


if __name__ == "__main__":
    main()
