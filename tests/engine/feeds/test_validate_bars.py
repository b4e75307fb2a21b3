"""Opens, highs and lows checked like closes (engine/feeds/validate_bars.py): hand-made bars, each bad tick
an error naming file, row, column, value and fix; real gaps and bars that are merely odd are not."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.errors import DataError
from engine.feeds.instruments import load_instruments
from engine.feeds.marketdata import load_folder
from engine.feeds.readers import read_table
from engine.feeds.validate import check_table
from engine.feeds.validate_bars import lone_spikes

INST = load_instruments()
# Five XASX sessions; each bar: open, high, low, close.
DAYS = ["2024-12-02", "2024-12-03", "2024-12-04", "2024-12-05", "2024-12-06"]
BARS = [
    (100.0, 101.0, 99.0, 100.0),
    (100.0, 102.0, 99.5, 101.0),
    (101.0, 102.0, 100.0, 101.5),
    (101.5, 103.0, 101.0, 102.0),
    (102.0, 102.5, 100.5, 101.0),
]


def _text(bars) -> str:
    rows = [f"{d},{o:g},{h:g},{lo:g},{c:g}" for d, (o, h, lo, c) in zip(DAYS, bars, strict=True)]
    return "date,open,high,low,close\n" + "\n".join(rows) + "\n"


def _with(row: int, bars=BARS, **cells) -> list[tuple]:
    """``bars`` with the cells of bar ``row`` (0-based) replaced."""
    bars = [list(b) for b in bars]
    for name, value in cells.items():
        bars[row][("open", "high", "low", "close").index(name)] = value
    return [tuple(b) for b in bars]


def _problems(tmp_path, bars, key="XSO", **changes):
    path = tmp_path / f"{key}.csv"
    path.write_text(_text(bars))
    inst = dataclasses.replace(INST[key], **changes) if changes else INST[key]
    return check_table(read_table(path, inst), inst)


def _hard(problems):
    return [(p.check, p.row, p.column) for p in problems if p.severity == "error"]


def test_clean_bars_pass(tmp_path):
    assert [p for p in _problems(tmp_path, BARS) if p.severity != "note"] == []


@pytest.mark.parametrize(
    ("cells", "column", "factor"),
    [
        ({"open": 1015.0}, "open", "10.0"),  # open x10
        ({"open": 10.15}, "open", "10.0"),  # open /10
        ({"high": 1020.0}, "high", "10.0"),  # high x10
        ({"low": 10.0}, "low", "10.1"),  # low /10
    ],
)
def test_a_wild_open_high_or_low_is_an_error(tmp_path, cells, column, factor):
    found = _problems(tmp_path, _with(2, **cells))
    assert _hard(found) == [("jump", 4, column)]
    (p,) = [p for p in found if p.severity == "error"]
    assert p.value == cells[column]
    text = str(p)
    assert (
        f"XSO.csv: row 4, column {column}: {cells[column]:g} is off by a factor of {factor}" in text
    )
    assert "the previous close 101" in text and "the close 101.5: a bad tick" in text
    assert f"correct the {column} or remove the row" in text and "checks.max_move for XSO" in text


def test_a_high_that_follows_a_bad_open_is_bad_too(tmp_path):
    found = _problems(tmp_path, _with(2, open=1015.0, high=1015.0))
    assert _hard(found) == [("jump", 4, "open"), ("jump", 4, "high")]
    high = str([p for p in found if p.column == "high"][0])
    assert "(the open 1015, itself a bad tick, not compared)" in high


def test_a_bad_open_names_that_orders_fill_at_it(tmp_path):
    (p,) = [p for p in _problems(tmp_path, _with(0, open=1000.0)) if p.severity == "error"]
    assert (p.row, p.column) == (2, "open")  # the first row has only its own close to go by
    assert "from the close 100: a bad tick" in str(p) and "orders fill at it" in str(p)


def test_open_zero_is_refused_by_the_value_check(tmp_path):
    found = _problems(tmp_path, _with(1, open=0.0))
    assert _hard(found) == [("value", 3, "open")]


def test_a_gap_confirmed_by_the_close_is_the_close_s_move(tmp_path):
    # A real gap: the open and the close agree, so only the close-to-close move speaks (a warning).
    after = [(130.0, 132.0, 129.0, 131.0), (131.0, 132.0, 130.0, 131.5), (131.5, 132, 130.5, 131)]
    bars = [*BARS[:2], *after]
    found = _problems(tmp_path, bars)
    assert [(p.check, p.row, p.column) for p in found if p.severity != "note"] == [
        ("move", 4, "close")
    ]


def test_an_index_open_away_from_both_closes_beyond_max_move_is_an_error(tmp_path):
    # Orders fill at the open: an index or ETF open 28 % from both closes around it is a bad tick.
    (p,) = [p for p in _problems(tmp_path, _with(2, open=130.0, high=130.0)) if p.check == "jump"]
    assert (p.severity, p.row, p.column) == ("error", 4, "open")
    assert "130 is off by a factor of 1.3 or more from the previous close 101 and the close" in str(
        p
    )
    relaxed = _problems(tmp_path, _with(2, open=130.0, high=130.0), checks={"max_move": 0.5})
    assert not [p for p in relaxed if p.check in ("move", "jump")]


def test_a_bad_close_does_not_hide_the_bad_open_next_to_it(tmp_path):
    # Yahoo AUD/USD 2006-12-25/26 in small: close x5, then the next open and high at that level.
    bars = _with(1, close=505.0, high=506.0)
    bars = _with(2, bars, open=505.0, high=505.0)
    found = _problems(tmp_path, bars)
    assert _hard(found) == [
        ("jump", 3, "close"),
        ("jump", 3, "high"),
        ("jump", 4, "close"),
        ("jump", 4, "open"),
        ("jump", 4, "high"),
    ]
    (opened,) = [p for p in found if (p.row, p.column) == (4, "open")]
    assert "(the previous close 505, itself a bad tick, not compared)" in str(opened)


def test_lone_spikes_need_both_neighbours():
    c = np.array([1.0, 5.0, 1.0, 1.0, 0.2, 1.1, 4.0])
    assert lone_spikes(c).tolist() == [False, True, False, False, True, False, False]
    assert not lone_spikes(np.array([1.0, np.nan, 9.0])).any()


def test_a_range_that_misses_the_close_still_only_warns(tmp_path):
    found = _problems(tmp_path, _with(2, low=101.8))
    assert [(p.severity, p.check, p.row) for p in found if p.severity != "note"] == [
        ("warning", "ohlc", 4)
    ]


def test_fx_uses_its_own_threshold(tmp_path):
    bars = [(0.70, 0.71, 0.69, 0.70), (0.70, 0.71, 0.69, 0.70), (0.80, 0.80, 0.69, 0.70)]
    text = "date,open,high,low,close\n" + "".join(
        f"2024-01-0{i + 2},{o},{h},{lo},{c}\n" for i, (o, h, lo, c) in enumerate(bars)
    )
    (tmp_path / "AUDUSD.csv").write_text(text)
    found = check_table(read_table(tmp_path / "AUDUSD.csv", INST["AUDUSD"]), INST["AUDUSD"])
    (p,) = [p for p in found if p.check == "move"]
    assert (p.row, p.column, p.severity) == (4, "open", "warning") and "(limit 10%)" in str(p)


def test_loading_refuses_an_open_ten_times_the_close(tmp_path):
    (tmp_path / "XSO.csv").write_text(_text(_with(3, open=1015.0, high=1015.0)))
    with pytest.raises(DataError) as err:
        load_folder(tmp_path, ["XSO"])
    msg = str(err.value)
    assert f"{tmp_path / 'XSO.csv'}: row 5, column open: 1015 is off by a factor of" in msg
    assert "correct the open or remove the row" in msg
