"""The validator: each check on a hand-made file, its severity, its one-line message, and the loader's
refusal of hard problems before anything is simulated."""

from __future__ import annotations

import dataclasses
import textwrap

import pandas as pd
import pytest

from engine import paths
from engine.errors import DataError
from engine.feeds import validate
from engine.feeds.instruments import load_instruments
from engine.feeds.marketdata import load_folder, validate_folder
from engine.feeds.readers import read_table
from engine.feeds.validate import Problem, check_table, raise_for_errors

INST = load_instruments()
FLAGSHIP = ["RUT", "XSO", "XJO", "AUDUSD", "FED_TARGET", "RBA_CASH", "US10Y"]


def _problems(tmp_path, text: str, key: str = "XSO", **changes) -> list[Problem]:
    path = tmp_path / f"{key}.csv"
    path.write_text(text, encoding="utf-8")
    inst = dataclasses.replace(INST[key], **changes) if changes else INST[key]
    return check_table(read_table(path, inst), inst)


def _only(problems, check: str) -> list[Problem]:
    return [p for p in problems if p.check == check]


def _closes(days: list[str], closes: list[float], volume: list[float] | None = None) -> str:
    head = "date,close" + (",volume" if volume else "") + "\n"
    cells = zip(days, closes, volume or [None] * len(days), strict=True)
    rows = [f"{d},{c}" + (f",{v}" if volume else "") for d, c, v in cells]
    return head + "\n".join(rows) + "\n"


def _sessions(code: str, start: str, n: int) -> list[str]:
    from engine.feeds import calendars

    labels = calendars.sessions(code).labels
    i = labels.searchsorted(pd.Timestamp(start))
    return [str(d.date()) for d in labels[i : i + n]]


# --------------------------------------------------------------------------- Problem lines


def test_problem_lines_name_file_row_column_value_and_fix():
    cell = Problem("error", "X.csv", 5, "close", -1.0, "-1.0 is not positive", "fix it", "value")
    assert str(cell) == "X.csv: row 5, column close: -1.0 is not positive; fix it"
    day = Problem("error", "X.csv", 4, "date", "2024-12-25", "is not a XASX session", "drop it")
    assert str(day) == "X.csv: row 4 (date 2024-12-25) is not a XASX session; drop it"
    whole = Problem("warning", "X.csv", None, "value", 0.05, "looks like a fraction", "x100")
    assert str(whole) == "X.csv: column value: looks like a fraction; x100"
    assert str(Problem("note", "X.csv", None, None, None, "skipped 3 rows", "")) == (
        "X.csv: skipped 3 rows"
    )
    assert day.line(" (2 such rows)").endswith("session (2 such rows); drop it")


# --------------------------------------------------------------------------- errors


def test_duplicate_and_out_of_order_dates(tmp_path):
    days = ["2024-12-23", "2024-12-24", "2024-12-24", "2024-12-20"]
    found = _problems(tmp_path, _closes(days, [1, 1, 1, 1]))
    assert [(p.check, p.row, p.severity) for p in found if p.severity == "error"] == [
        ("duplicate", 4, "error"),
        ("order", 5, "error"),
    ]
    assert "row 4 (date 2024-12-24) is duplicated (row 3 has the same date)" in str(found[0])
    assert "row 5 (date 2024-12-20) is out of order (row 4 is 2024-12-24)" in str(found[1])
    assert not _only(found, "gap") and not _only(found, "stale")  # order-dependent checks skip


@pytest.mark.parametrize(
    ("cell", "shown"), [("0", "0.0"), ("-2.5", "-2.5"), ("inf", "inf"), ("", "blank")]
)
def test_prices_must_be_positive_and_finite(tmp_path, cell, shown):
    (p,) = _only(_problems(tmp_path, f"date,close\n2024-12-23,1\n2024-12-24,{cell}\n"), "value")
    assert (p.severity, p.row, p.column) == ("error", 3, "close")
    assert f"row 3, column close: {shown} is not a positive finite number; fix or remove" in str(p)


