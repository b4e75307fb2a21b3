"""``backtest data validate`` and ``backtest run`` on the real series of ``../shared/data`` with one
mutation each (issue 12, sections 2-4): exit 2, a line naming the file, the row or column and the fix,
no traceback and nothing written; the folder as saved passes. Skipped where the data are absent."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli.main import app
from tests.realdata import index_folder, needs_real_data

pytestmark = needs_real_data
runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture
def real(tmp_path) -> Path:
    return index_folder(tmp_path / "real")


def _edit(folder: Path, key: str, change) -> None:
    path = folder / f"{key}.csv"
    cells = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(cells).to_csv(path, index=False)


def _open_x10(cells):
    row = cells["date"] == "2025-09-19"
    cells.loc[row, "open"] = f"{float(cells.loc[row, 'open'].iloc[0]) * 10:g}"
    return cells


def _inverted(cells):
    cells["DEXUSAL"] = cells["DEXUSAL"].map(lambda s: s and f"{1 / float(s):.6f}")
    return cells


def _lower_close(cells):
    return cells.assign(close=cells["Close"])


def _rba_x100(folder: Path) -> None:
    path = folder / "RBA_CASH.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    out = lines[:11]
    for text in lines[11:]:
        cells = text.split(",")
        cells[1] = cells[1] and f"{float(cells[1]) * 100:g}"
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n")


MUTATIONS = {
    "xjo open x10": (lambda f: _edit(f, "XJO", _open_x10), "XJO.csv: row 3715, column open: 87452"),
    "audusd inverted": (lambda f: _edit(f, "AUDUSD", _inverted), "invert it (1/x"),
    "rba in basis points": (_rba_x100, "RBA_CASH.csv: column FIRMMCRTD: the median value"),
    "Close and close": (lambda f: _edit(f, "RUT", _lower_close), "could both be the close"),
}


def test_the_real_folder_as_saved_validates(real):
    result = _run("data", "validate", str(real))
    assert result.exit_code == 0, result.output
    assert "no errors in 7 file(s)" in result.output


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_validate_exits_2_naming_the_file_and_the_fix(real, name):
    mutate, expected = MUTATIONS[name]
    mutate(real)
    result = _run("data", "validate", str(real))
    assert result.exit_code == 2, result.output
    assert expected in result.output, result.output
    assert "error(s) in 1 file(s)" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_run_refuses_and_writes_nothing(real, tmp_path, name):
    mutate, expected = MUTATIONS[name]
    mutate(real)
    out = tmp_path / "results"
    # Close fills: the All Ordinaries' stale opens would otherwise be refused first (section 1).
    args = ["--data-dir", str(real), "--out", str(out), "--fill", "close"]
    if name == "audusd inverted":
        args += ["--base-currency", "USD"]  # an AUD run of AUD assets never reads AUD/USD
    result = _run("run", "russell-fed-rotation", *args)
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]
