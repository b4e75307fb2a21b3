"""The grid page's walk-forward panel (engine.report.walkforward_charts) and log-axis tick labels
(engine.report.grid_charts.LOG_AXIS): per fold its windows, chosen parameters and in-sample /
out-of-sample metric; the two chained curves; no panel without a walk-forward."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from test_grid_page import make_context
from test_grid_page_browser import walk_forward

from engine.report import grid_charts as gc
from engine.report.grid_page import GridReportContext, render_grid_report
from engine.report.run_charts import equity_chart
from engine.report.walkforward_charts import walk_forward_chart, walk_forward_section


@pytest.fixture(scope="module")
def wf() -> tuple[dict, pd.DataFrame]:
    index = pd.bdate_range("2019-01-01", periods=400)
    return walk_forward(index, np.random.default_rng(1))


def test_the_panel_shows_each_fold_and_both_chained_results(wf) -> None:
    summary, equity = wf
    page = render_grid_report(make_context(walk_forward=summary, walk_forward_equity=equity))
    panel = page[page.index('<section class="walk-forward">') :]
    panel = panel[: panel.index("</section><section>")]
    for fold in summary["folds"]:
        assert f"{fold['train_start']} .. {fold['train_end']}" in panel
        assert f"{fold['test_start']} .. {fold['test_end']}" in panel
    assert "<td>&lt;b&gt;cash&lt;/b&gt;</td>" in panel  # a chosen parameter, escaped
    assert "Sharpe ratio in sample (train)" in panel and "out of sample (test)" in panel
    assert '<td class="num">0.80</td><td class="num">0.30</td>' in panel
    assert '<td class="num">0.90</td><td class="num">n/a</td>' in panel  # a missing metric
    assert "Walk-forward, out of sample" in panel and "Full window&#x27;s best, in sample" in panel
    assert "embargo of 5 sessions" in panel and "each fold is a fresh run" in panel
    drawn = re.findall(r'<div id="(chart-[a-z0-9-]+)" class="plotly-graph-div"', page)
    assert drawn[0] == "chart-walk-forward"
    assert page.index("Ranked combinations") < page.index("Walk-forward:")


def test_no_walk_forward_no_panel() -> None:
    page = render_grid_report(make_context())
    assert "walk-forward" not in page.lower().replace("walk-forward panel", "")


def test_a_walk_forward_without_its_curves_is_refused(wf) -> None:
    with pytest.raises(ValueError, match="walk_forward_equity: must be a DataFrame"):
        make_context(walk_forward=wf[0])


def test_the_chart_draws_both_curves_on_a_log_axis_with_fold_starts(wf) -> None:
    summary, equity = wf
    starts = [f["test_start"] for f in summary["folds"]]
    fig = walk_forward_chart(equity, starts).figure
    assert [t["name"] for t in fig["data"]] == ["walk-forward (out of sample)",
                                                 "full window's best (in sample, hindsight)"]  # fmt: skip
    assert len(fig["data"][0]["y"]) == len(equity)
    assert fig["layout"]["yaxis"]["type"] == "log"
    assert fig["layout"]["yaxis"]["tickformat"] == "~s"
    assert [s["x0"] for s in fig["layout"]["shapes"]] == starts[1:]
    only = walk_forward_chart(equity[["walk_forward_equity"]], starts).figure
    assert len(only["data"]) == 1
    assert walk_forward_chart(equity.iloc[:0], starts).skipped
    negative = walk_forward_chart(equity - 200_000, starts).figure
    assert negative["layout"]["yaxis"] == {"title": {"text": "equity"}}


def test_log_axes_label_every_tick_with_its_value() -> None:
    index = pd.bdate_range("2020-01-01", periods=50)
    equity = pd.Series(np.linspace(80_000, 300_000, 50), index=index)
    fixed = gc.with_log_ticks(equity_chart(equity, {}, {}))
    assert fixed.figure["layout"]["yaxis"]["tickformat"] == "~s"
    assert '"tickformat":"~s"' in fixed.fragment and fixed.div_id == "chart-equity"
    linear = equity_chart(equity - 100_000, {}, {})
    assert gc.with_log_ticks(linear) is linear


def test_the_panel_section_alone(wf) -> None:
    html, chart = walk_forward_section(wf[0], wf[1], "sharpe", ["hold_days"], "AUD")
    assert chart.fragment in html and "<th>hold_days</th>" in html
    assert "<th>risk_off</th>" not in html  # only the varied parameters


def test_context_field_defaults_keep_old_pages() -> None:
    ctx = make_context()
    assert isinstance(ctx, GridReportContext) and ctx.walk_forward is None
    assert render_grid_report(replace(ctx)) == render_grid_report(ctx)
