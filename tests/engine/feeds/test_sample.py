"""The embedded synthetic sample: byte-for-byte reproducible, on real calendars, realistic."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from engine import paths
from engine.feeds import calendars, sample
from engine.feeds.events import load_decisions


@pytest.fixture(scope="module")
def frames():
    return {
        k: pd.read_csv(paths.sample_dir() / f"{k}.csv", parse_dates=["date"])
        for k in sample._FORMATS
    }


def test_regenerating_the_sample_is_byte_identical(tmp_path):
    out = sample.write_sample(tmp_path / "sample")
    shipped = sorted(p.name for p in paths.sample_dir().iterdir())
    assert sorted(p.name for p in out.iterdir()) == shipped
    for name in shipped:
        assert (out / name).read_bytes() == (paths.sample_dir() / name).read_bytes(), name


def test_a_different_seed_gives_different_prices():
    a = sample.generate(seed=1)["RUT"]["close"].to_numpy()
    b = sample.generate(seed=2)["RUT"]["close"].to_numpy()
    assert not np.allclose(a, b)


def test_marker_says_synthetic():
    assert "synthetic sample data" in (paths.sample_dir() / sample.MARKER).read_text()


@pytest.mark.parametrize(("key", "code"), [("RUT", "XNYS"), ("XSO", "XASX"), ("XJO", "XASX")])
def test_sessions_follow_the_real_exchange_calendar(frames, key, code):
    dates = pd.DatetimeIndex(frames[key]["date"])
    expected = calendars.sessions(code).between(
        pd.Timestamp(sample.START), pd.Timestamp(sample.END)
    )
    assert dates.equals(expected.labels.as_unit(dates.unit))


def test_policy_rates_step_on_real_fomc_decisions(frames):
    fed = frames["FED_TARGET"].set_index("date")["value"]
    changes = fed.index[np.flatnonzero(np.diff(fed.to_numpy()) != 0) + 1]
    dec = load_decisions("fomc")
    moved = dec.frame[dec.frame["change_bps"] != 0].loc["2000-01-04":"2025-12-30"]
    # FRED-style: the level changes on the next weekday after an afternoon announcement and on
    # the same day after a morning one (e.g. the 08:20 cut of 2008-01-22).
    morning = (moved["time"].fillna("00:00") < "12:00").to_numpy()
    effective = moved.index.where(morning, moved.index + pd.offsets.BDay(1))
    assert set(changes) == set(effective)
    assert fed.loc["2025-09-17"] == 4.50 and fed.loc["2025-09-18"] == 4.25


def test_returns_have_realistic_volatility_fat_tails_and_a_lagged_us_link(frames):
    rut = np.diff(np.log(frames["RUT"]["close"].to_numpy()))
    xso = frames["XSO"].set_index("date")["close"]
    assert 0.15 < rut.std() * np.sqrt(252) < 0.35
    kurtosis = ((rut - rut.mean()) ** 4).mean() / rut.var() ** 2
    assert kurtosis > 4.0, "shocks should be fat-tailed"
    us = frames["RUT"].set_index("date")["close"]
    us_ret = np.log(us).diff()
    au_ret = np.log(xso).diff()
    # The ASX session of Sydney date D+1 follows the US session of date D.
    lagged = pd.concat([au_ret, us_ret.shift(1, freq="D").rename("us")], axis=1, sort=True)
    lagged = lagged.dropna()
    assert lagged.corr().iloc[0, 1] > 0.2


def test_an_installed_package_never_rewrites_its_own_sample(tmp_path, monkeypatch):
    """A wheel install reads its sample from engine/_data: `backtest data sample` must not
    overwrite it (the next run's numbers would change), only write a copy elsewhere."""
    from engine import paths
    from engine.errors import ConfigError

    package = tmp_path / "site-packages" / "engine"
    (package / "_data" / "sample").mkdir(parents=True)
    shutil.copytree(paths.events_dir(), package / "_data" / "events")
    monkeypatch.delenv("CROSSCURRENT_DATA", raising=False)
    monkeypatch.setattr(paths, "_PACKAGE_DIR", package)
    assert paths.installed()
    with pytest.raises(ConfigError, match="installed package"):
        sample.write_sample()
    with pytest.raises(ConfigError, match="inside the installed package"):
        sample.write_sample(package / "_data" / "sample")
    assert not any((package / "_data" / "sample").iterdir())
    out = sample.write_sample(tmp_path / "mine")
    assert (out / "RUT.csv").is_file()