def test_rates_may_be_negative_but_not_missing(tmp_path):
    found = _problems(tmp_path, "date,value\n2024-01-02,-0.6\n2024-01-03,\n", key="US10Y")
    assert [(p.row, p.column) for p in found if p.severity == "error"] == [(3, "value")]


def test_rows_off_the_exchange_calendar_and_before_it(tmp_path):
    days = ["1984-12-31", "2024-12-24", "2024-12-25", "2024-12-28"]
    found = _problems(tmp_path, _closes(days, [1, 1, 1, 1]))
    before, *off = [p for p in found if p.severity == "error"]
    assert before.check == "before_calendar" and "first session 1985-01-02" in str(before)
    assert [(p.check, p.value) for p in off] == [
        ("off_calendar", "2024-12-25"),
        ("off_calendar", "2024-12-28"),
    ]
    assert "is not a XASX session; remove non-session rows or fix the calendar of XSO" in str(
        off[0]
    )


def test_loader_reports_the_first_error_and_how_many_alike(tmp_path):
    (tmp_path / "XSO.csv").write_text(_closes(["2024-12-24", "2024-12-25", "2024-12-26"], [1] * 3))
    with pytest.raises(DataError) as err:
        load_folder(tmp_path, ["XSO"])
    msg = str(err.value)
    assert "row 3 (date 2024-12-25) is not a XASX session (2 such rows); remove" in msg
    assert f"2 errors in all; `backtest data validate {tmp_path}` lists them" in msg


def test_rate_in_fraction_where_percent_is_expected(tmp_path):
    text = "date,value\n2007-01-02,0.0525\n2008-12-31,0.0025\n"
    (p,) = [p for p in _problems(tmp_path, text, key="FED_TARGET") if p.severity == "error"]
    assert p.check == "units" and p.column == "value" and p.value == 0.0525
    assert "looks like a fraction" in str(p) and "multiply by 100" in str(p)
    assert 'units = "fraction"' in str(p)


def test_fraction_check_on_any_length_of_history_and_can_be_turned_off(tmp_path):
    short = "date,value\n2020-03-09,0.1\n2020-03-10,0.05\n"
    assert _only(_problems(tmp_path, short, key="US10Y"), "units")
    text = "date,value\n2011-01-03,0.10\n2014-01-02,0.07\n"
    assert _only(_problems(tmp_path, text, key="FED_TARGET"), "units")
    off = _problems(tmp_path, text, key="FED_TARGET", checks={"fraction_below": 0.0})
    assert not _only(off, "units")


def test_rate_in_percent_where_fraction_is_declared(tmp_path):
    text = "date,value\n2007-01-02,5.25\n2008-12-31,0.25\n"
    (p,) = _only(_problems(tmp_path, text, key="FED_TARGET", units="fraction"), "units")
    assert p.severity == "error" and "looks like percent" in str(p) and "divide by 100" in str(p)


def test_fraction_units_are_loaded_as_percent(tmp_path):
    (tmp_path / "FED_TARGET.csv").write_text("date,value\n2007-01-02,0.0525\n2007-09-19,0.0475\n")
    (tmp_path / "instruments.toml").write_text(
        textwrap.dedent("""\
        [FED_TARGET]
        name = "Fed target as a fraction"
        kind = "rate"
        currency = "USD"
        calendar = "weekdays"
        tz = "America/New_York"
        units = "fraction"
        known = "D+1 24:00"
        """)
    )
    values = load_folder(tmp_path, ["FED_TARGET"])["FED_TARGET"].values
    assert values.tolist() == pytest.approx([5.25, 4.75])


def test_price_that_triples_in_a_day_is_an_error(tmp_path):
    days = _sessions("XASX", "2024-12-02", 3)
    (p,) = _only(_problems(tmp_path, _closes(days, [100, 400, 390])), "jump")
    assert (p.severity, p.row, p.column) == ("error", 3, "close")
    assert "100 -> 400 is a one-day move of +300.0%" in str(p) and "factor of 4.0" in str(p)
    relaxed = _problems(tmp_path, _closes(days, [100, 400, 390]), checks={"max_move": 5.0})
    assert not _only(relaxed, "jump") and not _only(relaxed, "move")


# --------------------------------------------------------------------------- warnings


