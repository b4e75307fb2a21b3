"""Loading a data folder: values, knowledge instants worked out by hand, and every error message."""

from __future__ import annotations

import hashlib
import os
import textwrap

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.feeds.instruments import load_instruments
from engine.feeds.marketdata import MarketData, describe_folder, find_file, load_folder, load_series

PRICE_HEADER = "date,open,high,low,close,volume\n"

# XASX sessions around Christmas 2024: 12-25 and 12-26 are holidays, 12-24 closes early (14:10).
XSO_CSV = PRICE_HEADER + (
    "2024-12-23,100,101,99,100.5,1000\n"
    "2024-12-24,100.5,102,100,101.0,900\n"
    "2024-12-27,101,103,100,102.5,1100\n"
    "2025-07-01,110,111,109,110.5,1200\n"
)
XSO_KNOWN_UTC = [
    "2024-12-23 05:00",  # 16:00 AEDT (UTC+11)
    "2024-12-24 03:10",  # early close 14:10 AEDT
    "2024-12-27 05:00",
    "2025-07-01 06:00",  # 16:00 AEST (UTC+10)
]

# FED_TARGET: known "D+1 24:00" America/New_York, i.e. local midnight starting D+2.
# US daylight saving began Sunday 2024-03-10 at 02:00 local.
FED_CSV = "date,value\n2024-03-07,5.50\n2024-03-08,5.50\n2024-03-11,5.50\n2024-03-12,5.25\n"
FED_KNOWN_UTC = [
    "2024-03-09 05:00",  # Sat 00:00 EST (UTC-5)
    "2024-03-10 05:00",  # Sun 00:00 EST: midnight precedes the 02:00 switch
    "2024-03-13 04:00",  # Wed 00:00 EDT (UTC-4)
    "2024-03-14 04:00",
]


def _utc_ns(texts: list[str]) -> np.ndarray:
    return pd.DatetimeIndex(texts, tz="UTC").as_unit("ns").asi8


def _folder(tmp_path, files: dict[str, str]):
    folder = tmp_path / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _error(folder, keys) -> str:
    with pytest.raises(DataError) as err:
        load_folder(folder, keys)
    return str(err.value)


# --------------------------------------------------------------------------- happy paths


def test_price_series_on_xasx_sessions(tmp_path):
    folder = _folder(tmp_path, {"XSO.csv": XSO_CSV})
    md = load_folder(folder, ["XSO"])
    s = md["XSO"]
    assert list(s.frame.columns) == ["open", "high", "low", "close", "volume"]  # for volume_surge
    assert s.frame.index.equals(
        pd.DatetimeIndex(["2024-12-23", "2024-12-24", "2024-12-27", "2025-07-01"], name="date")
    )
    assert s.frame.index.tz is None
    assert (s.frame.dtypes == np.float64).all()
    np.testing.assert_array_equal(s.values.to_numpy(), [100.5, 101.0, 102.5, 110.5])
    assert s.known_ns.dtype == np.int64
    np.testing.assert_array_equal(s.known_ns, _utc_ns(XSO_KNOWN_UTC))
    assert s.instrument.key == "XSO" and s.instrument.calendar == "XASX"
    assert md.synthetic is False and md.folder == folder


def test_rate_series_known_at_end_of_next_new_york_day(tmp_path):
    folder = _folder(tmp_path, {"FED_TARGET.csv": FED_CSV})
    s = load_folder(folder, ["FED_TARGET"])["FED_TARGET"]
    assert list(s.frame.columns) == ["value"]
    np.testing.assert_array_equal(s.values.to_numpy(), [5.5, 5.5, 5.5, 5.25])
    np.testing.assert_array_equal(s.known_ns, _utc_ns(FED_KNOWN_UTC))


def test_rate_series_known_in_sydney(tmp_path):
    # RBA_CASH "D+1 24:00" Australia/Sydney: 2024-04-05 -> 2024-04-07 00:00 AEST (AEDT ended at
    # 03:00 on 2024-04-07, so midnight is still AEDT, UTC+11) = 2024-04-06 13:00 UTC.
    folder = _folder(tmp_path, {"RBA_CASH.csv": "date,value\n2024-04-05,4.35\n2024-04-08,4.35\n"})
    s = load_folder(folder, ["RBA_CASH"])["RBA_CASH"]
    # 2024-04-08 -> 2024-04-10 00:00 AEST (UTC+10) = 2024-04-09 14:00 UTC.
    np.testing.assert_array_equal(s.known_ns, _utc_ns(["2024-04-06 13:00", "2024-04-09 14:00"]))


