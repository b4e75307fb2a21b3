"""Real series from ``../shared/data``, copied into a temp folder and mutated there: each bad tick, unit,
jump, inversion or ambiguous column is refused with a ``DataError`` naming the file, the row or column
and the fix; legitimate slices (the RBA at 0.10 %, the Fed at 0.25 %) load with unchanged values.
Nothing is copied into the repository; skipped where ``../shared/data`` is absent.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.feeds.instruments import load_instruments
from engine.feeds.marketdata import load_folder
from engine.feeds.validate import validate_file
from tests.realdata import AUDUSD

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
INST = load_instruments()
FILES = [
    "rut_daily_yahoo.csv",
    "axjo_2011_2025.csv",
    "audusd_daily_yahoo.csv",
    "fred_dexusal_2000_2024.csv",
    "fred_rates_daily.csv",
    "rba_f1_cash_rate_daily.csv",
    "fred_dfedtar.csv",
    "rba_cash_rate_meetings_1990_2020.csv",
]
pytestmark = pytest.mark.skipif(
    not all((SHARED / name).is_file() for name in FILES),
    reason=f"real data folder {SHARED} is absent (it sits beside the repository)",
)
RBA_META = 11  # lines before the first data row of RBA table F1 (its header is line 11)
RBA_MEETINGS = """\
    [RBA_CASH]
    name = "RBA cash rate target, board decisions"
    kind = "rate"
    currency = "AUD"
    calendar = "weekdays"
    tz = "Australia/Sydney"
    units = "percent"
    known = "D+1 24:00"
    column = "cash_rate_target"
