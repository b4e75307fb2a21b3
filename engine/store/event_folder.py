"""An event study's folder: ``events.csv``, ``events_summary.csv`` and ``events.json``.

Lives here: ``write_event_files`` (into a folder being written, e.g. a run's) and
``write_event_study`` (a folder of its own, atomically). Not here: computing the study
(``engine.backtest.eventstudy``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from engine.backtest.eventstudy import EventStudy
from engine.store.folders import atomic_folder, clean


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
    return final[0]
