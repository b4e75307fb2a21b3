"""Numba's disk cache: keyed by every kernel source (a cached kernel must not outlive an edit to a
kernel it calls in another module), and a second process loads every kernel from it - the
NamedTuple arguments (``engine.sim.contexts``, ``engine.rules.kernels``) included - with one
compiled version per kernel."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _expected_key() -> str:
    digest = hashlib.sha256()
    for folder in (ROOT / "engine", ROOT / "strategies"):
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_dir(env: dict) -> str:
    code = (
        "import os, engine, numba.core.config as c; "
        "print(os.environ['NUMBA_CACHE_DIR']); print(c.CACHE_DIR)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT)  # fmt: skip
    return out.stdout.split()


def test_numba_cache_is_keyed_by_every_kernel_source(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    env["PYTHONPATH"] = str(ROOT)
    ours, numbas = _cache_dir(env)
    assert ours == numbas == str(tmp_path / "crosscurrent" / "numba" / _expected_key())


def test_a_user_set_numba_cache_dir_is_respected(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "mine"), "PYTHONPATH": str(ROOT)}
    assert _cache_dir(env) == [str(tmp_path / "mine")] * 2


def test_old_source_versions_are_pruned_when_a_new_one_starts(tmp_path):
    root = tmp_path / "crosscurrent" / "numba"
    for i in range(6):
        (root / f"old{i}").mkdir(parents=True)
        os.utime(root / f"old{i}", (1000 + i, 1000 + i))
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    env["PYTHONPATH"] = str(ROOT)
    _cache_dir(env)
    assert sorted(p.name for p in root.iterdir()) == ["old3", "old4", "old5"]


def test_an_edit_inside_a_subpackage_changes_the_cache_key(tmp_path):
    # Once engine/ has subpackages, a kernel in engine/sim/ must key the cache as one in engine/.
    pkg = tmp_path / "engine"
    shutil.copytree(ROOT / "engine", pkg, ignore=shutil.ignore_patterns("__pycache__", "_data"))
    shutil.copytree(ROOT / "strategies", tmp_path / "strategies",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = str(tmp_path)
    code = "import os, engine; print(os.environ['NUMBA_CACHE_DIR'])"

    def key() -> str:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True, cwd=tmp_path)  # fmt: skip
        return out.stdout.strip()

    (pkg / "sub").mkdir()
    (pkg / "sub" / "kernel.py").write_text("X = 1\n")
    before = key()
    (pkg / "sub" / "kernel.py").write_text("X = 2\n")
    assert key() != before


# A flagship backtest and a small grid (its winner's run, PBO and bootstrap included), then every
# kernel of ours this process holds: module, name, compiled or loaded versions.
_WORKLOAD = """
import json, sys
import numba, pandas as pd
from engine.backtest.run import RunConfig, run_backtest
from engine.research.grid import run_grid
from strategies.russell_fed_rotation import RussellFedRotation
run_backtest(RussellFedRotation(), RunConfig())
run_grid(RussellFedRotation, pd.DataFrame({"hold_days": [10, 20, 40], "weight": [1.0, 0.5, 1.0]}),
         RunConfig())
held = [(name, attr, len(f.signatures)) for name, module in list(sys.modules.items())
        if name.startswith(("engine.", "strategies.")) for attr, f in vars(module).items()
        if isinstance(f, numba.core.dispatcher.Dispatcher) and f.__module__ == name]
print("KERNELS " + json.dumps(held))
"""
# numba's NUMBA_DEBUG_CACHE lines: "[cache] data loaded from '<dir>/<package>_<hash>/<file>.<name>-<line>..."
_CACHE_LINE = re.compile(
    r"\[cache\] (index|data) (loaded|saved) (?:from|to) '.*/([^/_]+)_[0-9a-f]+/(\w+)\.(\w+)-"
)


def _workload(env: dict) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Run ``_WORKLOAD`` in a fresh process: (versions per kernel "package/file.name" that it
    holds, {"data loaded" / "data saved" / ...: kernels}) from numba's cache log."""
    out = subprocess.run([sys.executable, "-c", _WORKLOAD], env=env, capture_output=True,
                         text=True, cwd=ROOT, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    (line,) = [x for x in out.stdout.splitlines() if x.startswith("KERNELS ")]
    held = {f"{m.split('.')[-2]}/{m.split('.')[-1]}.{a}": n for m, a, n in json.loads(line[8:])}
    log: dict[str, set[str]] = {}
    for what, how, package, file, name in _CACHE_LINE.findall(out.stdout):
        log.setdefault(f"{what} {how}", set()).add(f"{package}/{file}.{name}")
    return held, log


@pytest.mark.slow
def test_a_second_process_loads_every_kernel_from_the_disk_cache(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "PYTHONPATH": str(ROOT),
           "NUMBA_DEBUG_CACHE": "1"}  # fmt: skip
    first, saved = _workload(env)
    assert {"sim/kernels.run_nb", "sim/grid_kernels.grid_nb"} <= saved["data saved"]
    # One version each: a literal argument (0, True) or a second argument type (an int init_cash,
    # a read-only array, prange's unsigned index) would compile and cache another.
    ours = {k: n for k, n in first.items() if k.startswith(("sim/", "strategies/", "rules/"))}
    assert ours and all(n <= 1 for n in ours.values()), {k: n for k, n in ours.items() if n > 1}

    second, log = _workload(env)
    assert not log.get("data saved") and not log.get("index saved"), log
    # Every kernel the second process called from Python came off the disk (a kernel compiled
    # without the cache would hold a version without a "data loaded" line).
    called = {k for k, n in second.items() if n}
    assert {
        "sim/kernels.run_nb",
        "sim/grid_kernels.grid_nb",
        "rules/kernels.rule_orders_nb",
    } <= called
    assert called <= log["data loaded"], called - log["data loaded"]
