"""``write_csv``: the fast path for numeric frames writes exactly what ``DataFrame.to_csv`` writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.runfiles import _write_numeric_csv, write_csv

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
