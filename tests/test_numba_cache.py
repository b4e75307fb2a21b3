"""Regression: a cached kernel must not outlive an edit to a kernel it calls in another module."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

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