def test_rates_may_be_zero_or_negative(tmp_path):
    folder = _folder(tmp_path, {"US10Y.csv": "date,value\n2020-03-09,0.0\n2020-03-10,-0.1\n"})
    s = load_folder(folder, ["US10Y"])["US10Y"]
    np.testing.assert_array_equal(s.values.to_numpy(), [0.0, -0.1])


def test_fx_known_at_23_london(tmp_path):
    folder = _folder(tmp_path, {"AUDUSD.csv": "date,close\n2024-01-02,0.68\n2024-07-01,0.66\n"})
    s = load_folder(folder, ["AUDUSD"])["AUDUSD"]
    # 23:00 GMT in January, 23:00 BST (UTC+1) in July.
    np.testing.assert_array_equal(s.known_ns, _utc_ns(["2024-01-02 23:00", "2024-07-01 22:00"]))


def test_several_keys_and_provenance(tmp_path):
    folder = _folder(tmp_path, {"XSO.csv": XSO_CSV, "FED_TARGET.csv": FED_CSV})
    md = load_folder(folder, ["XSO", "FED_TARGET"])
    assert set(md.series) == {"XSO", "FED_TARGET"}
    s = md["XSO"]
    assert s.path == folder / "XSO.csv"
    assert s.sha256 == hashlib.sha256(XSO_CSV.encode()).hexdigest()
    assert s.provenance() == {
        "key": "XSO",
        "name": "S&P/ASX Small Ordinaries",
        "source": str(folder / "XSO.csv"),
        "sha256": s.sha256,
        "first": "2024-12-23",
        "last": "2025-07-01",
        "rows": 4,
        "returns": "price",
    }
    assert md["FED_TARGET"].provenance()["returns"] == "rate"


def test_unknown_key_in_loaded_data(tmp_path):
    md = load_folder(_folder(tmp_path, {"XSO.csv": XSO_CSV}), ["XSO"])
    with pytest.raises(DataError) as err:
        md["RUT"]
    assert "'RUT'" in str(err.value) and "RUT.csv" in str(err.value)


@pytest.mark.parametrize("date_as", ["string", "datetime"])
def test_parquet_works_like_csv(tmp_path, date_as):
    csv_md = load_folder(_folder(tmp_path, {"XSO.csv": XSO_CSV}), ["XSO"])
    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    frame = pd.read_csv(tmp_path / "data" / "XSO.csv", dtype={"date": str})
    if date_as == "datetime":
        frame["date"] = pd.to_datetime(frame["date"])
    frame.to_parquet(pq_dir / "XSO.parquet", index=False)
    pq_md = load_folder(pq_dir, ["XSO"])
    pd.testing.assert_frame_equal(pq_md["XSO"].frame, csv_md["XSO"].frame)
    np.testing.assert_array_equal(pq_md["XSO"].known_ns, csv_md["XSO"].known_ns)
    assert pq_md["XSO"].path == pq_dir / "XSO.parquet"


def test_parquet_is_preferred_over_csv(tmp_path):
    folder = _folder(tmp_path, {"FED_TARGET.csv": FED_CSV})
    pd.DataFrame({"date": ["2024-03-07"], "value": [9.0]}).to_parquet(
        folder / "FED_TARGET.parquet", index=False
    )
    s = load_folder(folder, ["FED_TARGET"])["FED_TARGET"]
    assert s.path.suffix == ".parquet" and s.values.tolist() == [9.0]


def test_parquet_errors_name_the_file(tmp_path):
    folder = _folder(tmp_path, {})
    pd.DataFrame({"date": ["2024-12-23", "2024-12-24"], "close": [1.0, -1.0]}).to_parquet(
        folder / "XSO.parquet", index=False
    )
    msg = _error(folder, ["XSO"])
    assert str(folder / "XSO.parquet") in msg and "row 3, column close" in msg


def test_load_series_directly(tmp_path):
    path = _folder(tmp_path, {"FED_TARGET.csv": FED_CSV}) / "FED_TARGET.csv"
    s = load_series(path, load_instruments()["FED_TARGET"])
    np.testing.assert_array_equal(s.known_ns, _utc_ns(FED_KNOWN_UTC))


# --------------------------------------------------------------------------- truncated, synthetic


