"""Units of rates, rate jumps and plausible level ranges (engine/feeds/validate_levels.py), on hand-made
files: each refusal names the file, the row or column and the fix; real low levels stay accepted."""

from __future__ import annotations

import dataclasses
import textwrap

import pandas as pd
import pytest

from engine.errors import DataError
from engine.feeds import validate
from engine.feeds.instruments import load_instruments
from engine.feeds.marketdata import load_folder
from engine.feeds.readers import read_table
from engine.feeds.validate import check_table

INST = load_instruments()


def _problems(tmp_path, text: str, key: str, **changes):
    path = tmp_path / f"{key}.csv"
    path.write_text(text)
    inst = dataclasses.replace(INST[key], **changes) if changes else INST[key]
    return check_table(read_table(path, inst), inst)


def _errors(problems):
    return [p for p in problems if p.severity == "error"]


def _rates(values, start="2021-03-01") -> str:
    days = pd.bdate_range(start, periods=len(values)).strftime("%Y-%m-%d")
    return "date,value\n" + "".join(f"{d},{v}\n" for d, v in zip(days, values, strict=True))


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize("n", [1, 5, 400])
def test_rba_at_ten_basis_points_is_percent_on_any_length(tmp_path, n):
    # The RBA's cash rate really was 0.10 % from November 2020 to May 2022.
    assert _errors(_problems(tmp_path, _rates([0.10] * n), "RBA_CASH")) == []


@pytest.mark.parametrize("n", [1, 5, 400])
def test_fed_upper_bound_at_the_zero_lower_bound_is_percent(tmp_path, n):
    assert _errors(_problems(tmp_path, _rates([0.25] * n, "2012-01-02"), "FED_TARGET")) == []


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("RBA_CASH", [0.001] * 3),  # 0.10 % as a fraction, three days
        ("RBA_CASH", [0.02] * 250),  # 2.00 % (2015-16) as a fraction, a year
        ("RBA_CASH", [0.0475, 0.0450, 0.0425]),  # finer than a basis point as percent
        ("RBA_CASH", [0.175, 0.17, 0.165]),  # 1990's 17.5 % as a fraction, above 0.1
        ("FED_TARGET", [0.0025]),  # one row
        ("US10Y", [0.0423, 0.0431]),
    ],
)
def test_fractions_are_refused_on_any_length(tmp_path, key, values):
    (p,) = _errors(_problems(tmp_path, _rates(values), key))
    assert p.check == "units" and p.column == "value" and p.row is None
    assert f"{key}.csv: column value:" in str(p)
    assert "looks like a fraction" in str(p) and "multiply by 100" in str(p)


def test_negative_rates_are_no_fraction_and_the_check_can_be_turned_off(tmp_path):
    assert _errors(_problems(tmp_path, _rates([0.0, -0.1]), "US10Y")) == []  # -10 % is no rate
    tiny = _rates([0.03, 0.05])  # a T-bill at the zero lower bound, say
    assert _errors(_problems(tmp_path, tiny, "US10Y"))
    assert _errors(_problems(tmp_path, tiny, "US10Y", checks={"fraction_below": 0.0})) == []


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("FED_TARGET", [525, 525, 500]),  # three rows
        ("FED_TARGET", [25] * 30),  # the upper bound at the zero lower bound, in basis points
        ("RBA_CASH", [435] * 400),
        ("US10Y", [52, 55, 61]),  # 2020's lows
    ],
)
def test_basis_points_are_refused(tmp_path, key, values):
    (p,) = _errors(_problems(tmp_path, _rates(values), key))  # no jump errors on top
    assert p.check == "units" and "looks like basis points (425 = 4.25 %)" in str(p)
    assert "divide by 100" in str(p) and "checks.max_level" in str(p)


def test_a_fraction_file_holding_basis_points_or_percent(tmp_path):
    bp = _errors(_problems(tmp_path, _rates([425, 400]), "FED_TARGET", units="fraction"))
    assert "looks like basis points" in str(bp[0]) and "divide by 10000" in str(bp[0])
    pct = _errors(_problems(tmp_path, _rates([4.25, 4.0]), "FED_TARGET", units="fraction"))
    assert "looks like percent" in str(pct[0])


# --------------------------------------------------------------------------- rate jumps


def test_a_rate_jump_beyond_max_move_is_an_error(tmp_path):
    found = _problems(tmp_path, _rates([4.25, 4.25, 9.25, 4.25]), "FED_TARGET")
    assert [(p.check, p.row) for p in _errors(found)] == [("jump", 4), ("jump", 5)]
    text = str(_errors(found)[0])
    assert "row 4, column value: 4.25 -> 9.25 is a jump of +5.00 percentage points" in text
    assert "since row 3 (2021-03-02) (limit 2)" in text
    assert "correct the row" in text and "raise checks.max_move for FED_TARGET" in text
    relaxed = _problems(tmp_path, _rates([4.25, 9.25]), "FED_TARGET", checks={"max_move": 6})
    assert _errors(relaxed) == []


