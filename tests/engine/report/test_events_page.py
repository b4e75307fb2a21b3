"""The event-study page: built from the three files ``backtest events`` writes, the same bytes
every time, user text escaped, the summary and every signal shown, and a clear refusal of
files that lack what it shows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import engine
from engine.report.events_page import (
    EventsReportContext,
    excess_chart,
    render_events_report,
    signals_chart,
    study_chart,
)
from engine.store.event_folder import events_page_context, write_events_page


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return engine.events("russell-fed-rotation").save(tmp_path_factory.mktemp("events"))


def test_the_folder_holds_its_page_built_from_its_files(folder: Path, tmp_path: Path) -> None:
    page = (folder / "report.html").read_text(encoding="utf-8")
    write_events_page(folder, tmp_path / "again.html")
    assert (tmp_path / "again.html").read_text(encoding="utf-8") == page
    ctx = events_page_context(folder)
    assert render_events_report(ctx) == page
    for text in ("Verdict", "Summary", "Signals", "Synthetic sample data", "chart-event-study",
                 "chart-event-excess", "chart-event-signals", "src=\"http"):  # fmt: skip
        assert (text in page) is (text != 'src="http'), text
    assert page.count("<tr>") >= len(ctx.events) + len(ctx.summary)


def test_the_study_chart_draws_both_means_and_both_intervals(folder: Path) -> None:
    ctx = events_page_context(folder)
    data = study_chart(ctx).figure["data"]
    assert [t["name"] for t in data][2:] == ["all sessions (mean)", "after signals (mean)"]
    assert all(t.get("fill") == "toself" for t in data[:2])
    assert data[3]["x"] == ctx.horizons and len(data[0]["x"]) == 2 * len(ctx.horizons)
    assert data[3]["y"][0] == pytest.approx(ctx.summary["mean"].iloc[0])
    assert excess_chart(ctx).figure["data"][0]["error_y"]["array"]
    assert len(signals_chart(ctx).figure["data"]) == len(ctx.horizons)


def test_user_text_is_escaped(folder: Path) -> None:
    ctx = events_page_context(folder)
    meta = {**ctx.meta, "strategy": "<script>x</script>", "signal": "a <b>cut</b>",
            "verdict": ["<i>no</i>"], "params": {"<p>": "<q>"}}  # fmt: skip
    page = render_events_report(EventsReportContext(meta, ctx.summary, ctx.events))
    body = page[page.index("<body>") :]
    for raw in ("<script>x", "<b>cut", "<i>no", "<p>", "<q>"):
        assert raw not in body.replace("<script>(function", "").replace("<script>Plotly", "")


def test_no_signals_skips_the_signals_chart(folder: Path) -> None:
    ctx = events_page_context(folder)
    page = render_events_report(EventsReportContext(ctx.meta, ctx.summary, ctx.events.iloc[:0]))
    assert "Skipped: the study has no signals." in page and "No signals." in page


def test_files_lacking_what_the_page_shows_are_refused(folder: Path, tmp_path: Path) -> None:
    ctx = events_page_context(folder)
    with pytest.raises(ValueError, match="summary: lacks columns"):
        EventsReportContext(ctx.meta, ctx.summary.drop(columns="mean"), ctx.events)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("events.csv", "events_summary.csv"):
        (broken / name).write_bytes((folder / name).read_bytes())
    (broken / "events.json").write_text(json.dumps({"strategy": "x"}))
    with pytest.raises(engine.errors.DataError, match="broken: missing or damaged.*lacks keys"):
        events_page_context(broken)
    (broken / "events.json").write_bytes((folder / "events.json").read_bytes())
    pd.DataFrame({"x": [1]}).to_csv(broken / "events_summary.csv")
    with pytest.raises(engine.errors.DataError, match="broken: .*summary: lacks columns"):
        events_page_context(broken)
