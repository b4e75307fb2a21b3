"""Single run as a fresh process: ``backtest run russell-fed-rotation`` against ``vbt_flagship.py``.

Warm: numba's disk cache and Python's bytecode cache already filled (one untimed run each first;
bytecode goes to a private ``PYTHONPYCACHEPREFIX``, so this works where PYTHONDONTWRITEBYTECODE is
set and writes nothing into the checkout), then ``repeat`` timed runs; the best and the median
wall time of the whole process are reported, with each process's peak RSS.
Cold ("the first run after a fresh install"): ``NUMBA_CACHE_DIR`` and ``XDG_CACHE_HOME`` (the
calendar cache) point to new empty folders, so
every kernel compiles (vectorbt is numba-based too and gets the same treatment), and the checkout's
own modules compile from source (installed packages keep the bytecode pip wrote for them).
``profile`` explains where a warm run's time goes: its imports timed directly, then the run itself
under cProfile, summarised as cumulative seconds of the main stages (nested: calendars are built
inside data loading, the benchmark run inside prepare...; profiler overhead included).
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness

CLI = [str(Path(sys.executable).with_name("backtest")), "run", "russell-fed-rotation", "--quiet"]
VBT = [sys.executable, str(harness.HERE / "vbt_flagship.py")]
# (label, file suffix, function name) of the stages reported by ``profile``.
STAGES = (
    ("prepare: data, calendars, steps, benchmark", "engine/backtest/run.py", "prepare"),
    ("  load + validate the data folder", "engine/feeds/marketdata.py", "load_folder"),
    ("  exchange calendars (disk cache)", "engine/feeds/calendars.py", "sessions"),
    ("  benchmark buy-and-hold run", "engine/backtest/run.py", "_benchmark"),
    ("simulations (kernel + labelling)", "engine/sim/simulate.py", "simulate_steps"),
    ("event study", "engine/backtest/eventstudy.py", "event_study"),
    ("write run folder", "engine/store/run_folder.py", "write_run"),
    ("  report.html", "engine/report/run_page.py", "write_report"),
    ("numba: load kernels from the disk cache", "numba/core/dispatcher.py", "_compile_for_args"),
)


def _runs(cmd, out: Path, env: dict, repeat: int) -> list[harness.Proc]:
    runs = []
    for i in range(repeat):
        proc = harness.run_process([*cmd, "--out", str(out / f"run{i}")], env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.output[-3000:]}")
        runs.append(proc)
    return runs


def _summary(runs: list[harness.Proc], what: str) -> dict:
    walls = [p.wall_s for p in runs]
    return {
        "what": what,
        "wall_s_best": round(min(walls), 3),
        "wall_s_median": round(statistics.median(walls), 3),
        "wall_s_all": [round(w, 3) for w in walls],
        "peak_rss_mb": round(max(p.peak_rss_mb for p in runs), 1),
    }


def run(repeat: int = 3) -> dict:
    with tempfile.TemporaryDirectory(prefix="crosscurrent-bench-") as tmp:
        tmp = Path(tmp)
        warm_env = harness.bench_env(PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
        warm_env.pop("PYTHONDONTWRITEBYTECODE", None)
        out = {}
        for name, cmd in (("crosscurrent", CLI), ("vectorbt", VBT)):
            _runs(cmd, tmp / f"{name}-fill", warm_env, 1)  # fills both caches, untimed
            warm = _runs(cmd, tmp / f"{name}-warm", warm_env, repeat)
            cold_env = harness.bench_env(NUMBA_CACHE_DIR=str(tmp / f"{name}-numba-cold"),
                                         XDG_CACHE_HOME=str(tmp / f"{name}-xdg-cold"),
                                         PYTHONDONTWRITEBYTECODE="1")  # fmt: skip
            cold = _runs(cmd, tmp / f"{name}-cold", cold_env, 1)
            out[name] = {
                "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)),
                "warm": _summary(warm, "fresh process, warm numba + bytecode caches"),
                "cold": _summary(
                    cold, "fresh process, empty numba and calendar caches (first run after install)"
                ),
            }
        out["warm_speedup"] = (out["vectorbt"]["warm"]["wall_s_best"]
                               / out["crosscurrent"]["warm"]["wall_s_best"])  # fmt: skip
        out["cold_speedup"] = (out["vectorbt"]["cold"]["wall_s_best"]
                               / out["crosscurrent"]["cold"]["wall_s_best"])  # fmt: skip
        bare = harness.run_process([sys.executable, "-c", "pass"], env=warm_env)
        out["python_startup_s"] = round(bare.wall_s, 3)
        out["profile"] = harness.call_worker("bench_single", "profile", env=warm_env,
                                             out=str(tmp / "profiled"))  # fmt: skip
    return out


def profile(out: str) -> dict:
    """Where a warm ``backtest run`` spends its time, inside one process."""
    t0 = time.perf_counter()
    from engine.backtest import run as api  # noqa: F401  (what the run imports)
    from engine.cli import main as cli

    imports = time.perf_counter() - t0
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    try:
        cli.app(["run", "russell-fed-rotation", "--quiet", "--out", out], standalone_mode=False)
    finally:
        prof.disable()
    total = time.perf_counter() - t0
    stats = pstats.Stats(prof).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    stages = {}
    for label, suffix, name in STAGES:
        stages[label] = round(sum(v[3] for (f, _, fn), v in stats.items()
                                  if fn == name and f.endswith(suffix)), 3)  # fmt: skip
    return {"imports_s": round(imports, 3), "run_profiled_s": round(total, 3), "stages_s": stages}


if __name__ == "__main__":
    harness.worker_main({"profile": profile})
