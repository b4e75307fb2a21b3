"""Tests for engine.report.grid_page and engine.report.grid_charts: content, honesty wording, aggregations,
0/1/2+ varied parameters, escaping, determinism, validation, and a 100,000-row grid's size/time."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engine.report import grid_charts as gc
from engine.report.figures import packed_plotlyjs
from engine.report.grid_page import GridReportContext, render_grid_report, write_grid_report
from engine.report.run_page import ReportContext
from engine.research.grid import rank

AXES = {"hold_days": [5, 15, 25], "cut_window_days": [20, 60], "risk_off": ["large", "cash"]}
FIXED = {"weight": 1.0, "exit_on_hike": "off"}


def winner_context(synthetic: bool = True) -> ReportContext:
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2016-01-01", periods=300)
    equity = pd.Series(100_000 * np.exp(np.cumsum(rng.normal(3e-4, 0.01, 300))), index=index)
    return ReportContext(
        title="russell-fed-rotation",
        rule="Hold Russell 2000 after a Fed cut.",
        params={"hold_days": 5, "cut_window_days": 20, "risk_off": "large", **FIXED},
        metrics={"sharpe": 1.25, "cagr": 0.081, "max_drawdown": -0.2},
        equity=equity,
        benchmarks={"buy-and-hold XJO": equity * 0.9},
        weights=pd.DataFrame({"IWM": 1.0}, index=index),
        markers={"Fed cut": [index[20]]},
        provenance=[],
        base_currency="AUD",
        synthetic=synthetic,
        notes=("XSO is price-only",),
    )


def make_table(axes: dict[str, list], metric: str = "sharpe", seed: int = 0) -> pd.DataFrame:
    """Every combo of ``axes`` plus FIXED, with seeded metrics, ranked by ``metric``."""
    index = pd.MultiIndex.from_product([*axes.values(), *([v] for v in FIXED.values())],
                                       names=[*axes, *FIXED])  # fmt: skip
    table = index.to_frame(index=False)
    rng = np.random.default_rng(seed)
    n = len(table)
    numeric = [c for c in axes if pd.api.types.is_numeric_dtype(table[c])]
    signal = sum(np.sin(table[c].to_numpy(float)) for c in numeric) if numeric else 0.0
    sharpe = 0.5 + 0.2 * signal + rng.normal(0, 0.1, n)
    table = table.assign(
        sharpe=sharpe,
        cagr=sharpe * 0.05,
        max_drawdown=-rng.uniform(0.05, 0.4, n),
        max_drawdown_end=[None if i % 2 else "2017-03-01" for i in range(n)],
        ann_volatility=rng.uniform(0.1, 0.2, n),
        trade_count=rng.integers(1, 50, n),
        turnover=rng.uniform(0, 3, n),
        exposure=rng.uniform(0.5, 1, n),
    )
    return table.iloc[rank(table, metric)].reset_index(drop=True)


def side(metric: str, **changes: object) -> dict[str, object]:
    """One kind of return's statistics, as ``engine.research.honesty.judge`` makes them."""
    base = {
        "metric": metric, "winner": 1.25, "trials": 12, "trials_undefined": 0,
        "effective_trials": 3.4, "average_correlation": 0.62, "expected_max": 1.1,
        "expected_max_effective": 0.7, "deflated": 0.7077, "deflated_effective": 0.81, "pbo": 0.6,
        "splits": 6435, "logit_median": -0.4, "pbo_identifiable": True, "pbo_tied_share": 0.0,
        "pbo_ambiguous_share": 0.0, "pbo_distinct_combos": 12, "pbo_note": None,
        "ci95": (-0.62, 1.36),
    }  # fmt: skip
    return {**base, **changes}


def honesty(cash=None, bench=None, ranking=None, **changes: object) -> dict[str, object]:
    base = {
        "trials": 12, "metric": "sharpe", "over_cash": side("sharpe", **(cash or {})),
        "vs_benchmark": {**side("information_ratio", **{"winner": 0.31, "deflated": 0.42,
                                                        **(bench or {})}), "benchmark": "XJO"},
        "ranking": ranking or {"metric": "sharpe", "direction": "higher", "same_as": "over_cash"},
        "cagr_ci95": (-0.078, 0.22), "bootstrap_seed": 20250918,
    }  # fmt: skip
    return {**base, **changes}


