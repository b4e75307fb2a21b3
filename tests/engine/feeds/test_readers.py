"""The tolerant readers: every raw-download quirk the loader accepts, and every refusal's message."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.feeds.instruments import load_instruments
from engine.feeds.readers import from_frame, parse_bytes, read_table

INST = load_instruments()


def _read(tmp_path, text: str | bytes, key: str = "XSO", name: str | None = None, **changes):
    path = tmp_path / (name or f"{key}.csv")
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    inst = dataclasses.replace(INST[key], **changes) if changes else INST[key]
    return read_table(path, inst)


def _error(tmp_path, text, key="XSO", **changes) -> str:
    with pytest.raises(DataError) as err:
        _read(tmp_path, text, key, **changes)
    assert str(tmp_path) in str(err.value)
    return str(err.value)


def _days(table) -> list[str]:
    return [str(d.date()) for d in table.dates]


# --------------------------------------------------------------------------- layouts


def test_plain_layout_keeps_volume_and_line_numbers(tmp_path):
    t = _read(tmp_path, "date,open,high,low,close,volume\n2024-12-23,1,2,0.5,1.5,10\n")
    assert t.layout == "plain"
    assert list(t.frame.columns) == ["date", "open", "high", "low", "close", "volume"]
    assert t.lines.tolist() == [2]
    assert list(t.series_frame(INST["XSO"]).columns) == ["open", "high", "low", "close", "volume"]


def test_yahoo_column_order_is_read_by_name(tmp_path):
    text = "Date,Close,High,Low,Open,Volume\n2024-12-23,10,12,9,11,100\n"
    t = _read(tmp_path, text)
    assert t.layout == "yahoo"
    row = t.frame.iloc[0]
    assert (row["open"], row["high"], row["low"], row["close"]) == (11, 12, 9, 10)


def test_yahoo_null_rows_are_skipped_and_counted(tmp_path):
    text = (
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-12-23,1,1,1,1,1,0\n"
        "2024-12-24,null,null,null,null,null,null\n"
        "2024-12-27,2,2,2,2,2,0\n"
    )
    t = _read(tmp_path, text)
    assert _days(t) == ["2024-12-23", "2024-12-27"] and t.lines.tolist() == [2, 4]
    assert t.skipped == 1 and any("skipped 1 row" in n for n in t.notes)
    assert any("ignored Adj Close" in n for n in t.notes) and "adj_close" not in t.frame


def test_adj_close_is_used_for_a_total_return_instrument(tmp_path):
    text = "Date,Open,High,Low,Close,Adj Close,Volume\n2024-12-23,10,12,8,10,5,1\n"
    t = _read(tmp_path, text, kind="etf", returns="total")
    assert t.frame.iloc[0][["open", "high", "low", "close"]].tolist() == [5, 6, 4, 5]
    assert any("Adj Close" in n and "dividends" in n for n in t.notes)


def test_utf8_byte_order_mark_and_crlf(tmp_path):
    t = _read(tmp_path, b"\xef\xbb\xbfdate,close\r\n2024-12-23,1.5\r\n")
    assert _days(t) == ["2024-12-23"] and t.frame["close"].tolist() == [1.5]


def test_windows_1252_text_is_read(tmp_path):
    t = _read(tmp_path, "date,close\n2024-12-23,1.5\n".encode("cp1252") + b"\n")
    assert t.frame["close"].tolist() == [1.5]


def test_fred_old_csv_with_dots_for_no_value(tmp_path):
    text = "DATE,DGS10\n2025-01-17,4.61\n2025-01-20,.\n2025-01-21,4.57\n"
    t = _read(tmp_path, text, key="US10Y")
    assert t.layout == "fred" and t.columns == {"value": "DGS10"}
    assert _days(t) == ["2025-01-17", "2025-01-21"] and t.skipped == 1


def test_fred_combined_file_picks_the_instruments_series(tmp_path):
    text = "date,DFF,DFEDTARU,DGS10\n2025-09-17,4.33,4.50,4.06\n2025-09-18,4.08,4.25,4.11\n"
    assert _read(tmp_path, text, key="FED_TARGET").frame["value"].tolist() == [4.5, 4.25]
    assert _read(tmp_path, text, key="US10Y").frame["value"].tolist() == [4.06, 4.11]


def test_single_series_file_for_a_price(tmp_path):
    text = "observation_date,DEXUSAL\n2024-01-02,0.68\n2024-01-03,\n"
    t = _read(tmp_path, text, key="AUDUSD")
    assert t.columns == {"close": "DEXUSAL"} and t.frame["close"].tolist() == [0.68]


def test_yahoo_price_file_for_a_rate_with_a_yahoo_symbol(tmp_path):
    t = _read(tmp_path, "Date,Close,High,Low,Open,Volume\n2024-01-02,3.95,4,3.9,3.9,0\n", "US10Y")
    assert t.frame["value"].tolist() == [3.95]


def test_rba_table_with_metadata_lines(tmp_path):
    meta = "".join(f"{h},x,y\n" for h in ("Title", "Description", "Units")) + ",,\n"
    text = (
        "\ufeffF1 INTEREST RATES,,\n"
        + meta
        + "Series ID,FIRMMCRTD,FIRMMCRID\n"
        + "16-Sep-2025,3.60,3.60\n17-Sep-2025,3.60,3.61\n18-Sep-2025,,\n"
    )
    t = _read(tmp_path, text, key="RBA_CASH")
    assert t.layout == "rba" and t.columns == {"value": "FIRMMCRTD"}
    assert _days(t) == ["2025-09-16", "2025-09-17"]
    assert t.lines.tolist() == [7, 8]  # the header is line 6


def test_explicit_column_and_a_date_column_named_otherwise(tmp_path):
    text = "effective_date,change_points,cash_rate_target\n04/08/20,0,0.25\n03/20/20,-0.25,0.25\n"
    t = _read(tmp_path, text, key="RBA_CASH", column="cash_rate_target")
    assert _days(t) == ["2020-03-20", "2020-04-08"] and t.lines.tolist() == [3, 2]
    assert any("newest first" in n for n in t.notes)


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["2024-12-23", "2024-12-24"], ["2024-12-23", "2024-12-24"]),
        (["20241223", "20241224"], ["2024-12-23", "2024-12-24"]),
        (["12/23/2024", "12/24/2024"], ["2024-12-23", "2024-12-24"]),
        (["9/27/1982", "9/28/1982"], ["1982-09-27", "1982-09-28"]),
        (["23-Dec-2024", "24-Dec-2024"], ["2024-12-23", "2024-12-24"]),
        (["23-Dec-24", "24-Dec-24"], ["2024-12-23", "2024-12-24"]),
        (["2024/12/23", "2024/12/24"], ["2024-12-23", "2024-12-24"]),
        # yfinance's CSV: a local midnight with its UTC offset keeps the local date
        (["2024-12-23 00:00:00+11:00", "2024-12-24 00:00:00+11:00"], ["2024-12-23", "2024-12-24"]),
    ],
)
def test_date_formats(tmp_path, cells, expected):
    text = "date,close\n" + "".join(f"{c},1\n" for c in cells)
    assert _days(_read(tmp_path, text)) == expected


def test_descending_file_is_turned_round(tmp_path):
    t = _read(tmp_path, "date,close\n2024-12-27,3\n2024-12-24,2\n2024-12-23,1\n")
    assert _days(t) == ["2024-12-23", "2024-12-24", "2024-12-27"]
    assert t.frame["close"].tolist() == [1, 2, 3] and t.lines.tolist() == [4, 3, 2]


def test_unsorted_file_keeps_its_order_for_the_validator(tmp_path):
    t = _read(tmp_path, "date,close\n2024-12-23,1\n2024-12-27,3\n2024-12-24,2\n")
    assert _days(t) == ["2024-12-23", "2024-12-27", "2024-12-24"]


def test_blank_lines_are_ignored_but_keep_line_numbers(tmp_path):
    t = _read(tmp_path, "date,close\n2024-12-23,1\n\n2024-12-24,2\n")
    assert t.lines.tolist() == [2, 4]


def test_plain_layout_keeps_missing_values_for_the_validator(tmp_path):
    t = _read(tmp_path, "date,close\n2024-12-23,1\n2024-12-24,null\n2024-12-27,\n")
    assert np.isnan(t.frame["close"].iloc[1:]).all() and t.skipped == 0


def test_parquet_with_a_tz_aware_datetime_index(tmp_path):
    idx = pd.DatetimeIndex(["2025-09-17", "2025-09-18"]).tz_localize("America/New_York")
    frame = pd.DataFrame({"Open": [1.0, 2], "Close": [1.5, 2.5]}, index=idx.rename("Date"))
    frame.to_parquet(tmp_path / "RUT.parquet")
    t = read_table(tmp_path / "RUT.parquet", INST["RUT"])
    assert _days(t) == ["2025-09-17", "2025-09-18"] and t.frame["close"].tolist() == [1.5, 2.5]


def test_parse_bytes_names_a_download(tmp_path):
    t = parse_bytes(b"DATE,DGS10\n2025-01-17,4.61\n", tmp_path / "fred:DGS10", INST["US10Y"])
    assert t.frame["value"].tolist() == [4.61] and len(t.sha256) == 64


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["could not be read", "empty", "date,open,high,low,close"]),
        ("\n\n", ["could not be read", "empty"]),
        ("date,close\n", ["no rows"]),
        ("day,close\n2024-12-23,1\n", ["no 'date' column", "['day', 'close']", "name it 'date'"]),
        ("date,open\n2024-12-23,1\n", ["missing column(s) close", "date,open,high,low,close"]),
        ("date,close\n2024-12-23,n.a.\n", ["row 2, column close", "'n.a.'", "not a number"]),
        ("date,close\n2024-12-23,1,234\n", ["could not be read"]),
        (
            "date,close\n2024-12-23,1\n12/24/2024,1\n",
            ["mixes formats", "row 2 '2024-12-23' is YYYY-MM-DD", "row 3 '12/24/2024' is M/D/YYYY"],
        ),
        (
            "date,close\n23/12/2024,1\n24/12/2024,1\n",
            ["row 2, column date", "'23/12/2024'", "D/M/YYYY", "YYYY-MM-DD"],
        ),
        ("date,close\nsoon,1\n", ["row 2, column date", "'soon'", "not a date", "YYYY-MM-DD"]),
        ("Date,Close\n2024-12-23,null\n", ["no row has a Close value"]),
    ],
)
def test_refusals_name_file_row_and_fix(tmp_path, text, expected):
    msg = _error(tmp_path, text)
    for part in expected:
        assert part in msg, (part, msg)


def test_missing_value_column_for_a_rate(tmp_path):
    msg = _error(tmp_path, "date,a,b\n2024-01-02,1,2\n", key="FED_TARGET")
    assert "missing column(s) value" in msg and "['date', 'a', 'b']" in msg


def test_explicit_column_that_is_absent(tmp_path):
    msg = _error(tmp_path, "date,x\n2024-01-02,1\n", key="RBA_CASH", column="cash_rate_target")
    assert "'cash_rate_target'" in msg and "instruments.toml" in msg


def test_unreadable_parquet(tmp_path):
    (tmp_path / "XSO.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="could not be read"):
        read_table(tmp_path / "XSO.parquet", INST["XSO"])


# --------------------------------------------------------------------------- ambiguous columns


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        (
            "XSO",
            "Date,date,close\n",
            "columns 'Date' (column 1) and 'date' (column 2) could both be the date",
        ),
        (
            "FED_TARGET",
            "date,observation_date,value\n",
            "'date' (column 1) and 'observation_date' (column 2)",
        ),
        (
            "XSO",
            "date,Close,close\n",
            "columns 'Close' (column 2) and 'close' (column 3) could both be the close",
        ),
        (
            "XSO",
            "Date,Open,High,Low,Close,open\n",
            "'Open' (column 2) and 'open' (column 6) could both be the open",
        ),
        (
            "XSO",
            "date,close,close\n",
            "the header repeats 'close' (columns 2 and 3), so either could be the close",
        ),
        ("XSO", "date,CLOSE,Close\n", "could both be the close"),
        ("XSO", "date,close,volume,Volume\n", "could both be the volume"),
        (
            "RUT",
            "date,close,^RUT\n",
            "columns 'close' (column 2) and '^RUT' (column 3) could both be the close",
        ),
        ("FED_TARGET", "date,value,DFEDTARU\n", 'or name the one to use with column = "DFEDTARU"'),
        ("FED_TARGET", "date,Value,value\n", "'Value' (column 2) and 'value' (column 3)"),
        (
            "US10Y",
            "date,DGS10,^TNX\n",
            "'DGS10' (column 2) and '^TNX' (column 3) could both be the value",
        ),
        ("FED_TARGET", "date,rate,rate\n", "the header repeats 'rate' (columns 2 and 3)"),
    ],
)
def test_two_columns_that_could_both_be_one_are_refused(tmp_path, key, text, expected):
    names = text.strip().split(",")
    row = ",".join("2024-12-23" if n.lower().endswith("date") else "1" for n in names)
    msg = _error(tmp_path, text + row + "\n", key)
    assert expected in msg, msg
    assert "delete or rename one of them" in msg


def test_adj_close_next_to_close_and_other_harmless_pairs_are_not_ambiguous(tmp_path):
    text = "Date,Open,High,Low,Close,Adj Close,Volume\n2024-12-23,1,1,1,1,2,0\n"
    assert _read(tmp_path, text, returns="total").frame["close"].tolist() == [2.0]
    assert _read(tmp_path, "date,close,wap,wap\n2024-12-23,1,5,6\n").frame["close"].tolist() == [1]
    explicit = "date,close,Last\n2024-12-23,1,3\n"
    assert _read(tmp_path, explicit, column="Last").frame["close"].tolist() == [3.0]
    twice = "Date,Close,Adj Close,adj_close\n2024-12-23,1,2,3\n"
    assert "could both be the adjusted close" in _error(tmp_path, twice, returns="total")
    assert _read(tmp_path, twice).frame["close"].tolist() == [1.0]  # price-only: Adj Close unused


def test_a_repeated_column_in_an_rba_table_is_refused(tmp_path):
    text = (
        "F1 INTEREST RATES AND YIELDS - MONEY MARKET\n"
        "Title,Cash Rate Target,Cash Rate Target\n"
        "Series ID,FIRMMCRTD,FIRMMCRTD\n"
        "04-Jan-2011,4.75,4.75\n"
    )
    msg = _error(tmp_path, text, key="RBA_CASH")
    assert "the header repeats 'FIRMMCRTD' (columns 2 and 3)" in msg


def test_a_frame_with_duplicate_columns_is_refused(tmp_path):
    raw = pd.DataFrame([["2024-12-23", 1.0, 2.0]], columns=["date", "close", "close"])
    with pytest.raises(DataError, match="the header repeats 'close'"):
        from_frame(raw, tmp_path / "XSO.parquet", INST["XSO"])


# --------------------------------------------------------------------------- dates out of range (issue 14)


@pytest.mark.parametrize(
    ("rows", "shown"),
    [
        ("2019-03-15,1\n2300-01-02,1\n", "'2300-01-02'"),
        ("2019-03-15,1\n2300-01-02T00:00:00Z,1\n", "'2300-01-02'"),
        ("0001-01-01,1\n2019-03-15,1\n", "'0001-01-01'"),
        ("1899-12-29,1\n2019-03-15,1\n", "'1899-12-29'"),
        ("1700-01-04,1\n2019-03-15,1\n", "'1700-01-04'"),
        ("2019-03-15,1\n2262-04-12,1\n", "'2262-04-12'"),
        ("2019-03-15,1\n2201-01-01,1\n", "'2201-01-01'"),
        ("20190315,1\n23000102,1\n", "'23000102'"),
        ("3/15/2019,1\n1/2/2300,1\n", "'1/2/2300'"),
        ("15-Mar-2019,1\n02-Jan-2300,1\n", "'02-Jan-2300'"),
        ("2019/03/15,1\n2300/01/02,1\n", "'2300/01/02'"),
        ("2019-03-15,1\n9999-12-31,1\n", "'9999-12-31'"),
    ],
)
def test_a_date_outside_1900_2200_names_its_row_in_every_format(tmp_path, rows, shown):
    msg = _error(tmp_path, "date,close\n" + rows)
    assert "column date" in msg and shown in msg and "outside 1900-01-01..2200-12-31" in msg
    assert "row 3" in msg or "row 2" in msg


def test_a_parquet_date_beyond_pandas_names_its_row(tmp_path):
    days = np.array(["2019-03-15", "2300-01-02"], dtype="datetime64[us]")
    pd.DataFrame({"date": days, "close": [1.0, 1.0]}).to_parquet(tmp_path / "XSO.parquet")
    with pytest.raises(DataError, match=r"row 3, column date: '2300-01-02' is outside"):
        read_table(tmp_path / "XSO.parquet", INST["XSO"])


def test_the_edges_of_the_range_are_read(tmp_path):
    t = _read(tmp_path, "date,value\n1900-01-01,1\n2200-12-31,1\n", key="FED_TARGET")
    assert _days(t) == ["1900-01-01", "2200-12-31"]


def test_a_huge_cell_or_header_is_quoted_cut_short(tmp_path):
    msg = _error(tmp_path, "date,close\n2019-03-15," + "x" * 1_000_000 + "\n")
    assert "… (1,000,000 characters) is not a number" in msg and len(msg) < 400
    msg = _error(tmp_path, "D" * 1_000_000 + ",close\n2019-03-15,1\n")
    assert "no 'date' column" in msg and "(1,000,000 characters)" in msg and len(msg) < 400
    wide = "when," + ",".join(f"x{i}" for i in range(10_000))
    msg = _error(tmp_path, wide + "\n" + "1," * 10_000 + "1\n")
    assert "… 9,989 more]" in msg and len(msg) < 400


def test_semicolons_and_utf16_say_what_was_found(tmp_path):
    msg = _error(tmp_path, "Date;Close\n2019-03-15;5,06\n")
    assert "separated by semicolons, not commas" in msg and "comma-separated CSV in UTF-8" in msg
    msg = _error(tmp_path, "Date,Close\n2019-03-15,5.06\n".encode("utf-16"))
    assert "is UTF-16 text" in msg and "UTF-8" in msg
