"""The grid report in a real browser: headless Chromium, network off, every chart drawn, no errors.

As for the run report (tests/engine/test_report_browser.py), the page writes its render state into
a hidden ``#report-status`` element that this test reads from the DOM Chromium dumps. The grid is
synthetic: three varied parameters (two numeric, one categorical with markup in a value), so the
page has the walk-forward equity, three line charts, three heatmaps and the winner's equity and
drawdown, each drawn with data in every trace (``trace_kit``). A screenshot at
laptop size (1366x768) is left in the test's tmp_path.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.report.grid_page import GridReportContext, write_grid_report
from engine.report.run_page import ReportContext
from engine.research.grid import rank

# so their asserts report like this file's own
pytest.register_assert_rewrite("browser_kit", "trace_kit")
from browser_kit import NO_CHROMIUM, check_page, find_chromium, render  # noqa: E402
from trace_kit import check_traces  # noqa: E402

CHART_IDS = [
    "chart-walk-forward",
    *(f"chart-param-{i}" for i in range(3)),
    *(f"chart-pair-{k}" for k in range(3)),
    "chart-equity",
    "chart-drawdown",
]
# walk-forward: out of sample and the full window's best; a line chart: best, median, worst; a
# heatmap: one; the winner's equity: strategy, benchmark, the Fed-cut markers; drawdown: one
TRACES = dict(zip(CHART_IDS, (2, 3, 3, 3, 1, 1, 1, 3, 1), strict=True))


def walk_forward(index: pd.DatetimeIndex, rng: np.random.Generator) -> tuple[dict, pd.DataFrame]:
    """Two folds over the second half of ``index``, as summary.json and walk_forward.csv hold them."""
    tests = index[200:]
    folds = [
        {"train_start": "2019-01-01", "train_end": str(index[199].date()),
         "test_start": str(tests[0].date()), "test_end": str(tests[99].date()),
         "params": {"hold_days": 10, "cut_window_days": 40, "risk_off": "<b>cash</b>"},
         "train_sharpe": 0.8, "test_sharpe": 0.3},
        {"train_start": "2019-06-01", "train_end": str(tests[99].date()),
         "test_start": str(tests[100].date()), "test_end": str(tests[-1].date()),
         "params": {"hold_days": 20, "cut_window_days": 20, "risk_off": "large"},
         "train_sharpe": 0.9, "test_sharpe": None},
    ]  # fmt: skip
    side = {"total_return": 0.1, "cagr": 0.05, "sharpe": 0.4, "max_drawdown": -0.1,
            "ann_volatility": 0.12, "exposure": 0.9, "covers": "chained test slices"}  # fmt: skip
    wf = {"spec": "train=1y,test=6m", "anchored": False, "embargo_sessions": 5, "folds": folds,
          "restart": "each fold is a fresh run",
          "test_windows": {"first": str(tests[0].date()), "last": str(tests[-1].date()),
                           "sessions": len(tests)},
          "out_of_sample": side, "full_window_best": {**side, "sharpe": 0.6}}  # fmt: skip
    steps = rng.normal(3e-4, 0.01, (len(tests), 2))
    equity = pd.DataFrame(100_000 * np.exp(np.cumsum(steps, axis=0)), index=tests,
                          columns=["walk_forward_equity", "full_window_best_equity"])  # fmt: skip
    return wf, equity.rename_axis("date")


def grid_context() -> GridReportContext:
    rng = np.random.default_rng(5)
    axes = {"hold_days": [5, 10, 20, 40], "cut_window_days": [20, 40, 60],
            "risk_off": ["large", "<b>cash</b>"]}  # fmt: skip
    table = pd.MultiIndex.from_product(list(axes.values()), names=list(axes)).to_frame(index=False)
    n = len(table)
    table = table.assign(
        sharpe=rng.normal(0.4, 0.3, n),
        cagr=rng.normal(0.05, 0.03, n),
        max_drawdown=-rng.uniform(0.05, 0.4, n),
        ann_volatility=rng.uniform(0.1, 0.2, n),
        trade_count=rng.integers(1, 40, n),
        turnover=rng.uniform(0, 3, n),
        exposure=rng.uniform(0.5, 1, n),
    )
    table = table.iloc[rank(table, "sharpe")].reset_index(drop=True)
    index = pd.bdate_range("2019-01-01", periods=400)
    equity = pd.Series(50_000 * np.exp(np.cumsum(rng.normal(4e-4, 0.01, 400))), index=index)
    winner = ReportContext(
        title="browser <check>",
        rule="Rotate on Fed cuts.",
        params=dict(table.iloc[0][list(axes)]),
        metrics={"sharpe": float(table["sharpe"].iloc[0]), "max_drawdown": -0.12},
        equity=equity,
        benchmarks={"buy-and-hold XJO": equity * 0.95},
        weights=pd.DataFrame({"IWM": 0.6, "XJO": 0.4}, index=index),
        markers={"Fed cut": [index[30], index[300]]},
        provenance=[],
        base_currency="AUD",
        synthetic=True,
    )
    side = {
        "winner": 0.4, "trials": n, "trials_undefined": 0, "effective_trials": 5.2,
        "average_correlation": 0.7, "expected_max": 0.9, "expected_max_effective": 0.6,
        "deflated": 0.42, "deflated_effective": 0.6, "pbo": 0.55, "splits": 6435,
        "logit_median": -0.2, "ci95": (-0.3, 1.1),
    }  # fmt: skip
    honesty = {
        "trials": n, "over_cash": {**side, "metric": "sharpe"},
        "vs_benchmark": {**side, "metric": "information_ratio", "benchmark": "XJO"},
        "ranking": {"metric": "sharpe", "direction": "higher", "same_as": "over_cash"},
        "cagr_ci95": (-0.04, 0.12), "bootstrap_seed": 1,
    }  # fmt: skip
    wf, wf_equity = walk_forward(index, rng)
    return GridReportContext(
        title="grid: browser <check>",
        rule="Rotate on Fed cuts.",
        metric="sharpe",
        table=table,
        params=list(axes),
        varied=list(axes),
        honesty=honesty,
        winner=winner,
        synthetic=True,
        walk_forward=wf,
        walk_forward_equity=wf_equity,
    )


@pytest.mark.slow
def test_grid_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(NO_CHROMIUM)
    page = tmp_path / "report.html"
    write_grid_report(page, grid_context())
    rendered = render(chromium, page.as_uri(), tmp_path)
    check_page(
        rendered,
        CHART_IDS,
        {
            ">&lt;b&gt;cash&lt;/b&gt;</text>": "a tick label's markup must show as text",
            "<td>&lt;b&gt;cash&lt;/b&gt;</td>": "a fold's parameter must show its markup as text",
        },
    )
    check_traces(page.read_text(encoding="utf-8"), rendered.dom, TRACES)
    # log axes label every tick with its value (80k, 100k, 200k), not a lone digit ("2", "5")
    ticks = re.findall(r'<text[^>]*class="ytick"[^>]*>|class="ytick"', rendered.dom)
    labels = re.findall(r'class="ytick"><text[^>]*>([^<]*)</text>', rendered.dom)
    assert ticks and labels and not [t for t in labels if re.fullmatch(r"[2-9]", t)], labels