def test_one_day_moves_beyond_the_threshold_warn(tmp_path):
    days = _sessions("XASX", "2024-12-02", 3)
    (p,) = _only(_problems(tmp_path, _closes(days, [100, 130, 129])), "move")
    assert p.severity == "warning" and "+30.0% (limit 25%)" in str(p)
    assert not _only(_problems(tmp_path, _closes(days, [100, 124, 125])), "move")
    fx = _problems(tmp_path, _closes(["2024-01-02", "2024-01-03"], [0.70, 0.78]), key="AUDUSD")
    assert _only(fx, "move")[0].severity == "warning"
    rate = _problems(tmp_path, "date,value\n2024-01-02,2\n2024-01-03,5\n", key="US10Y")
    (jump,) = _only(rate, "jump")  # a rate's move beyond max_move is an error (validate_levels)
    assert jump.severity == "error" and "+3.00 percentage points since row 2" in str(jump)


def test_gap_longer_than_the_exchange_calendar_allows(tmp_path):
    # 2024-12-24 is an XASX session (early close); 25th and 26th are holidays.
    found = _problems(tmp_path, _closes(["2024-12-23", "2024-12-27", "2024-12-30"], [1, 2, 3]))
    (p,) = _only(found, "gap")
    assert p.severity == "warning" and p.row == 3
    assert "1 XASX session(s) missing since row 2" in str(p)
    days = ["2024-12-23", "2024-12-24", "2024-12-27"]  # across Christmas: no gap
    assert not _only(_problems(tmp_path, _closes(days, [1, 2, 3])), "gap")
    two = _closes(["2024-12-23", "2024-12-27"], [1, 2])
    relaxed = _problems(tmp_path, two, checks={"max_missing": 1})
    assert not _only(relaxed, "gap")


def test_gap_on_a_weekdays_calendar(tmp_path):
    ok = "date,value\n2024-03-04,5\n2024-03-08,5\n"  # 3 weekdays missing: allowed
    assert not _only(_problems(tmp_path, ok, key="FED_TARGET"), "gap")
    text = "date,value\n2024-03-04,5\n2024-03-11,5\n"
    assert "4 weekday(s) missing" in str(_only(_problems(tmp_path, text, "FED_TARGET"), "gap")[0])


def test_sparse_series_gets_one_summary(tmp_path):
    months = pd.date_range("2020-01-06", periods=14, freq="MS").strftime("%Y-%m-%d")
    text = "date,value\n" + "".join(f"{d},0.75\n" for d in months)
    (p,) = _only(_problems(tmp_path, text, key="RBA_CASH"), "gap")
    assert p.row is None and "13 of 13 steps" in str(p) and "sparse series" in str(p)


def test_weekend_rows_warn_for_fx_but_not_for_calendar_day_rates(tmp_path):
    text = _closes(["2026-02-13", "2026-02-15"], [0.70, 0.70])
    (p,) = _only(_problems(tmp_path, text, key="AUDUSD"), "weekend")
    assert p.severity == "warning" and "row 3 (date 2026-02-15) is a Sunday" in str(p)
    fred = "date,value\n2025-09-19,4.25\n2025-09-20,4.25\n2025-09-21,4.25\n"
    assert not _only(_problems(tmp_path, fred, key="FED_TARGET"), "weekend")


def test_stale_run_of_identical_closes(tmp_path):
    days = _sessions("XNYS", "2024-06-03", 7)
    (p,) = _only(_problems(tmp_path, _closes(days, [1, 2, 2, 2, 2, 2, 3]), key="RUT"), "stale")
    assert p.row == 3 and "2 is repeated by 5 closes in a row (through row 7)" in str(p)
    assert not _only(_problems(tmp_path, _closes(days, [1, 2, 2, 2, 2, 3, 4]), "RUT"), "stale")
    rate = "date,value\n" + "".join(f"{d},5\n" for d in days)
    assert not _only(_problems(tmp_path, rate, key="FED_TARGET"), "stale")