def make_context(axes: dict[str, list] | None = None, **changes: object) -> GridReportContext:
    axes = AXES if axes is None else axes
    metric = str(changes.pop("metric", "sharpe"))
    table = make_table(axes, metric if metric in ("sharpe", "ann_volatility") else "sharpe")
    ctx = GridReportContext(
        title="grid: russell-fed-rotation",
        rule="Hold Russell 2000 after a Fed cut.",
        metric=metric,
        table=table,
        params=[*axes, *FIXED],
        varied=[k for k, v in axes.items() if len(v) > 1],
        honesty=honesty(),
        winner=winner_context(),
        synthetic=True,
        notes=("grid note",),
        top=5,
    )
    return replace(ctx, **changes) if changes else ctx


@pytest.fixture(scope="module")
def page() -> str:
    return render_grid_report(make_context())


def ids_drawn(page: str) -> list[str]:
    return re.findall(r'<div id="(chart-[a-z0-9-]+)" class="plotly-graph-div"', page)


def test_banner_present_iff_synthetic(page: str) -> None:
    assert "synthetic sample data" in page.lower()
    real = render_grid_report(make_context(synthetic=False, winner=winner_context(False)))
    assert "synthetic sample data" not in real.lower()


def test_three_varied_parameters_draw_three_lines_three_heatmaps_and_the_winner(page: str) -> None:
    expected = [f"chart-param-{i}" for i in range(3)] + [f"chart-pair-{k}" for k in range(3)]
    assert ids_drawn(page) == [*expected, "chart-equity", "chart-drawdown"]
    status = re.search(r"var ids=(\[[^\]]*\])", page)
    assert status and status.group(1) == str([*expected, "chart-equity", "chart-drawdown"]).replace(
        "'", '"'
    )
    assert "Sharpe ratio by hold_days" in page and "Best Sharpe ratio: risk_off × hold_days" in page
    assert "Ranked by Sharpe ratio (sharpe; higher is better) over 12 combinations" in page


def test_one_varied_parameter_has_no_heatmap_and_says_so() -> None:
    page = render_grid_report(make_context({"hold_days": [5, 15, 25]}))
    assert ids_drawn(page) == ["chart-param-0", "chart-equity", "chart-drawdown"]
    assert "heatmaps need two varied parameters; only hold_days varies" in page


def test_single_combination_says_so() -> None:
    page = render_grid_report(make_context({"hold_days": [20]}, honesty=honesty(trials=1)))
    assert ids_drawn(page) == ["chart-equity", "chart-drawdown"]
    assert "Only one combination was run (no parameter varies)" in page
    assert "The winner: the only combination" in page
    assert "One combination: nothing was selected" in page


def test_five_varied_parameters_draw_six_pairs_of_the_most_influential() -> None:
    axes = {f"p{i}": [1, 2, 3] for i in range(5)}
    page = render_grid_report(make_context(axes))
    assert sum(i.startswith("chart-pair-") for i in ids_drawn(page)) == 6
    assert "Showing 6 of 10 pairs: those among the 4 parameters" in page


def test_choose_pairs_keeps_the_four_that_move_the_metric_most() -> None:
    names = ["a", "b", "c", "d", "e"]
    pairs = gc.choose_pairs(names, [0.5, 0.0, 0.3, 0.9, 0.1])
    assert pairs == list(itertools.combinations(["a", "c", "d", "e"], 2))
    assert gc.choose_pairs(["a", "b", "c"], [0, 0, 0]) == [("a", "b"), ("a", "c"), ("b", "c")]


def panel(page: str) -> str:
    return re.search(r'<section class="honesty">.*?</section>', page, re.S).group(0)


