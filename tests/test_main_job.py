"""The README's main-job command, run as a user would, in a temporary copy of the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "results", "cache", "__pycache__", ".*_cache", ".hypothesis", "*.egg-info"
)


@pytest.mark.slow
def test_make_demo_writes_a_complete_run_folder(tmp_path):
    venv = Path(sys.prefix)
    if not (venv / "bin" / "backtest").exists() or shutil.which("make") is None:
        pytest.skip("needs `make` and the project installed in the running virtualenv")
    assert "make demo" in (ROOT / "README.md").read_text()
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=IGNORE)
    (repo / "results").mkdir(exist_ok=True)
    stamp = venv / "bin" / ".installed"
    env = {**os.environ, "PYTHONPATH": str(repo)}  # the copy's code, the existing environment
    proc = subprocess.run(
        ["make", "demo", f"VENV={venv}", "-o", str(stamp)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sharpe" in proc.stdout and "synthetic sample data" in proc.stdout
    (folder,) = [p for p in (repo / "results").iterdir() if p.is_dir()]
    assert folder.name.split("-", 1)[1].startswith("russell-fed-rotation")
    names = {p.name for p in folder.iterdir()}
    assert {"summary.json", "equity.csv", "manifest.json", "report.html"} <= names
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["strategy"] == "russell-fed-rotation"
    assert summary["window"] == {"first": "2000-01-04", "last": "2025-12-31"}
    assert summary["metrics"]["trade_count"] > 2
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["data_files"]["XSO"]["path"].startswith(str(repo))
