"""``write_csv``: the fast path for numeric frames writes exactly what ``DataFrame.to_csv`` writes;
the manifest and annualisation text name the valuation calendar of the run's base currency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest.run import RunConfig, run_backtest
from engine.feeds import calendars
from engine.store.run_folder import _write_numeric_csv, annualisation_text, manifest, write_csv
from strategies import get_strategy

floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12).map(float),
    st.sampled_from([0.0, -0.0, 1e-300, 123456.789012345, np.nan]),
)


def _pandas(frame, path, index, label):
    frame.to_csv(path, index=index, index_label=label, float_format="%.10g",
                 date_format="%Y-%m-%d", lineterminator="\n")  # fmt: skip
    return path.read_bytes()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 12), st.integers(0, 4), st.data(), st.booleans())
def test_fast_path_matches_pandas(tmp_path_factory, n_rows, n_cols, data, index):
    values = data.draw(st.lists(floats, min_size=n_rows * n_cols, max_size=n_rows * n_cols))
    idx = pd.date_range("2020-01-30", periods=n_rows)
    frame = pd.DataFrame(
        np.array(values, dtype=float).reshape(n_rows, n_cols), idx, [f"c{j}" for j in range(n_cols)]
    )
    folder = tmp_path_factory.mktemp("csv")
    assert _write_numeric_csv(frame, folder / "fast.csv", index, "date")
    assert (folder / "fast.csv").read_bytes() == _pandas(frame, folder / "slow.csv", index, "date")


def test_other_frames_go_through_pandas(tmp_path):
    mixed = pd.DataFrame({"asset": ["XSO", "a,b"], "units": [1.5, np.nan], "n": [1, 2]})
    assert not _write_numeric_csv(mixed, tmp_path / "x.csv", False, None)
    write_csv(mixed, tmp_path / "mixed.csv")
    assert (tmp_path / "mixed.csv").read_text() == 'asset,units,n\nXSO,1.5,1\n"a,b",,2\n'
    quoted = pd.DataFrame({"a,b": [1.0]})
    assert not _write_numeric_csv(quoted, tmp_path / "q.csv", False, None)
    aware = pd.DataFrame({"x": [1.0]}, pd.DatetimeIndex(["2024-01-02"], tz="UTC"))
    assert not _write_numeric_csv(aware, tmp_path / "a.csv", True, "date")


@pytest.mark.parametrize(("base", "calendar"), [("USD", "XNYS"), ("AUD", "XASX")])
def test_manifest_names_the_base_currencys_valuation_calendar(base, calendar):
    # A USD run of ASX assets is valued at NYSE closes; its manifest said XASX (issue 13).
    cfg = RunConfig(base_currency=base, start=pd.Timestamp("2018-01-01"),
                    end=pd.Timestamp("2019-12-31"))  # fmt: skip
    res = run_backtest(get_strategy("russell-fed-rotation")(), cfg, sensitivity=False)
    man = manifest(res, "test")
    assert man["calendar"] == calendar and man["traded_calendar"] == "XASX"
    text = annualisation_text(res)
    assert f"{calendar} sessions/year (valuation calendar {calendar})" in text
    labels = res.sim.equity.index
    own = calendars.sessions(calendar).between(labels[0], labels[-1]).labels
    assert labels.equals(pd.DatetimeIndex(own))  # valued on that calendar's sessions indeed