def test_honesty_panel_shows_numbers_and_says_not_significant_and_overfit(page: str) -> None:
    h = panel(page)
    assert "Over cash: the Sharpe ratio of excess returns" in h
    assert '<td class="num">12 (≈3.4 effective)</td>' in h
    assert "would show an annualised Sharpe ratio of about 1.10" in h
    assert '<td class="num">0.71</td>' in h
    assert "Not significant (below 0.95): only a 71% probability" in h
    assert '<td class="num">0.60</td>' in h
    assert "Likely overfit: in 60% of 6,435 in-sample/out-of-sample splits" in h
    assert "more likely than not" in h
    assert "-0.62 to 1.36" in h and "-7.80% to 22.00%" in h
    assert "Includes zero: the returns cannot tell this risk-adjusted return apart" in h
    assert "seed 20250918" in h


def test_the_best_of_n_says_correlated_variants_are_not_independent_trials(page: str) -> None:
    h = panel(page)
    assert "12 correlated variants are not 12 independent trials" in h
    assert "average correlation of 0.62, worth about 3.4 independent trials" in h
    assert "the best of 3.4 independent ones about 0.70" in h
    assert 'Deflated Sharpe ratio, effective trials</th><td class="num">0.81' in h
    assert "the count of 12 is the conservative one" in h


def test_honesty_panel_judges_against_the_benchmark_and_names_each_metric(page: str) -> None:
    h = panel(page)
    assert "Against buy-and-hold XJO: the information ratio of active returns" in h
    assert "minus buy-and-hold XJO&#x27;s, per valuation session" in h
    assert "only a 42% probability that the winner&#x27;s information ratio (0.31) beats" in h
    assert "Probability of backtest overfitting, choosing by information ratio" in h
    assert 'Information ratio, 95 % interval</th><td class="num">-0.62 to 1.36' in h
    assert "By the ranking metric" not in h  # ranked by Sharpe: the over-cash section is it


def test_a_grid_ranked_by_another_metric_says_what_is_defined_for_it() -> None:
    ranking = {"metric": "max_drawdown", "direction": "higher", "same_as": None,
               "deflated": None, "pbo": None,
               "pbo_note": "not defined for max_drawdown: it needs the path of equity inside each "
               "half, which per-block sums do not keep", "ci95": (-0.3, -0.1)}  # fmt: skip
    ctx = make_context(metric="max_drawdown", honesty=honesty(ranking=ranking))
    h = panel(render_grid_report(ctx))
    assert "By the ranking metric: Max drawdown" in h
    assert "choosing by Max drawdown (max_drawdown, higher is better)" in h
    assert '<td class="num">not defined</td><td>Not defined: max_drawdown: it needs the path' in h
    assert 'Max drawdown, 95 % interval</th><td class="num">-30.00% to -10.00%' in h
    assert "the deflated Sharpe ratio deflates Sharpe-type ratios" in h
    vol = {"metric": "ann_volatility", "direction": "lower", "same_as": None, "pbo": 0.12,
           "splits": 100, "logit_median": 1.0, "ci95": None,
           "ci95_note": "not defined for x: why"}  # fmt: skip
    h = panel(
        render_grid_report(make_context(metric="ann_volatility", honesty=honesty(ranking=vol)))
    )
    assert "choosing by Annualised volatility (ann_volatility, lower is better)" in h
    assert "Selection held up: in 12% of 100" in h


def test_a_grid_of_benchmark_clones_has_no_information_ratio_to_deflate() -> None:
    # Real data 2011-2024: no combo of a small flagship grid ever fires, so all 12 hold XJO and
    # their active returns over buy-and-hold XJO do not vary; over cash they still get a DSR.
    nan = float("nan")
    bench = {"winner": nan, "trials": 0, "trials_undefined": 12, "effective_trials": 0.0,
             "average_correlation": nan, "deflated": nan, "deflated_effective": nan, "pbo": nan,
             "pbo_note": "needs two combos whose returns differ; all 12 have identical returns "
             "in every block", "ci95": (nan, nan)}  # fmt: skip
    h = panel(render_grid_report(make_context(honesty=honesty(bench=bench))))
    assert '<td class="num">0 of 12</td>' in h
    assert "12 combinations were tried and none has an information ratio: it is undefined" in h
    assert "holds just the benchmark" in h and "nothing to deflate" in h


