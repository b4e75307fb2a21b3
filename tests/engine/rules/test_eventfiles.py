"""User event files: knowledge instants, and every bad row named."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.errors import DataError
from engine.rules.eventfiles import load_events, read_event_file


def _file(tmp_path, text: str):
    path = tmp_path / "events" / "tariffs.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def _utc(text: str) -> int:
    return pd.Timestamp(text).value


def test_times_zones_and_end_of_day(tmp_path):
    path = _file(tmp_path, "date,time,tz,label,value\n"
                           "2025-04-02,16:00,America/New_York,Liberation day,1\n"
                           "2025-04-09,,America/New_York,pause,\n"
                           "2025-01-20,,,inauguration,\n")  # fmt: skip
    table = read_event_file(path, "tariffs")
    assert table.labels == ("inauguration", "Liberation day", "pause")
    assert table.known_ns.tolist() == [
        _utc("2025-01-21 00:00Z"),  # no zone: UTC; no time: the end of its day
        _utc("2025-04-02 20:00Z"),  # 16:00 New York (EDT)
        _utc("2025-04-10 04:00Z"),  # midnight after 2025-04-09 in New York
    ]
    assert table.select("any").tolist() == table.known_ns.tolist()


def test_date_label_only(tmp_path):
    table = read_event_file(_file(tmp_path, "date,label\n2020-03-02,ipo window\n"), "ipo")
    assert len(table.known_ns) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("when,label\n2020-01-01,x\n", "unknown column 'when'"),
        ("date,labl\n2020-01-01,x\n", "Did you mean 'label'"),
        ("date\n2020-01-01\n", "no label column"),
        ("date,label\n2020-13-01,x\n", "row 2, column date"),
        ("date,label\n1850-01-01,x\n", "within 1900-01-01"),
        ("date,time,label\n2020-01-01,25:00,x\n", "row 2, column time"),
        ("date,tz,label\n2020-01-01,Mars/Olympus,x\n", "IANA zone"),
        ("date,label\n2020-01-01,\n", "row 2, column label"),
        ("date,label,value\n2020-01-01,x,lots\n", "column value"),
        ("date,label\n2020-01-01,x,y\n", "row 2 has 3 cells"),
        ("date,label\n", "no events"),
        ("", "empty"),
    ],
)
def test_bad_rows_are_named(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        read_event_file(_file(tmp_path, text), "tariffs")


def test_a_missing_table_lists_what_is_there(tmp_path):
    _file(tmp_path, "date,label\n2020-01-01,x\n")
    with pytest.raises(DataError, match="Did you mean 'tariffs'"):
        load_events("tarifs", tmp_path, None, None)
