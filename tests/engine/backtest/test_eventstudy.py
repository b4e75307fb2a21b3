"""The event study (``engine.backtest.eventstudy``): fill rows, forward returns and statistics by hand, a
hand-built signal end to end, the sample run, files and HTML, and the real September 2025 signal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.backtest.eventstudy import (
    MIN_EVENTS,
    StudyConfig,
    clusters,
    event_study,
    fill_rows,
    forward_returns,
    render_html,
    summarise,
    verdict,
)
from engine.errors import ConfigError
from engine.feeds import calendars
from engine.store.event_folder import write_event_study
from engine.strategy.base import strategy_context
from engine.timing import align
from strategies import REGISTRY

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "strategies"))
from hand_built import close_ns, context, flat, market, series  # noqa: E402

NAN = np.nan


# --- pieces by hand ----------------------------------------------------------------------------


def test_forward_returns_open_fill_runs_to_the_close_of_the_nth_session():
    entry = np.array([10.0, 11.0, 12.0, 13.0])  # opens
    close = np.array([10.5, 11.5, 12.5, 13.5])
    out = forward_returns(entry, close, np.array([0, 2]), (1, 2, 3), "open")
    expected = [[10.5 / 10 - 1, 11.5 / 10 - 1, 12.5 / 10 - 1], [12.5 / 12 - 1, 13.5 / 12 - 1, NAN]]
    np.testing.assert_allclose(out, expected)


def test_forward_returns_close_fill_starts_at_the_fill_close():
    close = np.array([10.0, 11.0, 12.0, NAN, 14.0])
    out = forward_returns(close, close, np.array([0, 1, 3]), (1, 2), "close")
    np.testing.assert_allclose(out, [[0.1, 0.2], [12 / 11 - 1, NAN], [NAN, NAN]])


def hand_ctx(decisions_ns, labels=None):
    labels = (
        labels if labels is not None else pd.date_range("2020-01-06", periods=len(decisions_ns))
    )
    return align.Context(None, None, None, "XASX", labels, np.asarray(decisions_ns, np.int64))


def test_fill_rows_is_the_first_decision_strictly_after_the_signal():
    ctx = hand_ctx([100, 200, 300])
    rows = fill_rows(ctx, np.array([150, 200, 201, 299, 300, 301]))
    assert rows.tolist() == [1, 2, 2, 2, -1, -1]


def test_fill_rows_agree_with_context_count():
    asx = calendars.sessions("XASX").between(pd.Timestamp("2019-07-01"), pd.Timestamp("2019-09-30"))
    ctx = hand_ctx(asx.open_ns, asx.labels)
    nyse = calendars.sessions("XNYS").between(
        pd.Timestamp("2019-07-01"), pd.Timestamp("2019-09-27")
    )
    rows = fill_rows(ctx, nyse.close_ns)
    counts = ctx.count(np.ones(len(nyse.close_ns), dtype=bool), nyse.close_ns)
    counts[0] = 0  # count's first row holds everything earlier; fill_rows keeps only the last gap
    assert np.bincount(rows[rows >= 0], minlength=len(ctx.labels))[1:].tolist() == (
        counts[1:].tolist()
    )


def test_fill_rows_drop_signals_older_than_the_previous_session():
    # The session before 2019-07-02 is 2019-07-01; a signal known after its open fills on 07-02,
    # one known before it happened before the study's first decision point could act.
    asx = calendars.sessions("XASX")
    pos = asx.labels.get_loc(pd.Timestamp("2019-07-02"))
    ctx = hand_ctx(asx.open_ns[pos : pos + 3], asx.labels[pos : pos + 3])
    prev_open = asx.open_ns[pos - 1]
    assert fill_rows(ctx, np.array([prev_open - 1, prev_open + 1])).tolist() == [-1, 0]


def test_clusters_split_where_windows_stop_overlapping():
    rows = np.array([0, 1, 5, 20, 21, 60])
    assert clusters(rows, 1).tolist() == [0, 1, 2, 3, 4, 5]
    assert clusters(rows, 5).tolist() == [0, 0, 0, 1, 1, 2]  # 1 and 5 overlap: same episode
    assert clusters(rows, 60).tolist() == [0, 0, 0, 0, 0, 0]  # a chain of overlaps
    assert clusters(np.array([], dtype=np.int64), 5).size == 0


def test_summarise_by_hand_and_reproducibly():
    ev = np.array([[0.01], [-0.02], [0.03], [NAN]])
    rows = np.array([3, 10, 20, 30])
    allr = np.array([[0.01], [0.0], [-0.01], [0.02], [NAN]])
    cfg = StudyConfig(horizons=(1,), n_boot=500, seed=7)
    s = summarise(ev, rows, allr, cfg).iloc[0]
    assert (s.n, s.episodes, s.n_all) == (3, 3, 4)
    assert s["mean"] == pytest.approx(0.02 / 3) and s["median"] == pytest.approx(0.01)
    assert s.hit_rate == pytest.approx(2 / 3) and s.hit_rate_all == pytest.approx(0.5)
    assert s.excess == pytest.approx(0.02 / 3 - 0.005)
    assert s.ci_low <= s["mean"] <= s.ci_high and s.ci_low_all <= 0.005 <= s.ci_high_all
    again = summarise(ev, rows, allr, cfg).iloc[0]
    pd.testing.assert_series_equal(s, again)
    other = summarise(ev, rows, allr, StudyConfig(horizons=(1,), n_boot=500, seed=8)).iloc[0]
    assert (other.ci_low, other.ci_high) != (s.ci_low, s.ci_high)


def test_a_constant_sample_has_a_point_interval():
    ev = np.full((12, 1), 0.01)
    s = summarise(ev, np.arange(0, 120, 10), np.full((50, 1), 0.002), StudyConfig(horizons=(5,)))
    assert s.ci_low[0] == pytest.approx(0.01) and s.ci_high[0] == pytest.approx(0.01)
    assert s.ci_low_all[0] == pytest.approx(0.002) and s.excess_low[0] == pytest.approx(0.008)


def row(**kw):
    base = dict(horizon=5, n=40, episodes=40, excess=0.01, excess_low=0.002, excess_high=0.02)
    return base | kw


def test_verdict_refuses_below_ten_events():
    text = verdict(pd.DataFrame([row()]), MIN_EVENTS - 1, 0.95)
    assert len(text) == 1 and "too few events (n = 9 < 10) to conclude anything" in text[0]


def test_verdict_lines():
    frame = pd.DataFrame(
        [
            row(horizon=1),
            row(horizon=5, excess=-0.01, excess_low=-0.02, excess_high=-0.001),
            row(horizon=20, excess_low=-0.01),
            row(horizon=60, episodes=4),
            row(horizon=120, n=8),
        ]
    )
    lines = verdict(frame, 40, 0.95)
    assert lines[0].startswith("1 session: signals beat an average session by +1.00%")
    assert "trailed" in lines[1] and "no evidence" in lines[2] and "includes 0" in lines[2]
    assert "only 4 separate episodes" in lines[3] and "too few to conclude" in lines[3]
    assert "too few events with data (n = 8 < 10)" in lines[4]


@pytest.mark.parametrize(
    "kwargs,msg",
    [
        ({"fill": "noon"}, "--fill"),
        ({"horizons": (0, 5)}, "horizons"),
        ({"n_boot": 10}, "n_boot"),
        ({"level": 1.0}, "level"),
        ({"start": pd.Timestamp("2020-01-02"), "end": pd.Timestamp("2020-01-01")}, "swap"),
    ],
)
def test_bad_config(kwargs, msg):
    with pytest.raises(ConfigError, match=msg):
        StudyConfig(**kwargs)


# --- a hand-built signal end to end ------------------------------------------------------------


def hand_study(fill="open", **cfg):
    """A Russell record at the 2019-07-31 close (after that day's cut); XSO opens at 100 + k and
    closes at 100.5 + k on the k-th session."""
    start, end = "2019-07-01", "2019-09-30"
    rut = flat("RUT", start, end, 1000.0, **{"2019_07_01": 1500.0, "2019_07_31": 2000.0})
    dates = flat("XSO", start, end).frame.index
    k = np.arange(len(dates), dtype=np.float64)
    xso = series("XSO", pd.Series(100.5 + k, index=dates), opens=pd.Series(100.0 + k, index=dates))
    ctx = context(market(rut, xso, flat("XJO", start, end, 200.0)), start, end, fill=fill)
    strategy = REGISTRY["russell-fed-rotation"](hold_days=5)
    return event_study(strategy, ctx, StudyConfig(fill=fill, n_boot=200, **cfg)), ctx


def test_a_hand_built_signal_is_filled_at_the_next_asx_open_with_its_forward_returns():
    study, ctx = hand_study()
    (ev,) = study.events.itertuples()
    assert ev.known_utc.value == close_ns("RUT", "2019-07-31")
    assert str(ev.observed.date()) == "2019-07-31" and str(ev.fill_session.date()) == "2019-08-01"
    k = ctx.labels.get_loc(pd.Timestamp("2019-08-01"))
    assert ev.fill_price == 100.0 + k and ev.entry
    assert ev.ret_1 == pytest.approx((100.5 + k) / (100 + k) - 1)
    assert ev.ret_20 == pytest.approx((100.5 + k + 19) / (100 + k) - 1)
    assert np.isnan(ev.ret_60)  # the data end within 60 sessions
    assert study.summary["n_all"].tolist()[:2] == [len(ctx.labels), len(ctx.labels) - 4]
    assert "too few events (n = 1 < 10)" in study.verdict[0]


def test_close_fills_measure_from_the_fill_close():
    study, ctx = hand_study(fill="close")
    (ev,) = study.events.itertuples()
    k = ctx.labels.get_loc(pd.Timestamp("2019-08-01"))
    assert ev.fill_price == 100.5 + k and ev.ret_1 == pytest.approx(1 / (100.5 + k))


def test_start_and_end_bound_the_fill_sessions():
    study, _ = hand_study(start=pd.Timestamp("2019-08-02"))
    assert study.events.empty and study.window[0] == "2019-08-02"
    assert study.summary["n"].tolist() == [0, 0, 0, 0]
    with pytest.raises(ConfigError, match="widen"):
        hand_study(start=pd.Timestamp("2030-01-01"))


# --- the sample, files and HTML ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_study():
    strategy = REGISTRY["russell-fed-rotation"]()
    _, ctx = strategy_context(strategy)
    return event_study(strategy, ctx)


def test_the_flagship_on_the_sample(sample_study):
    s = sample_study
    assert s.n_events >= MIN_EVENTS and s.synthetic and "synthetic" in s.notes[0]
    assert s.asset == "XSO" and s.source == "RUT record after a Fed cut"
    assert s.events["entry"].sum() >= 5 and s.events["fill_session"].is_monotonic_increasing
    assert (s.summary["n_all"] > 6000).all() and len(s.verdict) == 4
    assert s.meta()["bootstrap"] == {"resamples": 2000, "seed": 20250918, "level": 0.95}


def test_written_files_are_complete_and_reproducible(sample_study, tmp_path):
    a = write_event_study(sample_study, tmp_path / "a")
    b = write_event_study(sample_study, tmp_path / "b")
    for name in ("events.csv", "events_summary.csv", "events.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    events = pd.read_csv(a / "events.csv")
    assert list(events.columns[:5]) == [
        "known_utc",
        "observed",
        "fill_session",
        "fill_price",
        "entry",
    ]
    assert len(events) == len(sample_study.events)
    meta = json.loads((a / "events.json").read_text())
    assert meta["bootstrap"]["seed"] == 20250918 and meta["data"] == "synthetic sample data"
    assert not [p for p in a.parent.iterdir() if p.name.startswith(".partial")]


def test_unwritable_root_is_a_clean_error(sample_study, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="--out"):
        write_event_study(sample_study, blocker / "results")


def test_html_section_shows_verdict_table_and_every_signal(sample_study):
    page = render_html(sample_study)
    assert page.startswith('<section class="event-study">') and page.endswith("</section>")
    assert sample_study.verdict[0].split(":")[0] in page and "seed 20250918" in page
    assert page.count("<tr>") == 1 + 4 + 1 + len(sample_study.events)
    assert "<script" not in page


# --- the real September 2025 signal ------------------------------------------------------------

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.mark.skipif(
    not (SHARED / "rut_daily_yahoo.csv").is_file(),
    reason=f"real data folder {SHARED} is absent (it sits beside the repository root)",
)
def test_the_real_2025_09_18_record_fills_at_the_2025_09_19_asx_open(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "strategy"))
    from test_audit import convert_shared

    folder = convert_shared(SHARED, tmp_path / "real")
    strategy = REGISTRY["russell-fed-rotation"]()
    _, ctx = strategy_context(strategy, folder)
    study = event_study(strategy, ctx)
    first = study.events.iloc[0]
    assert (
        str(first.observed.date()) == "2025-09-18"
        and str(first.fill_session.date()) == "2025-09-19"
    )
    assert first.known_utc == pd.Timestamp("2025-09-18 20:00", tz="UTC")
    assert first.fill_price == pytest.approx(ctx.market["XSO"].frame.loc["2025-09-19", "open"])
    assert study.n_events < MIN_EVENTS and "too few events" in study.verdict[0]