def test_honesty_panel_says_significant_held_up_and_above_zero() -> None:
    h = honesty(cash={"deflated": 0.97, "pbo": 0.2, "ci95": np.array([0.3, 1.9])},
                bench={"deflated": 0.96, "pbo": 0.1, "ci95": (0.1, 0.5)},
                cagr_ci95=[0.01, 0.2], trials=np.int64(12))  # fmt: skip
    page = render_grid_report(make_context(honesty=h))
    assert "Significant: a 97% probability" in page
    assert "Selection held up: in 20% of" in page
    assert "Above zero throughout: the positive risk-adjusted return survives" in page
    assert "Above zero throughout: the positive growth of capital survives" in page
    assert "Above zero throughout: the positive edge over the benchmark survives" in page
    assert "Not significant" not in page and "Likely overfit" not in page


def test_honesty_panel_says_what_cannot_be_computed() -> None:
    nan = float("nan")
    h = honesty(cash={"deflated": nan, "pbo": nan, "splits": nan, "ci95": (None, None)},
                cagr_ci95=(-0.3, -0.1))  # fmt: skip
    page = render_grid_report(make_context(honesty=h))
    assert "Not computable: the winner&#x27;s Sharpe ratio or its moments are undefined" in page
    assert "Not computable: it needs at least two combinations" in page
    assert "Below zero throughout: the growth of capital is negative" in page


def test_honesty_panel_says_when_pbo_is_not_identifiable() -> None:
    note = (
        "not identifiable: in 50% of 12,870 splits the in-sample best is a tie between combos "
        "with identical returns there that land on both sides of the out-of-sample median, so "
        "a tie-break alone could move PBO by 0.50 (more than 0.1)"
    )
    tie = {"pbo": float("nan"), "logit_median": float("nan"), "pbo_identifiable": False,
           "pbo_tied_share": 0.5, "pbo_ambiguous_share": 0.5, "pbo_note": note}  # fmt: skip
    page = render_grid_report(make_context(honesty=honesty(cash=tie, bench=tie)))
    assert '<td class="num">not identifiable</td>' in page
    assert "Not identifiable: in 50% of 12,870 splits the in-sample best is a tie" in page
    assert "could move PBO by 0.50" in page and "cannot tell" in page
    assert "Likely overfit" not in page and "Selection held up" not in page


def test_honesty_panel_says_how_ties_were_counted_and_which_trials_have_no_sharpe() -> None:
    cash = {"pbo": 0.3, "pbo_tied_share": 0.21, "pbo_ambiguous_share": 0.04, "trials": 10,
            "trials_undefined": 2}  # fmt: skip
    page = render_grid_report(make_context(honesty=honesty(cash=cash)))
    assert "Selection held up: in 30% of 6,435" in page
    assert "ties in sample (21% of splits) count each tied combination equally" in page
    assert "could move PBO by more than 0.04" in page
    assert "The best of 10 such variants with no skill" in page
    assert "2 combinations have no Sharpe ratio (it is undefined for them): ranked last." in page


def test_ranked_table_shows_top_rows_varied_parameters_and_key_metrics(page: str) -> None:
    ranked = re.search(r'<table class="grid ranked">.*?</table>', page, re.S).group(0)
    assert ranked.count("<tr>") == 1 + 5  # header + top 5
    assert "Top 5 of 12 combinations, best first" in ranked
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", ranked)
    assert headers == ["#", "hold_days", "cut_window_days", "risk_off", "Sharpe ratio", "CAGR",
                       "Max drawdown", "Annualised volatility", "Trades", "Turnover",
                       "Exposure"]  # fmt: skip
    best = make_table(AXES).iloc[0]
    first = re.findall(r"<td[^>]*>([^<]*)</td>", ranked)[:5]
    assert first == ["1", str(best["hold_days"]), str(best["cut_window_days"]), best["risk_off"],
                     f"{best['sharpe']:.2f}"]  # fmt: skip
    assert "Fixed parameters: weight=1, exit_on_hike=off." in page


