"""engine.research.compare and engine.store.compare_folder: resolving inputs, aligning runs, the
paired Sharpe test and the folder it writes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from engine.backtest.run import RunConfig, run_backtest
from engine.errors import ConfigError, ParamError, StrategyError
from engine.research import compare
from engine.stats.overfit import bootstrap_indices_nb
from engine.store import compare_folder
from engine.store.run_folder import write_run
from strategies import REGISTRY

WINDOW = RunConfig(start=pd.Timestamp("2015-01-01"), end=pd.Timestamp("2019-12-31"))
SPECS = ["russell-fed-rotation:hold_days=40,cut_window_days=90", "static-mix", "trend"]


@pytest.fixture(scope="module")
def saved_root(tmp_path_factory) -> Path:
    """A results root holding one saved run (hold_days=40, made with fees of 3 bps)."""
    root = tmp_path_factory.mktemp("results")
    cfg = RunConfig(start=WINDOW.start, end=WINDOW.end, fees_bps=3.0)
    write_run(run_backtest(REGISTRY["russell-fed-rotation"](hold_days=40), cfg), root)
    return root


@pytest.fixture(scope="module")
def comparison():
    return compare.run_compare(
        compare_folder.resolve_inputs(SPECS, REGISTRY, Path("/nonexistent")), WINDOW
    )


# --- resolving inputs ---------------------------------------------------------------------------


def test_names_variants_and_saved_runs_resolve_to_strategies(saved_root):
    (run_id,) = [p.name for p in saved_root.iterdir() if not p.name.startswith(".")]
    specs = ["static-mix", "russell-fed-rotation:hold_days=30, weight=0.5", run_id, run_id[:20]]
    a, b, c, d = compare_folder.resolve_inputs(specs, REGISTRY, saved_root)
    assert a.strategy.values == REGISTRY["static-mix"]().values and a.from_run is None
    assert b.strategy.values["hold_days"] == 30 and b.strategy.values["weight"] == 0.5
    assert c.label == run_id and c.from_run == run_id and c.strategy.values["hold_days"] == 40
    assert c.run_config["fees_bps"] == 3.0
    assert d.label == f"{run_id} #2", "a repeated label is made unique"
    by_path = compare_folder.resolve_input(str(saved_root / run_id), REGISTRY, Path("/elsewhere"))
    assert by_path.from_run == run_id


def test_a_grid_folder_compares_its_winner(tmp_path):
    folder = tmp_path / "20250101T000000Z-grid-trend-0000abcd"
    folder.mkdir()
    manifest = {"kind": "grid", "strategy": "trend", "params": {"ma_days": 50}, "config": {}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "summary.json").write_text("{}")
    inp = compare_folder.resolve_input(folder.name, REGISTRY, tmp_path)
    assert inp.strategy.name == "trend" and inp.strategy.values["ma_days"] == 50


def test_unknown_specs_name_close_strategies_and_run_ids(saved_root):
    with pytest.raises(ConfigError, match="Did you mean 'russell-fed-rotation'"):
        compare_folder.resolve_input("russel-fed-rotation", REGISTRY, saved_root)
    with pytest.raises(ConfigError, match="neither a strategy nor a saved run"):
        compare_folder.resolve_input("russel-fed-rotation:hold_days=4", REGISTRY, saved_root)
    (run_id,) = [p.name for p in saved_root.iterdir() if not p.name.startswith(".")]
    typo = run_id[:17] + "rusell" + run_id[23:]
    with pytest.raises(ConfigError, match=f"no saved run .*Close matches: {run_id}"):
        compare_folder.resolve_input(typo, REGISTRY, saved_root)


def test_bad_variants_and_too_few_inputs_are_clear_errors():
    with pytest.raises(ParamError, match="Did you mean 'hold_days'"):
        compare_folder.resolve_input("russell-fed-rotation:hold_dayz=4", REGISTRY)
    with pytest.raises(ParamError, match="not KEY=VALUE"):
        compare_folder.resolve_input("russell-fed-rotation:hold_days", REGISTRY)
    with pytest.raises(ConfigError, match="at least two inputs"):
        compare_folder.resolve_inputs(["trend"], REGISTRY)


def test_a_compare_folder_is_not_an_input(tmp_path):
    folder = tmp_path / "20250101T000000Z-compare-0000abcd"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "compare"}))
    (folder / "compare.json").write_text("{}")
    with pytest.raises(ConfigError, match="is a compare folder"):
        compare_folder.resolve_input(folder.name, REGISTRY, tmp_path)


def test_a_saved_run_of_an_unregistered_strategy_is_named(tmp_path):
    folder = tmp_path / "20250101T000000Z-gone-0000abcd"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"strategy": "gone", "params": {}}))
    with pytest.raises(StrategyError, match="'gone' is not registered"):
        compare_folder.resolve_input(folder.name, REGISTRY, tmp_path)


# --- running and comparing ----------------------------------------------------------------------


def test_comparison_aligns_equity_and_its_sharpe_matches_the_runs_metrics(comparison):
    cmp = comparison
    assert list(cmp.equity.columns) == SPECS and cmp.labels == SPECS
    assert cmp.equity.index.equals(cmp.results[0].sim.equity.index)
    assert cmp.synthetic and len(cmp.tests) == 2
    for test, res in zip(cmp.tests, cmp.results[1:], strict=True):
        assert test["sharpe"] == pytest.approx(res.metrics["sharpe"], rel=1e-9)
        assert test["sharpe_first"] == pytest.approx(cmp.results[0].metrics["sharpe"], rel=1e-9)
        lo, hi = test["difference_ci"]
        assert lo < test["difference"] < hi and 0 < test["p_value"] <= 1
    corr = cmp.correlations.to_numpy()
    assert np.allclose(np.diag(corr), 1.0) and np.allclose(corr, corr.T)
    assert corr[0, 1] == pytest.approx(
        np.corrcoef(cmp.returns.iloc[:, 0], cmp.returns.iloc[:, 1])[0, 1]
    )


def test_the_same_input_twice_differs_by_exactly_zero_with_p_one():
    inputs = compare_folder.resolve_inputs(["static-mix", "static-mix"], REGISTRY)
    cmp = compare.run_compare(inputs, WINDOW, compare.Bootstrap(resamples=200))
    (test,) = cmp.tests
    assert test["input"] == "static-mix #2"
    assert test["difference"] == 0.0 and test["difference_ci"] == [0.0, 0.0]
    assert test["p_value"] == 1.0


def _slow_sharpe_test(x0, x1, ppy, boot, block):
    """Plain Python: one resample at a time, the same indices for both series."""
    idx = bootstrap_indices_nb(len(x0), boot.resamples, block, boot.seed)

    def sr(x):
        return np.mean(x) / np.std(x, ddof=1) * np.sqrt(ppy)

    d = sr(x1) - sr(x0)
    star = np.array([sr(x1[row]) - sr(x0[row]) for row in idx])
    p = (1 + sum(abs(s - d) >= abs(d) for s in star)) / (1 + len(star))
    return d, np.quantile(star, [0.025, 0.975]), p


def test_paired_bootstrap_matches_a_plain_python_version_and_finds_a_real_difference():
    rng = np.random.default_rng(3)
    common = rng.normal(0.0003, 0.01, 1000)
    excess = pd.DataFrame(
        {
            "a": common + rng.normal(0, 0.002, 1000),
            "b": common + 0.0008 + rng.normal(0, 0.002, 1000),  # the same risk, more return
        }
    )
    boot = compare.Bootstrap(resamples=500, seed=11)
    (fast,), block = compare.sharpe_tests(excess, 252.0, boot)
    d, (lo, hi), p = _slow_sharpe_test(
        excess["a"].to_numpy(), excess["b"].to_numpy(), 252.0, boot, block
    )
    assert block == pytest.approx(1000 ** (1 / 3))
    assert fast["difference"] == pytest.approx(d, rel=1e-12)
    assert fast["difference_ci"] == pytest.approx([lo, hi], rel=1e-12)
    assert fast["p_value"] == pytest.approx(p)
    assert fast["difference"] > 1 and fast["p_value"] < 0.01 and lo > 0


def test_the_bootstrap_is_seeded():
    excess = pd.DataFrame(np.random.default_rng(0).normal(0, 0.01, (300, 2)), columns=["a", "b"])
    one = compare.sharpe_tests(excess, 252.0, compare.Bootstrap(resamples=300, seed=1))
    again = compare.sharpe_tests(excess, 252.0, compare.Bootstrap(resamples=300, seed=1))
    other = compare.sharpe_tests(excess, 252.0, compare.Bootstrap(resamples=300, seed=2))
    assert one == again and one[0][0]["difference_ci"] != other[0][0]["difference_ci"]


def test_bad_bootstrap_settings_are_config_errors():
    for kw in ({"resamples": 5}, {"block": 0.5}, {"level": 1.0}):
        with pytest.raises(ConfigError):
            compare.Bootstrap(**kw)


def _fake_run(index: pd.DatetimeIndex, equity: np.ndarray):
    sim = SimpleNamespace(
        equity=pd.Series(equity, index=index),
        cash_return=pd.Series(0.0001, index=index),
        init_cash=100.0,
    )
    return SimpleNamespace(sim=sim)


def test_runs_on_different_sessions_are_compared_on_the_sessions_they_share():
    days = pd.bdate_range("2020-01-01", periods=6)
    a = _fake_run(days, np.array([101.0, 102, 103, 104, 105, 106]))
    b = _fake_run(days[[1, 2, 4, 5]], np.array([100.0, 110, 121, 133.1]))
    common = compare._common_sessions(
        [a, b], [SimpleNamespace(label="a"), SimpleNamespace(label="b")]
    )
    assert list(common) == list(days[[1, 2, 4, 5]])
    raw, excess = compare._returns([a, b], ["a", "b"], common)
    # b starts later, so no run's first return counts; returns span the common sessions.
    assert list(raw.index) == list(days[[2, 4, 5]])
    assert raw["a"].tolist() == pytest.approx([103 / 102 - 1, 105 / 103 - 1, 106 / 105 - 1])
    assert raw["b"].tolist() == pytest.approx([0.1, 0.1, 0.1])
    assert excess["a"].iloc[1] == pytest.approx(105 / 103 - 1 - (1.0001**2 - 1))


def test_runs_that_share_no_sessions_are_a_clear_error():
    a = _fake_run(pd.bdate_range("2020-01-01", periods=5), np.ones(5))
    b = _fake_run(pd.bdate_range("2021-01-01", periods=5), np.ones(5))
    labels = [SimpleNamespace(label="a"), SimpleNamespace(label="b")]
    with pytest.raises(ConfigError, match="share 0 valuation sessions"):
        compare._common_sessions([a, b], labels)


ULP = 2.0**-52


def _ref_sharpe(x, ppy):
    """mean / sd * sqrt(ppy), undefined when sd is zero within precision: at most
    max(1024 ulps x (1 + rms), 1e-4 x rms) (the rule in engine.stats.kernels)."""
    sd, rms = np.std(x, ddof=1), np.sqrt(np.mean(np.square(x)))
    return (
        np.mean(x) / sd * np.sqrt(ppy) if sd > max(1024 * ULP * (1 + rms), 1e-4 * rms) else np.nan
    )


def test_an_all_cash_input_has_no_sharpe_difference():
    # Nothing held: excess returns of 0 +/- an ulp around a tiny mean. The old relative test
    # (sd > 1e-12 |mean|) let them through as a Sharpe ratio of ~160 annualised.
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"cash": 1e-16 + rng.normal(0, 1e-17, 500),
                          "x": rng.normal(0.0004, 0.01, 500)})  # fmt: skip
    assert frame["cash"].mean() / frame["cash"].std() > 5  # what it used to report, per session
    for first, second in (("cash", "x"), ("x", "cash")):
        (test,), _ = compare.sharpe_tests(frame[[first, second]], 252.0,
                                          compare.Bootstrap(resamples=100))  # fmt: skip
        assert np.isnan(test["difference"]) and np.isnan(test["p_value"])
        assert np.isnan(test["sharpe"] if second == "cash" else test["sharpe_first"])
        assert test["difference_ci"] == [pytest.approx(np.nan, nan_ok=True)] * 2
    assert compare.correlations(frame).isna().to_numpy().sum() == 3  # every cell with "cash"


def test_resamples_with_an_undefined_sharpe_are_left_out():
    # Exposed on 3 of 300 sessions: resamples that miss all three have no Sharpe ratio; they are
    # dropped from the interval, the p-value and the count, as a plain-Python loop does.
    rng = np.random.default_rng(5)
    rare = rng.normal(0, 1e-18, 300)
    rare[[40, 150, 260]] = [0.02, -0.01, 0.03]
    excess = pd.DataFrame({"a": rng.normal(0.0003, 0.01, 300), "b": rare})
    boot = compare.Bootstrap(resamples=400, seed=3)
    (test,), block = compare.sharpe_tests(excess, 252.0, boot)
    idx = bootstrap_indices_nb(300, 400, block, 3)
    a, b = excess["a"].to_numpy(), rare
    star = np.array([_ref_sharpe(b[r], 252.0) - _ref_sharpe(a[r], 252.0) for r in idx])
    star = star[np.isfinite(star)]
    assert 0 < len(star) < 400 and test["resamples"] == len(star)
    assert test["difference_ci"] == pytest.approx(list(np.quantile(star, [0.025, 0.975])))


def test_a_constant_series_has_nan_correlation_and_no_sharpe_test():
    frame = pd.DataFrame({"cash": np.zeros(50), "x": np.random.default_rng(1).normal(0, 1, 50)})
    assert np.isnan(compare.correlations(frame).loc["cash", "x"])
    (test,), _ = compare.sharpe_tests(frame, 252.0, compare.Bootstrap(resamples=100))
    assert np.isnan(test["difference"]) and np.isnan(test["p_value"])


# --- the folder ---------------------------------------------------------------------------------


def test_the_folder_is_byte_identical_for_the_same_inputs(comparison, tmp_path):
    first = compare_folder.write_compare(comparison, tmp_path)
    second = compare_folder.write_compare(comparison, tmp_path)
    assert first != second
    for name in ("compare.json", "equity.csv", "report.html"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    data = json.loads((first / "compare.json").read_text())
    assert [i["label"] for i in data["inputs"]] == SPECS
    assert data["bootstrap"]["seed"] == compare.DEFAULT_SEED and data["data"].startswith("synth")
    assert set(data["metrics"]) == set(SPECS) and len(data["sharpe_tests"]) == 2
    equity = pd.read_csv(first / "equity.csv", index_col="date")
    assert list(equity.columns) == SPECS and len(equity) == len(comparison.equity)
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["kind"] == "compare" and manifest["run_id"] == first.name
    assert manifest["bootstrap"]["seed"] == compare.DEFAULT_SEED
    assert {"RUT", "XSO", "XJO"} <= set(manifest["data_files"])
    html = (first / "report.html").read_text()
    assert html.count("ccInflate(") == 2, (
        "one plotly.js copy: the packed bundle, defined and run once"
    )
    assert "Synthetic sample data" in html and "chart-correlation" in html


def test_notes_say_when_a_saved_run_had_other_settings(saved_root):
    (run_id,) = [p.name for p in saved_root.iterdir() if not p.name.startswith(".")]
    inputs = compare_folder.resolve_inputs(["russell-fed-rotation", run_id], REGISTRY, saved_root)
    cmp = compare.run_compare(inputs, WINDOW, compare.Bootstrap(resamples=100))
    assert any("fees_bps=3.0" in n and "fees_bps=10.0" in n for n in cmp.notes)