def test_truncated_drops_exactly_what_is_known_at_or_after(tmp_path):
    folder = _folder(tmp_path, {"XSO.csv": XSO_CSV, "FED_TARGET.csv": FED_CSV})
    md = load_folder(folder, ["XSO", "FED_TARGET"])
    t = int(_utc_ns(["2024-12-24 03:10"])[0])  # the instant the 2024-12-24 close became known
    cut = md.truncated(t)
    assert isinstance(cut, MarketData) and cut.folder == md.folder
    assert cut["XSO"].frame.index.tolist() == [pd.Timestamp("2024-12-23")]
    assert cut["XSO"].known_ns.tolist() == md["XSO"].known_ns[:1].tolist()
    # Every FED_TARGET row is known in 2024-03, before t.
    assert len(cut["FED_TARGET"].frame) == 4
    one_later = md.truncated(t + 1)
    assert len(one_later["XSO"].frame) == 2 and len(one_later["XSO"].known_ns) == 2
    fed_cut = md.truncated(int(_utc_ns(["2024-03-10 05:00"])[0]))
    assert fed_cut["FED_TARGET"].frame.index.tolist() == [pd.Timestamp("2024-03-07")]
    assert len(fed_cut["XSO"].frame) == 0
    assert len(md["XSO"].frame) == 4  # the original is untouched


def test_synthetic_marker(tmp_path):
    folder = _folder(tmp_path, {"FED_TARGET.csv": FED_CSV})
    assert load_folder(folder, ["FED_TARGET"]).synthetic is False
    assert load_folder(folder, ["FED_TARGET"], synthetic=True).synthetic is True
    (folder / "SYNTHETIC").write_text("synthetic sample data\n")
    md = load_folder(folder, ["FED_TARGET"])
    assert md.synthetic is True
    assert md.truncated(0).synthetic is True


# --------------------------------------------------------------------------- folder-level errors


def test_missing_folder(tmp_path):
    msg = _error(tmp_path / "nope", ["XSO"])
    assert str(tmp_path / "nope") in msg and "--data-dir" in msg


def test_missing_key_files_are_all_listed(tmp_path):
    folder = _folder(tmp_path, {"XSO.csv": XSO_CSV})
    msg = _error(folder, ["XSO", "RUT", "FED_TARGET"])
    assert str(folder) in msg
    assert "RUT.csv" in msg and "FED_TARGET.csv" in msg and "XSO.csv" not in msg
    assert ".parquet" in msg


def test_unknown_key_with_a_file_suggests(tmp_path):
    folder = _folder(tmp_path, {"XS0.csv": XSO_CSV})
    msg = _error(folder, ["XS0"])
    assert "'XS0'" in msg and "Did you mean 'XSO'?" in msg


# --------------------------------------------------------------------------- file-level errors


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("XSO", "day,close\n2024-12-23,1\n", ["no 'date' column", "['day', 'close']"]),
        ("XSO", "date,open,high,low,close\n", ["no rows"]),
        ("XSO", "", ["could not be read"]),
        ("XSO", "date,open,high,low\n2024-12-23,1,1,1\n", ["missing column(s) close"]),
        ("FED_TARGET", "date,close\n2024-03-07,1\n", ["missing column(s) value", "date,value"]),
        (
            "XSO",
            "date,close\n2024-12-23,1\n2024-12-24,1\n2024-13-01,1\n",
            ["row 4, column date", "'2024-13-01'", "YYYY-MM-DD"],
        ),
        ("FED_TARGET", "date,value\nyesterday,1\n", ["row 2, column date", "'yesterday'"]),
        (
            "XSO",
            "date,close\n2024-12-23,1\n2024-12-27,1\n2024-12-24,1\n",
            ["row 4 (date 2024-12-24)", "out of order", "sort by date"],
        ),
        (
            "FED_TARGET",
            "date,value\n2024-03-07,1\n2024-03-08,1\n2024-03-08,1\n",
            ["row 4 (date 2024-03-08)", "duplicated", "one row per date"],
        ),
        ("XSO", "date,close\n2024-12-23,1\n2024-12-24,0\n", ["row 3, column close", "positive"]),
        ("XSO", "date,close\n2024-12-23,-5\n", ["row 2, column close", "fix or remove"]),
        ("XSO", "date,close\n2024-12-23,1\n2024-12-24,inf\n", ["row 3, column close"]),
        ("XSO", "date,close\n2024-12-23,1\n2024-12-24,\n", ["row 3, column close"]),
        (
            "XSO",
            "date,open,high,low,close\n2024-12-23,1,1,1,1\n2024-12-24,1,nan,1,1\n",
            ["row 3, column high"],
        ),
        ("FED_TARGET", "date,value\n2024-03-07,1\n2024-03-08,\n", ["row 3, column value"]),
        (
            "XSO",
            "date,close\n2024-12-23,1\n2024-12-25,1\n",
            ["row 3 (date 2024-12-25)", "not a XASX session", "remove non-session rows"],
        ),
        (
            "XSO",
            "date,close\n2024-12-23,1\n2024-12-24,1\n2025-01-04,1\n2025-01-05,1\n",
            ["row 4 (date 2025-01-04)", "(2 such rows)"],  # a Saturday and a Sunday
        ),
    ],
)
def test_file_errors_name_file_row_and_fix(tmp_path, key, text, expected):
    folder = _folder(tmp_path, {f"{key}.csv": text})
    msg = _error(folder, [key])
    assert str(folder / f"{key}.csv") in msg
    for part in expected:
        assert part in msg, (part, msg)