def test_zero_volume_stretch_and_all_zero_volume(tmp_path):
    days = _sessions("XASX", "2024-06-03", 7)
    closes = [1, 2, 3, 4, 5, 6, 7]
    found = _problems(tmp_path, _closes(days, closes, [9, 0, 0, 0, 0, 0, 9]))
    (p,) = _only(found, "zero_volume")
    assert p.severity == "warning" and "row 3, column volume: is 0 on 5 rows in a row" in str(p)
    (note,) = _only(_problems(tmp_path, _closes(days, closes, [0] * 7)), "volume")
    assert note.severity == "note"


def test_bar_whose_range_misses_the_close(tmp_path):
    text = "date,open,high,low,close\n2024-12-23,10,11,9,10\n2024-12-24,10,11,10.5,10.2\n"
    (p,) = _only(_problems(tmp_path, text), "ohlc")
    assert p.severity == "warning" and p.row == 3


def test_reader_notes_become_notes(tmp_path):
    text = "Date,Close\n2024-12-27,2\n2024-12-24,null\n2024-12-23,1\n"
    notes = [p.message for p in _problems(tmp_path, text) if p.severity == "note"]
    assert any("skipped 1 row" in n for n in notes) and any("newest first" in n for n in notes)


# --------------------------------------------------------------------------- folders


def test_the_embedded_sample_has_no_errors_or_warnings():
    reports = validate_folder(paths.sample_dir())
    assert sorted(r.key for r in reports) == sorted(FLAGSHIP)
    assert [str(p) for r in reports for p in r.problems if p.severity != "note"] == []


def test_folder_flags_unknown_names_shadowed_csv_and_unreadable_files(tmp_path):
    (tmp_path / "XS0.csv").write_text("date,close\n2024-12-23,1\n")
    (tmp_path / "RUT.csv").write_text("date,close\n2024-12-23,1\n")
    pd.DataFrame({"date": ["2024-12-23"], "close": [1.0]}).to_parquet(tmp_path / "RUT.parquet")
    (tmp_path / "XJO.csv").write_text("")
    by_key = {r.key: r for r in validate_folder(tmp_path)}
    assert "Did you mean 'XSO'?" in str(by_key["XS0"].problems[0])
    assert by_key["RUT"].path.suffix == ".parquet"
    assert any("RUT.csv is ignored" in p.message for p in by_key["RUT"].problems)
    (read,) = by_key["XJO"].problems
    assert (
        read.severity == "error"
        and "could not be read" in str(read)
        and by_key["XJO"].table is None
    )


def test_folder_checks_come_from_its_instruments_toml(tmp_path):
    days = _sessions("XASX", "2024-12-02", 3)
    (tmp_path / "XSO.csv").write_text(_closes(days, [100, 130, 129]))
    assert any(p.check == "move" for p in validate_folder(tmp_path)[0].problems)
    (tmp_path / "instruments.toml").write_text(
        textwrap.dedent("""\
        [XSO]
        name = "a volatile small-cap ETF"
        kind = "etf"
        currency = "AUD"
        calendar = "XASX"
        tz = "Australia/Sydney"
        returns = "price"
        known = "session_close"
        checks = { max_move = 0.5 }
        """)
    )
    assert not any(p.check == "move" for p in validate_folder(tmp_path)[0].problems)


def test_raise_for_errors_ignores_warnings():
    raise_for_errors([Problem("warning", "X.csv", 2, "close", 1, "odd", "look")])
    with pytest.raises(DataError, match="X.csv: row 2, column close: bad; fix"):
        raise_for_errors([Problem("error", "X.csv", 2, "close", 1, "bad", "fix")])


def test_backtest_refuses_bad_data_before_simulating(tmp_path, monkeypatch):
    from engine.backtest import run as api
    from strategies import get_strategy

    for key in FLAGSHIP:
        (tmp_path / f"{key}.csv").write_bytes((paths.sample_dir() / f"{key}.csv").read_bytes())
    with (tmp_path / "XJO.csv").open("a") as f:
        f.write("2025-12-31,1,1,1,-5\n")  # a duplicate date with a negative close

    def never(*args, **kwargs):
        raise AssertionError("simulated despite a data error")

    for name in [n for n in dir(api) if n.startswith("simulate")]:
        monkeypatch.setattr(api, name, never)
    with pytest.raises(DataError, match="XJO.csv: row 6581"):
        api.run_backtest(get_strategy("russell-fed-rotation")(), api.RunConfig(data_dir=tmp_path))


