"""Measuring without polluting: every measurement runs in its own process.

Lives here: ``run_process`` (a command as a fresh process: wall time, exit code, output and that
process's own peak RSS via ``os.wait4``), ``call_worker`` (a benchmark function run in a fresh
``python benchmarks/<module>.py --worker NAME ARGS`` process, which reports its result as the last
line of its output), ``worker_main`` (the other side of that), ``peak_rss_mb`` (this process),
``growth_exponent`` (the slope of log cost against log size), ``machine`` (what ran it).
Not here: what is measured (the ``bench_*`` modules).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULT_TAG = "BENCH-RESULT "


@dataclass(frozen=True)
class Proc:
    wall_s: float
    peak_rss_mb: float
    returncode: int
    output: str


def run_process(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> Proc:
    """Run ``cmd`` to completion; its wall time and its own peak RSS (not its siblings')."""
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd or ROOT)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    return Proc(wall, usage.ru_maxrss / 1024.0, p.returncode, text)


def numba_cache_dir() -> Path:
    """The benchmarks' own numba cache, one per version of the sources and packages.

    Why not the default (``engine/__pycache__``): numba checks only the timestamp of a cached
    function's own file, so a kernel whose callee lives in another module (``grid_nb`` calls
    ``kernels.run_nb`` and ``metric_kernels.fold_nb``) keeps its old machine code after that
    module changes. Keyed by a hash of every engine and strategy source, the benchmarks always run
    the current code, and write nothing into the checkout.
    """
    digest = hashlib.sha256()
    for folder in ("engine", "strategies"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    for name in ("numba", "numpy", "vectorbt", "llvmlite"):
        digest.update(f"{name}={_version(name)}".encode())
    return Path(tempfile.gettempdir()) / "crosscurrent-bench" / f"numba-{digest.hexdigest()[:16]}"


def bench_env(**extra: str) -> dict:
    """Environment of a benchmark process: the benchmarks' numba cache unless ``extra`` says."""
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    env["NUMBA_CACHE_DIR"] = str(numba_cache_dir())
    env.update(extra)
    return env


def call_worker(module: str, name: str, env: dict | None = None, **kwargs) -> dict:
    """``name(**kwargs)`` from ``benchmarks/<module>.py`` in a fresh process; its result dict plus
    ``process_peak_rss_mb`` and ``process_wall_s``."""
    cmd = [sys.executable, str(HERE / f"{module}.py"), "--worker", name, json.dumps(kwargs)]
    load = os.getloadavg()[0]
    proc = run_process(cmd, env=env or bench_env())
    lines = [ln for ln in proc.output.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.output.splitlines()[-25:])
        raise RuntimeError(f"benchmark worker {module}.{name}({kwargs}) failed:\n{tail}")
    result = json.loads(lines[-1][len(RESULT_TAG) :])
    result["process_peak_rss_mb"] = round(proc.peak_rss_mb, 1)
    result["process_wall_s"] = round(proc.wall_s, 2)
    result["load_average_1min_before"] = round(load, 2)  # other work on the machine skews timings
    return result


def worker_main(tasks: dict) -> bool:
    """If this process was started by ``call_worker``, run the task and print its result."""
    if len(sys.argv) != 4 or sys.argv[1] != "--worker":
        return False
    result = tasks[sys.argv[2]](**json.loads(sys.argv[3]))
    print(RESULT_TAG + json.dumps(result), flush=True)
    return True


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def growth_exponent(sizes, costs) -> float:
    """Least-squares slope of log(cost) on log(size): 1 = linear, 0 = flat, 2 = quadratic."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(c, 1e-12)) for c in costs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mx) ** 2 for x in xs)
    return num / den if den else float("nan")


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import numba

    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": platform.node(),
        "os": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "versions": {n: _version(n) for n in ("crosscurrent", "numpy", "pandas", "numba",
                                              "vectorbt", "vectorbt-rust", "distributed")},
    }  # fmt: skip


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "engine", "strategies"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()  # fmt: skip
        return rev + ("+local-changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _status_kib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> float:
    """Start a memory phase: reset this process's peak RSS to its current RSS (Linux
    ``/proc/self/clear_refs``); returns the current RSS in MB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # then the phase peak is the process peak so far: an upper bound
    return (_status_kib("VmRSS") or 0.0) / 1024.0


def phase_peak_mb() -> float:
    """Peak RSS (MB) since the last ``reset_peak``."""
    hwm = _status_kib("VmHWM")
    return hwm / 1024.0 if hwm is not None else peak_rss_mb()