def test_non_numeric_price_cell(tmp_path):
    # A stray word in a price column is a data mistake like any other: DataError with file, row
    # and column, not a bare ValueError from pandas.
    folder = _folder(tmp_path, {"XSO.csv": "date,close\n2024-12-23,1\n2024-12-24,n.a.\n"})
    msg = _error(folder, ["XSO"])
    assert str(folder / "XSO.csv") in msg and "row 3, column close" in msg


# --------------------------------------------------------------------------- instruments.toml


PROXY = """\
    [XSO]
    name = "Vanguard Australian small companies ETF (XSO proxy)"
    kind = "etf"
    currency = "AUD"
    calendar = "XASX"
    tz = "Australia/Sydney"
    returns = "total"
    known = "session_close"
"""

NEW_KEY = """\
    [SPX_PROXY]
    name = "S&P 500 proxy"
    kind = "index"
    currency = "USD"
    calendar = "XNYS"
    tz = "America/New_York"
    returns = "price"
    known = "session_close"
"""


def test_folder_instruments_override_a_key(tmp_path):
    folder = _folder(tmp_path, {"XSO.csv": XSO_CSV, "instruments.toml": textwrap.dedent(PROXY)})
    s = load_folder(folder, ["XSO"])["XSO"]
    assert s.instrument.name == "Vanguard Australian small companies ETF (XSO proxy)"
    assert (s.instrument.kind, s.instrument.returns) == ("etf", "total")
    assert s.provenance()["returns"] == "total"
    np.testing.assert_array_equal(s.known_ns, _utc_ns(XSO_KNOWN_UTC))


def test_folder_instruments_add_a_key(tmp_path):
    folder = _folder(
        tmp_path,
        {
            # 2024-07-03 closes early at 13:00 EDT; 2024-07-05 at 16:00 EDT.
            "SPX_PROXY.csv": "date,close\n2024-07-03,5537.0\n2024-07-05,5567.2\n",
            "instruments.toml": textwrap.dedent(NEW_KEY),
        },
    )
    s = load_folder(folder, ["SPX_PROXY"])["SPX_PROXY"]
    assert s.instrument.name == "S&P 500 proxy"
    np.testing.assert_array_equal(s.known_ns, _utc_ns(["2024-07-03 17:00", "2024-07-05 20:00"]))
    # The folder's additions do not leak into other folders.
    other = _folder(tmp_path / "other", {"SPX_PROXY.csv": "date,close\n2024-07-05,1\n"})
    assert "unknown instrument key 'SPX_PROXY'" in _error(other, ["SPX_PROXY"])


def test_folder_instruments_invalid_names_that_file(tmp_path):
    bad = textwrap.dedent(PROXY).replace('kind = "etf"', 'kind = "fund"')
    folder = _folder(tmp_path, {"XSO.csv": XSO_CSV, "instruments.toml": bad})
    msg = _error(folder, ["XSO"])
    assert f"{folder / 'instruments.toml'} [XSO]" in msg and "'fund'" in msg


# --------------------------------------------------------------------------- not a file (issue 14)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
@pytest.mark.parametrize("name", ["XSO.csv", "XSO.parquet"])
def test_a_fifo_or_directory_at_a_keys_name_is_refused_by_name(tmp_path, name):
    folder = _folder(tmp_path, {"XSO.csv": "date,close\n2024-12-23,1\n2024-12-24,1\n"})
    (folder / name).unlink(missing_ok=True)
    os.mkfifo(folder / name)
    assert find_file(folder, "XSO") == folder / name
    msg = _error(folder, ["XSO"])  # would block for ever if the FIFO were opened
    assert f"{folder / name} is a FIFO (named pipe), not a regular file" in msg
    assert "Rename" not in msg
    (row,) = describe_folder(folder)
    assert row["source"].startswith("unreadable:") and "FIFO" in row["source"]
    (folder / name).unlink()
    (folder / name).mkdir()
    assert f"{folder / name} is a directory" in _error(folder, ["XSO"])


@pytest.mark.parametrize("name", ["xso.csv", "XSO.CSV", "Xso.Parquet"])
def test_a_name_that_differs_only_in_case_gets_a_rename_hint(tmp_path, name):
    folder = _folder(tmp_path, {name: "date,close\n2024-12-23,1\n"})
    suffix = name.rsplit(".", 1)[1].lower()
    assert f"Rename {name} -> XSO.{suffix}" in _error(folder, ["XSO"])
