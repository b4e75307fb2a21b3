"""An event study's folder: ``events.csv``, ``events_summary.csv``, ``events.json`` and, in a
folder of its own, ``report.html``.

Lives here: ``write_event_files`` (into a folder being written, e.g. a run's),
``write_event_study`` (a folder of its own, atomically, with its page), ``events_page_context``
(the page's context read back from the three files) and ``write_events_page`` (the page from the
files: the page written with the folder and one rebuilt later are the same bytes). Not here:
computing the study (``engine.backtest.eventstudy``), the page (``engine.report.events_page``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from engine.backtest.eventstudy import EventStudy
from engine.errors import DataError
from engine.report.events_page import EventsReportContext, write_events_report
from engine.store.folders import atomic_folder, clean

FILES = ("events.json", "events_summary.csv", "events.csv")


def write_event_files(study: EventStudy, folder: Path) -> None:
    """Write ``events.csv``, ``events_summary.csv`` and ``events.json`` into the existing ``folder``
    (the run writer calls this inside its temporary run folder)."""
    csv = dict(index=False, float_format="%.10g", date_format="%Y-%m-%d", lineterminator="\n")
    events = study.events.copy()
    events["known_utc"] = events["known_utc"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    events.to_csv(folder / "events.csv", **csv)
    study.summary.to_csv(folder / "events_summary.csv", **csv)
    text = json.dumps(clean(study.meta()), indent=2, sort_keys=True) + "\n"
    (folder / "events.json").write_text(text, encoding="utf-8")


def write_event_study(study: EventStudy, root: Path) -> Path:
    """Write the study's files into a new folder under ``root``, all at once or not at all
    (temporary folder renamed at the end). Returns the folder."""
    meta = json.dumps(clean(study.meta()), sort_keys=True).encode()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{study.strategy}-events-{hashlib.sha256(meta).hexdigest()[:8]}"
    with atomic_folder(Path(root), name) as (tmp, final):
        write_event_files(study, tmp)
        write_events_page(tmp, tmp / "report.html")
    return final[0]


def events_page_context(folder: Path) -> EventsReportContext:
    """The event-study page's context from ``folder``'s three files; ``DataError`` naming the
    file when one is missing or damaged."""
    path = folder / FILES[0]
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        path = folder / FILES[1]
        summary = pd.read_csv(path)
        path = folder / FILES[2]
        events = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise _damaged(path, str(exc)) from None
    try:
        return EventsReportContext(meta=meta, summary=summary, events=events)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _damaged(folder, str(exc)) from None


def _damaged(path: Path, why: str) -> DataError:
    return DataError(
        f"{path}: missing or damaged ({why[:200]}); the event-study folder cannot make its page. "
        "Run `backtest events ...` again for a new folder."
    )


def write_events_page(folder: Path, target: Path) -> None:
    """Build the event-study page from ``folder``'s files and write it to ``target``."""
    write_events_report(target, events_page_context(folder))