def test_undefined_sharpe_ratios_show_n_a_and_come_last() -> None:
    ctx = make_context(top=12)
    table = ctx.table.assign(sharpe=ctx.table["sharpe"].where(ctx.table.index % 5 != 0))
    table = table.iloc[rank(table, "sharpe")].reset_index(drop=True)
    page = render_grid_report(replace(ctx, table=table))
    ranked = re.search(r'<table class="grid ranked">.*?</table>', page, re.S).group(0)
    rows = re.findall(r"<tr><td>(\d+)</td>(.*?)</tr>", ranked)
    shown = [re.findall(r'<td class="num">([^<]*)</td>', cells)[0] for _, cells in rows]
    assert shown[-3:] == ["n/a"] * 3 and "n/a" not in shown[:-3] and "nan" not in ranked


def test_ranking_metric_comes_first_and_lower_is_better_is_stated() -> None:
    page = render_grid_report(make_context(metric="ann_volatility"))
    ranked = re.search(r'<table class="grid ranked">.*?</table>', page, re.S).group(0)
    assert re.findall(r"<th[^>]*>([^<]*)</th>", ranked)[4] == "Annualised volatility"
    assert "(ann_volatility; lower is better)" in page


def test_winner_drill_down_and_notes(page: str) -> None:
    assert "The winner: hold_days=" in page
    assert "Headline metrics" in page and "<td>1.25</td>" in page
    assert "grid note" in page and "XSO is price-only" in page


def test_user_strings_are_escaped() -> None:
    evil = "<script>alert(1)</script>"
    axes = {evil: [1, 2], "risk_off": [evil, "cash"]}
    ctx = make_context(axes, title=evil, rule=evil, notes=(evil,), synthetic=False)
    page = render_grid_report(ctx)
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_render_is_deterministic(page: str) -> None:
    assert render_grid_report(make_context()) == page


def test_offline_with_one_plotlyjs(page: str) -> None:
    bundle = packed_plotlyjs()  # the gzipped cartesian bundle, inflated in the page
    assert page.count(bundle) == 1
    rest = page.replace(bundle, "")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", rest, re.I)
    assert not re.search(r"<script[^>]*\bsrc=|<link\b", rest, re.I)
    assert "mathjax" not in rest.lower() and "url(" not in rest


def test_write_grid_report_writes_utf8(tmp_path) -> None:
    path = tmp_path / "report.html"
    write_grid_report(path, make_context())
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# --- aggregations -----------------------------------------------------------------------------


def test_axis_values_sort_numbers_and_keep_category_order() -> None:
    numbers = pd.Series([15, 5, 100, 5], dtype=object)  # as Space.sample makes them
    assert gc.axis_values(numbers) == ([5, 15, 100], True)
    assert gc.axis_values(pd.Series(["large", "cash", "large"])) == (["large", "cash"], False)
    assert gc.axis_values(pd.Series([True, False])) == ([True, False], False)