def test_a_fraction_rate_jumps_in_percentage_points(tmp_path):
    found = _problems(tmp_path, _rates([0.0425, 0.0925]), "FED_TARGET", units="fraction")
    assert [p.check for p in _errors(found)] == ["jump"]
    assert (
        _errors(_problems(tmp_path, _rates([0.0425, 0.04]), "FED_TARGET", units="fraction")) == []
    )


# --------------------------------------------------------------------------- level ranges


def _fx(closes, start="2024-01-01") -> str:
    days = pd.bdate_range(start, periods=len(closes)).strftime("%Y-%m-%d")
    return "date,close\n" + "".join(f"{d},{c}\n" for d, c in zip(days, closes, strict=True))


def test_audusd_given_the_other_way_round_is_refused_once(tmp_path):
    found = _problems(tmp_path, _fx([1.52, 1.50, 1.49, 1.55]), "AUDUSD")
    (p,) = _errors(found)
    assert (p.check, p.row, p.column) == ("level", 2, "close")
    text = str(p)
    assert "AUDUSD.csv: row 2, column close: 1.52 is outside the plausible range 0.4 .. 1.2" in text
    assert "AUDUSD (USD per AUD), as are 4 of 4 closes" in text
    assert "invert it (1/x, every price column)" in text


def test_a_level_outside_the_range_on_one_row(tmp_path):
    found = _problems(tmp_path, _fx([0.66, 0.67, 1.45, 0.66, 0.66]), "AUDUSD")
    (p,) = _errors(found)  # a factor of 2.2: a move warning, and out of range
    assert (p.check, p.row, p.column) == ("level", 4, "close")
    assert "1.45 is above the plausible maximum 1.2 of AUDUSD (range 0.4 .. 1.2)" in str(p)
    assert "1/x = 0.6897 would fit" in str(p) and "widen checks.min_level / max_level" in str(p)
    bars = "date,open,close\n2024-01-01,0.66,0.66\n2024-01-02,4.57,0.66\n"
    (jump,) = _errors(_problems(tmp_path, bars, "AUDUSD"))  # the open: a bad tick, said once
    assert (jump.check, jump.column) == ("jump", "open")


def test_a_rate_level_above_max_level_names_basis_points(tmp_path):
    found = _problems(tmp_path, _rates([4.25] * 20 + [425] + [4.25] * 20), "FED_TARGET")
    levels = [p for p in _errors(found) if p.check == "level"]
    assert levels == []  # the same cell is already a jump error
    found = _problems(tmp_path, _rates([4.25, 4.25, 21.0]), "FED_TARGET", checks={"max_move": 20})
    (p,) = _errors(found)
    assert p.check == "level" and "21 is above the plausible maximum 20 of FED_TARGET" in str(p)
    assert "0.21 would fit (basis points?)" in str(p)


def test_limits_by_kind_and_the_packaged_checks():
    assert validate.limits(INST["AUDUSD"])["max_level"] == 1.2
    assert validate.limits(INST["RBA_CASH"])["fraction_below"] == 0.1
    bare = dataclasses.replace(INST["US10Y"], key="JP10Y", checks={})
    assert validate.limits(bare)["max_level"] == 25.0  # any rate: at most 25 %
    assert "max_level" not in validate.limits(INST["RUT"])


FRED_AUDUSD = """\
    [AUDUSD]
    name = "AUD/USD, FRED DEXUSAL"
    kind = "fx"
    currency = "USD"
    base = "AUD"
    calendar = "weekdays"
    tz = "America/New_York"
    known = "D+0 12:00"
    {extra}
"""


def test_a_folder_redefining_audusd_keeps_its_plausible_range(tmp_path):
    (tmp_path / "AUDUSD.csv").write_text(_fx([1.52, 1.50, 1.49]))
    toml = tmp_path / "instruments.toml"
    toml.write_text(textwrap.dedent(FRED_AUDUSD.format(extra="")))
    with pytest.raises(DataError, match=r"AUDUSD.csv: row 2, column close: .*invert it \(1/x"):
        load_folder(tmp_path, ["AUDUSD"])
    toml.write_text(textwrap.dedent(FRED_AUDUSD.format(extra="checks = { max_level = 2 }")))
    assert load_folder(tmp_path, ["AUDUSD"])["AUDUSD"].values.tolist() == [1.52, 1.50, 1.49]
    no_base = textwrap.dedent(FRED_AUDUSD.format(extra="")).replace('base = "AUD"\n', "")
    toml.write_text(no_base)
    with pytest.raises(DataError, match="invert it"):
        load_folder(tmp_path, ["AUDUSD"])
    toml.write_text(no_base.replace('currency = "USD"', 'currency = "AUD"\nbase = "USD"'))
    assert len(load_folder(tmp_path, ["AUDUSD"])["AUDUSD"].values) == 3  # AUD per USD, declared
