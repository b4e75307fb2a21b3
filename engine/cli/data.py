"""``backtest data ...``: check, download, list and regenerate data.

Commands: ``validate PATH_OR_DIR`` (every check of ``engine.feeds.validate``; exit 2 on any error),
``fetch [KEYS]`` (Yahoo/FRED/RBA into the cache, with a progress bar), ``list`` (what the sample,
the cache and a ``--data-dir`` hold) and ``sample`` (regenerate the synthetic sample).
``register(app)`` adds them to the main ``backtest`` app. The work happens in the library; this
module parses, calls and prints.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from engine.backtest.config import parse_date
from engine.cli.common import err, fail, known_errors, out
from engine.cli.output import FORMAT_OPT, Format, Sheet, completer, emit, print_table, say
from engine.errors import DataError, did_you_mean

data_app = typer.Typer(no_args_is_help=True, help="Check, download, list and regenerate data.")
_STYLE = {"error": "bold red", "warning": "yellow", "note": "dim"}


def _day(text: str | None, flag: str) -> pd.Timestamp | None:
    day = parse_date(text, flag)
    return None if day is None else day.normalize()


@data_app.command("sample")
def data_sample(
    out_folder: Path | None = typer.Option(None, "--out", help="folder (default data/sample)"),
    seed: int | None = typer.Option(None, help="generator seed (default: the project's seed)"),
) -> None:
    """Regenerate the synthetic sample data, byte for byte. Example: backtest data sample"""
    from engine.feeds import sample

    with known_errors():
        folder = sample.write_sample(out_folder, seed if seed is not None else sample.SEED)
    out.print(f"wrote synthetic sample data to {folder}")


# --------------------------------------------------------------------------- validate


def _single_file(path: Path, key: str | None):
    from engine.feeds.instruments import get_instrument, load_instruments
    from engine.feeds.validate import validate_file

    instruments = load_instruments(overrides=path.parent / "instruments.toml")
    name = key or path.stem
    if key is None and name not in instruments:
        raise DataError(
            f"{path}: the file name does not say which instrument it holds ({name!r} is not a "
            f"key.{did_you_mean(name, instruments)}); pass --key, one of {', '.join(instruments)}."
        )
    return [validate_file(path, get_instrument(instruments, name))]


def _instruments(path: Path) -> dict:
    from engine.feeds.instruments import load_instruments

    folder = path if path.is_dir() else path.parent
    try:
        return load_instruments(overrides=folder / "instruments.toml")
    except DataError:
        return {}


def _missing_for(folder: Path, strategy: str) -> list[str]:
    from engine.api.builtins import get_strategy
    from engine.feeds.marketdata import find_file

    needed = get_strategy(strategy)().required()
    return [k for k in needed if find_file(folder, k) is None]


def _print_opens(table, inst) -> None:
    """How tradable the opens are: the stale-open share and the mean overnight/intraday returns."""
    from engine.feeds import opens

    q = opens.open_quality(table.frame)
    if q is None or not q.sessions:
        if inst.kind in ("index", "etf"):
            out.print("  opens: none in the file (open fills need them; --fill close does not)")
        return
    limit = opens.stale_limit(inst)
    verdict = (
        (
            f"above the {limit:.0%} limit: a run refuses open fills on it when its window "
            "measures above the limit too",
            "bold red",
        )
        if q.stale_share > limit
        else (f"within the {limit:.0%} limit", "green")
    )
    line = Text.assemble(
        f"  opens: {q.stale_share:.1%} of {q.sessions} sessions open at the previous close (",
        verdict,
        f"); mean overnight return {q.overnight * 1e4:+.2f} bp, intraday "
        f"{q.intraday * 1e4:+.2f} bp",
    )
    out.print(line, soft_wrap=True)


def _print_report(report, limit: int, inst=None) -> None:
    table = report.table
    summary = "unreadable"
    if table is not None:
        first, last = table.dates.min().date(), table.dates.max().date()
        summary = f"{table.layout} layout, {first} .. {last}, {len(table.frame)} rows"
    counts = Counter(p.severity for p in report.problems)
    verdict = ", ".join(f"{n} {s}(s)" for s, n in counts.items() if s != "note") or "ok"
    colour = "red" if counts["error"] else "yellow" if counts["warning"] else "green"
    line = Text.assemble(
        (report.path.name, "bold"), f" [{report.key}] {summary}: ", (verdict, colour)
    )
    out.print(line, soft_wrap=True)
    if table is not None and inst is not None and inst.is_price:
        _print_opens(table, inst)
    shown: Counter = Counter()
    for p in report.problems:
        shown[p.check] += 1
        if limit and shown[p.check] > limit:
            continue
        out.print(Text.assemble("  ", (p.severity, _STYLE[p.severity]), f": {p}"), soft_wrap=True)
    for check, n in shown.items():
        if limit and n > limit:
            out.print(f"  … and {n - limit} more {check} finding(s); --limit 0 shows all")


@data_app.command("validate")
def data_validate(
    path: Path = typer.Argument(..., help="a data folder, or one data file"),
    key: str | None = typer.Option(None, help="instrument key of a file not named KEY.csv"),
    strategy: str | None = typer.Option(
        None, help="also check the folder has this strategy's keys"
    ),
    limit: int = typer.Option(10, help="findings shown per file and check (0 = all)"),
    output_format: Format = FORMAT_OPT,
) -> None:
    """Check data files: ranges, rows, order, gaps, calendar, values, units, stale runs.

    Errors (a backtest would refuse the file) exit 2. json: every file with all its findings;
    csv: one row per file (its range and how many errors, warnings and notes).

    Example: backtest data validate my_data/
    """
    from engine.feeds.marketdata import validate_folder

    with known_errors():
        if not os.path.lexists(path):
            raise DataError(f"{path} does not exist; pass a data folder or file.")
        reports = validate_folder(path) if path.is_dir() else _single_file(path, key)
        missing = _missing_for(path, strategy) if strategy and path.is_dir() else []
    instruments = _instruments(path)
    emit(
        output_format,
        lambda: [_print_report(r, limit, instruments.get(r.key)) for r in reports],
        lambda: Sheet.of([_file_row(r) for r in reports], FILE_COLUMNS),
        lambda: [_file_row(r, findings=True) for r in reports],
    )
    errors = sum(r.count("error") for r in reports)
    if not reports:
        fail(f"{path}: no .csv or .parquet files; name them after instrument keys (RUT.csv, ...).")
    if missing:
        fail(
            f"{path}: {strategy} needs {', '.join(missing)}: add {', '.join(missing)} as .csv/.parquet."
        )
    if errors:
        files = sum(r.count("error") > 0 for r in reports)
        fail(
            f"{errors} error(s) in {files} file(s); a backtest refuses this data until they are fixed."
        )
    say(output_format).print(Text.assemble(("no errors", "green"), f" in {len(reports)} file(s)"))


FILE_COLUMNS = ("file", "key", "layout", "first", "last", "rows", "errors", "warnings", "notes")


def _file_row(report, findings: bool = False) -> dict:
    """One validated file as plain data: its range, counts and (``findings``) every finding."""
    table, counts = report.table, Counter(p.severity for p in report.problems)
    row = {"file": str(report.path), "key": report.key, "layout": None, "first": None,
           "last": None, "rows": None}  # fmt: skip
    if table is not None:
        row.update(layout=table.layout, first=str(table.dates.min().date()),
                   last=str(table.dates.max().date()), rows=len(table.frame))  # fmt: skip
    row.update(errors=counts["error"], warnings=counts["warning"], notes=counts["note"])
    if findings:
        row["findings"] = [
            {"severity": p.severity, "check": p.check, "message": str(p)} for p in report.problems
        ]
    return row


# --------------------------------------------------------------------------- fetch and list


@data_app.command("fetch")
def data_fetch(
    keys: list[str] | None = typer.Argument(
        None, help="instrument keys (default: all with a source)"
    ),
    start: str | None = typer.Option(None, help="first date, YYYY-MM-DD (default: all history)"),
    end: str | None = typer.Option(None, help="last date, YYYY-MM-DD (default: today)"),
    source: str | None = typer.Option(
        None,
        metavar="[yahoo|fred|rba]",  # engine.feeds.providers.SOURCES
        help="the provider (default: the first listed)",
        autocompletion=completer(("yahoo", "fred", "rba")),
    ),
    out_dir: Path | None = typer.Option(
        None, "--out", "--data-dir", help="folder to write (default data/cache)"
    ),
    output_format: Format = FORMAT_OPT,
) -> None:
    """Download real data into the cache as Parquet with a JSON sidecar per key.

    Honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY; a connection error or an HTTP 429/5xx answer is
    tried again (after 1, 2 and 4 s). json/csv: one row per key (ok, rows, range, message).

    Example: backtest data fetch RUT FED_TARGET --start 2000-01-01
    """
    from engine import paths
    from engine.feeds import providers
    from engine.feeds.instruments import load_instruments

    with known_errors():
        folder = out_dir or paths.cache_dir()
        first, last = _day(start, "--start"), _day(end, "--end")
        instruments = load_instruments(overrides=folder / "instruments.toml")
        jobs = providers.plan(list(keys or []), instruments, source)
        columns = (
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
        )
        with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task(f"fetching {jobs[0].label}", total=len(jobs))

            def done(_outcome) -> None:
                bar.advance(task)
                k = int(bar.tasks[0].completed)
                bar.update(
                    task, description=f"fetching {jobs[k].label}" if k < len(jobs) else "done"
                )

            outcomes = providers.fetch(jobs, first, last, folder, on_done=done)
    rows = [
        {"key": o.job.inst.key, "source": o.job.source, "symbol": o.job.symbol, "ok": o.ok,
         "rows": o.meta.get("rows"), "first": o.meta.get("first"), "last": o.meta.get("last"),
         "message": o.message}
        for o in outcomes
    ]  # fmt: skip
    emit(output_format, lambda: _print_fetched(outcomes), lambda: Sheet.of(rows))
    failed = [o for o in outcomes if not o.ok]
    if failed:
        fail(
            f"{len(failed)} of {len(outcomes)} download(s) failed: {', '.join(o.job.label for o in failed)}."
        )
    say(output_format).print(f"cached in {folder}", soft_wrap=True)


def _print_fetched(outcomes) -> None:
    table = Table("key", "source", "symbol", "result")
    for o in outcomes:
        mark = ("ok", "green") if o.ok else ("failed", "red")
        table.add_row(
            o.job.inst.key, o.job.source, o.job.symbol, Text.assemble(mark, f" {o.message}")
        )
    print_table(table)


@data_app.command("list")
def data_list(
    data_dir: Path | None = typer.Option(None, help="also list this data folder"),
    output_format: Format = FORMAT_OPT,
) -> None:
    """What is available locally: the sample, the cache and --data-dir, with ranges.

    json/csv: one row per file (where, folder, key, file, rows, first, last, source).

    Example: backtest data list --data-dir my_data/
    """
    from engine import paths
    from engine.feeds.marketdata import describe_folder

    with known_errors():
        places = [("sample", paths.sample_dir()), ("cache", paths.cache_dir())]
        if data_dir is not None:
            if not data_dir.is_dir():
                raise DataError(
                    f"data folder {data_dir} does not exist; pass an existing --data-dir."
                )
            places.append(("data-dir", data_dir))
        rows = [(name, folder, r) for name, folder in places for r in describe_folder(folder)]
    records = [{"where": name, "folder": str(folder), **r} for name, folder, r in rows]
    columns = ("where", "folder", "key", "file", "rows", "first", "last", "source")
    emit(output_format, lambda: _print_files(records), lambda: Sheet.of(records, columns))
    for name, folder in places:
        count = sum(1 for n, _, _ in rows if n == name)
        say(output_format).print(f"{name}: {folder} ({count} file(s))", soft_wrap=True)


def _print_files(records: list[dict]) -> None:
    table = Table("where", "key", "file", "rows", "first", "last", "source")
    for r in records:
        table.add_row(r["where"], r["key"], r["file"], str(r["rows"]), r["first"], r["last"],
                      r["source"])  # fmt: skip
    print_table(table)


def register(app: typer.Typer) -> None:
    """Attach ``data ...`` to the main app."""
    app.add_typer(data_app, name="data")