@pytest.mark.parametrize("higher", [True, False])
def test_by_value_and_by_pair_match_plain_python(higher: bool) -> None:
    table = make_table({"a": [3, 1, 2], "b": ["y", "x"], "c": [0.5, 0.25]})
    data = table[["a", "b", "c"]].assign(metric=table["sharpe"].to_numpy())
    data.loc[0, "metric"] = np.nan  # NaN metrics are ignored
    pick = max if higher else min
    stats = gc.by_value(data, "a", higher)
    assert list(stats.index) == [1, 2, 3]
    for value in (1, 2, 3):
        vals = [m for a, m in zip(data["a"], data["metric"], strict=True) if a == value]
        vals = [v for v in vals if not np.isnan(v)]
        assert stats.loc[value, "best"] == pick(vals)
        assert stats.loc[value, "median"] == np.median(vals)
    grid = gc.by_pair(data, "a", "b", higher)
    assert list(grid.columns) == [1, 2, 3] and list(grid.index) == list(pd.unique(table["b"]))
    for b, a in itertools.product(grid.index, grid.columns):
        vals = data[(data["a"] == a) & (data["b"] == b)]["metric"].dropna()
        assert grid.loc[b, a] == pick(vals)


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"honesty": {"trials": 3}}, r"honesty: lacks keys.*over_cash"),
        ({"honesty": honesty(cash={"ci95": 0.5})}, r"honesty\['over_cash'\]\['ci95'\]"),
        (
            {"honesty": {**honesty(), "vs_benchmark": {"metric": "information_ratio"}}},
            r"honesty\['vs_benchmark'\]: lacks keys.*winner",
        ),
        ({"honesty": honesty(trials=float("nan"))}, r"honesty\['trials'\]: must be at least 1"),
        ({"metric": "sortino"}, r"metric: is not a metric column.*'sortino'"),
        ({"metric": "max_drawdown_end"}, r"metric: column 'max_drawdown_end' is not numeric"),
        ({"varied": ["hold_days", "nope"]}, r"varied: names parameters not in params.*nope"),
        ({"varied": ["hold_days", "risk_off"]}, r"varied: omits.*'cut_window_days'"),
        ({"params": ["hold_days", "missing"]}, r"params: names columns the table lacks"),
        ({"top": 0}, r"top: must be a positive integer"),
        ({"winner": "run"}, r"winner: must be a ReportContext"),
        ({"table": pd.DataFrame()}, r"table: must be a non-empty DataFrame"),
    ],
)
def test_bad_contexts_name_the_field_and_the_fix(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=rf"GridReportContext\.{message}.*Fix:"):
        make_context(**changes)


# --- scale ------------------------------------------------------------------------------------


def test_100k_row_grid_renders_under_8_mb_in_under_5_s() -> None:
    axes = {
        "hold_days": list(range(5, 105)),  # 100 values
        "cut_window_days": list(range(10, 260, 25)),  # 10
        "exit_drawdown": [0.0, 0.05, 0.1, 0.15, 0.2],
        "risk_off": ["large", "cash", "bonds", "gold"],
        "record_lookback": [0, 1, 2, 3, 4],
    }  # 100 x 10 x 5 x 4 x 5 = 100,000 combos
    table = make_table(axes)
    assert len(table) == 100_000
    ctx = make_context(axes)
    start = time.perf_counter()
    page = render_grid_report(ctx)
    seconds = time.perf_counter() - start
    assert len(page.encode("utf-8")) < 8_000_000
    assert seconds < 5.0, f"rendering took {seconds:.1f} s"
    assert sum(i.startswith("chart-pair-") for i in ids_drawn(page)) == 6


# --- a real grid ------------------------------------------------------------------------------


@pytest.mark.slow
def test_flagship_grid_renders_with_its_winner_and_honesty() -> None:
    from engine.backtest.run import RunConfig
    from engine.research.grid import run_grid
    from engine.store.run_folder import report_context
    from engine.strategy.space import Space
    from strategies import get_strategy

    flagship = get_strategy("russell-fed-rotation")
    space = Space.from_specs(flagship, ["hold_days=5:25:10", "cut_window_days=20,60"])
    cfg = RunConfig(start=pd.Timestamp("2015-01-01"), end=pd.Timestamp("2017-12-31"))
    result = run_grid(flagship, space.combos(), cfg, metric="sharpe")
    winner = report_context(result.winner)
    ctx = GridReportContext(
        title=f"grid: {flagship.name}",
        rule=flagship.rule,
        metric=result.metric,
        table=result.table,
        params=[p.name for p in flagship.params],
        varied=space.varied,
        honesty=result.honesty,
        winner=winner,
        synthetic=winner.synthetic,
    )
    page = render_grid_report(ctx)
    assert ids_drawn(page) == ["chart-param-0", "chart-param-1", "chart-pair-0", "chart-equity",
                               "chart-drawdown"]  # fmt: skip
    assert f"{len(result.table):,} combinations were tried" in page
    assert f'<td class="num">{result.honesty["over_cash"]["deflated"]:.2f}</td>' in page
    assert "Against buy-and-hold XJO: the information ratio of active returns" in page
    assert ("synthetic sample data" in page.lower()) == winner.synthetic
    assert "Fixed parameters: record_lookback=0" in page