"""


def _cells(name: str) -> pd.DataFrame:
    """A real CSV with every cell as written (blanks stay blank)."""
    return pd.read_csv(SHARED / name, dtype=str, keep_default_na=False)


def _scaled(cells: pd.Series, factor: float, add: float = 0.0) -> pd.Series:
    nums = pd.to_numeric(cells, errors="coerce") * factor + add
    return cells.where(cells == "", nums.map(lambda x: f"{x:.10g}"))


def _folder(tmp_path: Path, toml: str = "") -> Path:
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    if toml:
        (folder / "instruments.toml").write_text(textwrap.dedent(toml), encoding="utf-8")
    return folder


def _refused(folder: Path, key: str) -> str:
    with pytest.raises(DataError) as err:
        load_folder(folder, [key])
    msg = str(err.value)
    assert f"{folder / key}.csv: " in msg, msg
    return msg


def _line(cells: pd.DataFrame, col: str, value: str) -> int:
    """The file line (header = 1) of the row whose ``col`` is ``value``."""
    return int(np.flatnonzero(cells[col] == value)[0]) + 2


# --------------------------------------------------------------------------- price bars


@pytest.mark.parametrize(
    ("name", "key", "day", "date_col"),
    [
        ("rut_daily_yahoo.csv", "RUT", "2025-09-18", "Date"),  # the record close
        ("axjo_2011_2025.csv", "XJO", "2025-09-19", "date"),  # the ASX fill day after it
    ],
)
@pytest.mark.parametrize(
    ("column", "factor", "fix"),
    [
        ("open", 10.0, "correct the open or remove the row (orders fill at it)"),
        ("open", 0.1, "correct the open or remove the row (orders fill at it)"),
        ("high", 10.0, "correct the high or remove the row"),
        ("low", 0.1, "correct the low or remove the row"),
        ("open", 0.0, "fix or remove the row"),
    ],
)
def test_one_bad_open_high_or_low_on_a_real_file(
    tmp_path, name, key, day, date_col, column, factor, fix
):
    cells = _cells(name)
    col = column.title() if date_col == "Date" else column
    row = cells[date_col] == day
    cells.loc[row, col] = _scaled(cells.loc[row, col], factor)
    folder = _folder(tmp_path)
    cells.to_csv(folder / f"{key}.csv", index=False)
    line = _line(cells, date_col, day)
    msg = _refused(folder, key)
    assert f"row {line}, column {col}: " in msg and fix in msg
    report = validate_file(folder / f"{key}.csv", INST[key])
    assert {(p.row, p.column) for p in report.problems if p.severity == "error"} == {(line, col)}


def test_the_real_price_files_have_no_new_errors():
    for name, key in [("rut_daily_yahoo.csv", "RUT"), ("axjo_2011_2025.csv", "XJO")]:
        report = validate_file(SHARED / name, INST[key])
        assert [str(p) for p in report.problems if p.severity == "error"] == []


# --------------------------------------------------------------------------- AUD/USD


def test_fred_audusd_the_other_way_round_is_refused(tmp_path):
    cells = _cells("fred_dexusal_2000_2024.csv")
    folder = _folder(tmp_path, AUDUSD)
    cells.to_csv(folder / "AUDUSD.csv", index=False)
    assert load_folder(folder, ["AUDUSD"])["AUDUSD"].values.between(0.47, 1.11).all()
    cells["DEXUSAL"] = cells["DEXUSAL"].map(lambda s: s and f"{1 / float(s):.6f}")
    cells.to_csv(folder / "AUDUSD.csv", index=False)
    msg = _refused(folder, "AUDUSD")
    assert "row 2, column DEXUSAL: 1.51722 is outside the plausible range 0.4 .. 1.2" in msg
    assert "AUDUSD (USD per AUD)" in msg
    assert "the series is given the other way round; invert it (1/x" in msg


def test_yahoo_audusd_the_other_way_round_is_refused(tmp_path):
    cells = _cells("audusd_daily_yahoo.csv")
    for col in ("Open", "High", "Low", "Close"):
        cells[col] = cells[col].map(lambda s: f"{1 / float(s):.8f}")
    folder = _folder(tmp_path)
    cells.to_csv(folder / "AUDUSD.csv", index=False)
    msg = _refused(folder, "AUDUSD")
    assert "row 2, column Close: 1.30" in msg and "invert it (1/x" in msg


# --------------------------------------------------------------------------- rates


def _fred(tmp_path, column: str, key: str, factor=1.0, add=0.0, start=None, end=None) -> Path:
    cells = _cells("fred_rates_daily.csv")[["date", column]]
    cells = cells[(cells[column] != "") & cells["date"].between(start or "0", end or "9")]
    cells = cells.assign(**{column: _scaled(cells[column], factor, add)})
    folder = _folder(tmp_path)
    cells.to_csv(folder / f"{key}.csv", index=False)
    return folder


def _rba(tmp_path, factor=1.0, add=0.0, start=None, end=None, at=None) -> Path:
    """RBA table F1 with its metadata lines; the cash rate scaled (or ``add`` on the row ``at``)."""
    lines = (SHARED / "rba_f1_cash_rate_daily.csv").read_text(encoding="utf-8-sig").splitlines()
    out = lines[:RBA_META]
    for text in lines[RBA_META:]:
        cells = text.split(",")
        day = pd.Timestamp(cells[0])
        if (start and day < pd.Timestamp(start)) or (end and day > pd.Timestamp(end)):
            continue
        if cells[1] and (at is None or day == pd.Timestamp(at)):
            cells[1] = f"{float(cells[1]) * factor + add:.10g}"
        out.append(",".join(cells))
    folder = _folder(tmp_path)
    (folder / "RBA_CASH.csv").write_text("\n".join(out) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (lambda t: _fred(t, "DFEDTARU", "FED_TARGET", 100), "FED_TARGET"),
        (
            lambda t: _fred(t, "DFEDTARU", "FED_TARGET", 100, start="2012-01", end="2012-03"),
            "FED_TARGET",
        ),
        (lambda t: _fred(t, "DGS10", "US10Y", 100), "US10Y"),
        (lambda t: _fred(t, "DGS10", "US10Y", 100, start="2020-08", end="2020-08-10"), "US10Y"),
        (lambda t: _rba(t, 100), "RBA_CASH"),
        (lambda t: _rba(t, 100, start="2020-04-01", end="2020-05-01"), "RBA_CASH"),  # 25 bp
    ],
)
def test_rates_in_basis_points_are_refused(tmp_path, make, key):
    msg = _refused(make(tmp_path), key)
    assert "looks like basis points (425 = 4.25 %)" in msg and "divide by 100" in msg
    assert "errors in all" not in msg  # one units error, not a jump at every change


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (lambda t: _fred(t, "DFEDTARU", "FED_TARGET", 0.01), "FED_TARGET"),
        (
            lambda t: _fred(t, "DFEDTARU", "FED_TARGET", 0.01, start="2012-06", end="2012-06-05"),
            "FED_TARGET",
        ),
        (lambda t: _fred(t, "DGS10", "US10Y", 0.01), "US10Y"),
        (lambda t: _fred(t, "DGS10", "US10Y", 0.01, start="2020-08-03", end="2020-08-03"), "US10Y"),
        (lambda t: _rba(t, 0.01), "RBA_CASH"),
        (lambda t: _rba(t, 0.01, start="2021-06-01", end="2021-06-03"), "RBA_CASH"),  # 0.10 %
        (lambda t: _rba(t, 0.01, start="2015-06-01", end="2016-04-29"), "RBA_CASH"),  # 2.00 %
    ],
)
def test_rates_as_fractions_are_refused_on_short_and_long_histories(tmp_path, make, key):
    msg = _refused(make(tmp_path), key)
    assert "looks like a fraction (0.0425 = 4.25 %)" in msg and "multiply by 100" in msg


def test_old_fred_and_rba_tables_as_fractions_are_refused(tmp_path):
    cells = _cells("fred_dfedtar.csv")
    cells["DFEDTAR"] = _scaled(cells["DFEDTAR"], 0.01)
    folder = _folder(tmp_path)
    cells.to_csv(folder / "FED_TARGET.csv", index=False)
    assert "looks like a fraction" in _refused(folder, "FED_TARGET")
    cells = _cells("rba_cash_rate_meetings_1990_2020.csv")
    folder = _folder(tmp_path, RBA_MEETINGS)
    cells.to_csv(folder / "RBA_CASH.csv", index=False)
    assert load_folder(folder, ["RBA_CASH"])["RBA_CASH"].values.max() == 14.0  # August 1990
    cells["cash_rate_target"] = _scaled(cells["cash_rate_target"], 0.01)  # 0.14 .. 0.0025
    cells.to_csv(folder / "RBA_CASH.csv", index=False)
    assert "finer than a basis point" in _refused(folder, "RBA_CASH")


def test_a_five_point_jump_on_one_rba_row_is_refused(tmp_path):
    msg = _refused(_rba(tmp_path, add=5.0, at="2025-09-18"), "RBA_CASH")
    assert "row 3734, column FIRMMCRTD: 3.6 -> 8.6 is a jump of +5.00 percentage points" in msg
    assert "raise checks.max_move for RBA_CASH" in msg and "2 errors in all" in msg


def test_a_five_point_step_in_the_fed_target_is_refused(tmp_path):
    folder = _fred(tmp_path, "DFEDTARU", "FED_TARGET")
    cells = pd.read_csv(folder / "FED_TARGET.csv", dtype=str)
    late = cells["date"] >= "2025-09-18"
    cells.loc[late, "DFEDTARU"] = _scaled(cells.loc[late, "DFEDTARU"], 1.0, 5.0)
    cells.to_csv(folder / "FED_TARGET.csv", index=False)
    msg = _refused(folder, "FED_TARGET")
    assert "column DFEDTARU: 4.5 -> 9.25 is a jump of +4.75 percentage points" in msg
    assert "errors in all" not in msg


@pytest.mark.parametrize(
    ("make", "key", "level"),
    [
        (lambda t: _rba(t, start="2021-01-04", end="2021-12-31"), "RBA_CASH", 0.10),
        (lambda t: _rba(t, start="2021-06-01", end="2021-06-01"), "RBA_CASH", 0.10),
        (lambda t: _rba(t, start="2020-04-01", end="2020-05-01"), "RBA_CASH", 0.25),
        (
            lambda t: _fred(t, "DFEDTARU", "FED_TARGET", start="2009", end="2015-12"),
            "FED_TARGET",
            0.25,
        ),
        (
            lambda t: _fred(t, "DFEDTARU", "FED_TARGET", start="2012-06", end="2012-06-01"),
            "FED_TARGET",
            0.25,
        ),
    ],
)
def test_real_low_rates_load_unchanged_on_any_length(tmp_path, make, key, level):
    values = load_folder(make(tmp_path), [key])[key].values
    assert len(values) >= 1 and (values == level).all()


# --------------------------------------------------------------------------- ambiguous columns


def test_ambiguous_columns_in_real_files_are_refused(tmp_path):
    folder = _folder(tmp_path)
    rut = _cells("rut_daily_yahoo.csv")
    rut.assign(close=_scaled(rut["Close"], 1.01)).to_csv(folder / "RUT.csv", index=False)
    msg = _refused(folder, "RUT")
    assert "columns 'Close' (column 2) and 'close' (column 7) could both be the close" in msg
    rut.assign(date=rut["Date"]).to_csv(folder / "RUT.csv", index=False)
    assert "'Date' (column 1) and 'date' (column 7) could both be the date" in _refused(
        folder, "RUT"
    )
    xjo = (SHARED / "axjo_2011_2025.csv").read_text().splitlines()
    twice = [f"{ln},{ln.rsplit(',', 2)[1]}" for ln in xjo]  # close repeated as the last column
    (folder / "XJO.csv").write_text("\n".join(twice) + "\n")
    assert "the header repeats 'close' (columns 5 and 7)" in _refused(folder, "XJO")
    fed = _cells("fred_rates_daily.csv")[["date", "DFEDTARU"]]
    fed.assign(value=fed["DFEDTARU"]).to_csv(folder / "FED_TARGET.csv", index=False)
    msg = _refused(folder, "FED_TARGET")
    assert "'DFEDTARU' (column 2) and 'value' (column 3) could both be the value" in msg


def test_real_adj_close_next_to_close_is_not_ambiguous():
    name = "axjo_daily_1992_2019.csv"  # Yahoo: Date,Open,High,Low,Close,Adj Close,Volume
    if not (SHARED / name).is_file():
        pytest.skip(f"{SHARED / name} is absent")
    report = validate_file(SHARED / name, INST["XJO"])
    assert report.table is not None and report.table.columns["close"] == "Close"