def test_validation_limits_default_by_kind():
    assert validate.limits(INST["RUT"])["max_move"] == 0.25
    assert validate.limits(INST["AUDUSD"])["max_move"] == 0.10
    assert validate.limits(INST["FED_TARGET"])["max_missing"] == 3.0
    assert validate.limits(INST["XSO"])["max_missing"] == 0.0


# --------------------------------------------------------------------------- hostile numbers (issue 14)


@pytest.mark.parametrize(
    ("cell", "shown", "side"),
    [
        ("5e-324", "4.94066e-324", "below 1e-06 AUD, the smallest price"),
        ("1e-310", "1e-310", "below 1e-06 AUD, the smallest price"),
        ("1e-7", "1e-07", "below 1e-06 AUD, the smallest price"),
        ("1e300", "1e+300", "above 1e+12 AUD, the largest price"),
        ("2e12", "2e+12", "above 1e+12 AUD, the largest price"),
    ],
)
def test_prices_no_series_can_hold_are_errors_without_repeated_moves(tmp_path, cell, shown, side):
    days = _sessions("XASX", "2024-12-02", 3)
    found = _problems(tmp_path, _closes(days, [5.06, cell, 5.07]))
    errors = [p for p in found if p.severity == "error"]
    assert [(p.check, p.row, p.column) for p in errors] == [("bounds", 3, "close")]
    assert f"row 3, column close: {shown} is {side}" in str(errors[0])
    assert not _only(found, "move")


def test_real_price_levels_pass_the_bounds(tmp_path):
    days = _sessions("XASX", "2024-12-02", 2)
    for closes in ([0.001, 0.0011], [9e11, 9.1e11]):
        found = _problems(tmp_path, _closes(days, closes))
        assert not _only(found, "bounds"), found


def test_rates_may_be_zero_but_not_subnormal_or_beyond_ten_thousand(tmp_path):
    text = "date,value\n2024-01-02,0\n2024-01-03,5e-324\n2024-01-04,-0.5\n2024-01-05,-2e4\n"
    found = _only(_problems(tmp_path, text, key="US10Y"), "bounds")
    assert [p.row for p in found] == [3, 5]
    assert "nearer 0 than 1e-06" in str(found[0]) and "further from 0 than 10000" in str(found[1])


def test_a_row_after_the_calendars_last_session_says_so(tmp_path):
    days = [*_sessions("XASX", "2024-12-02", 2), "2199-01-02"]
    (p,) = _only(_problems(tmp_path, _closes(days, [1, 1, 1])), "after_calendar")
    assert p.severity == "error" and "after the XASX calendar's last session" in str(p)


def test_a_one_row_price_series_warns_here_and_the_loader_refuses_it(tmp_path):
    text = _closes(_sessions("XASX", "2024-12-02", 1), [5.06])
    (p,) = _only(_problems(tmp_path, text), "rows")
    assert p.severity == "warning" and "holds only 1 row (2024-12-02)" in str(p)
    with pytest.raises(DataError, match=r"XSO.csv: holds only 1 row \(2024-12-02\)"):
        load_folder(tmp_path, ["XSO"])
    one_rate = _problems(tmp_path, "date,value\n2024-01-02,4.35\n", key="RBA_CASH")
    assert not _only(one_rate, "rows")  # a step series may hold one value


def test_a_span_longer_than_an_int64_of_nanoseconds_is_in_order(tmp_path):
    found = _problems(tmp_path, "date,value\n1900-01-01,1\n2200-12-29,1\n", key="FED_TARGET")
    assert not _only(found, "order") and not _only(found, "duplicate")


def test_folder_lists_files_whose_suffix_a_run_would_not_find(tmp_path):
    (tmp_path / "XSO.CSV").write_text("date,close\n2024-12-23,1\n")
    (report,) = validate_folder(tmp_path)
    (p,) = report.problems
    assert p.severity == "warning" and "rename XSO.CSV -> XSO.csv" in str(p)
