"""Shared folders for the public API tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import paths


@pytest.fixture(scope="session")
def zero_rate_sample(tmp_path_factory) -> Path:
    """The sample with the AUD cash rate at 0 % (cash earns nothing): Sharpe over cash is then
    the plain Sharpe vectorbt computes."""
    folder = tmp_path_factory.mktemp("zero") / "sample"
    shutil.copytree(paths.sample_dir(), folder)
    lines = (folder / "RBA_CASH.csv").read_text().splitlines()
    rows = [lines[0], *(f"{line.split(',')[0]},0.00" for line in lines[1:])]
    (folder / "RBA_CASH.csv").write_text("\n".join(rows) + "\n")
    return folder
