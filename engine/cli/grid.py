"""``backtest grid STRATEGY``: grid search from the command line (a thin shell over ``grid``)."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from engine.cli.common import (
    SYNTHETIC_LINE,
    err,
    known_errors,
    number,
    out,
    print_warnings,
    write_stdout,
)
from engine.cli.options import OUT_DIR, RunOptions, run_options
from engine.cli.output import FORMAT_OPT, Format, Sheet, emit, print_table, say
from engine.cli.strategies import FILE_OPT, RULE_OPT
from engine.errors import ConfigError
from engine.stats.spec import format_value


def _rate_column():
    class Rate(TextColumn):
        def render(self, task):
            speed = task.finished_speed or task.speed
            return super().render(task) if speed is None else f"{speed:,.0f} combos/s"

    return Rate("")


def _check_counts(samples: int | None, seed: int, top: int) -> None:
    if samples is not None and samples < 1:
        raise ConfigError(f"--samples must be at least 1; got {samples} (leave it out for all).")
    if not 0 <= seed < 2**63:
        raise ConfigError(f"--seed must be a whole number from 0 to 2**63-1; got {seed}.")
    if top < 1:
        raise ConfigError(f"--top must be at least 1; got {top}.")


@run_options(config_file=True)
def grid(
    strategy: str | None = typer.Argument(None, help="strategy name, e.g. russell-fed-rotation"),
    strategy_file: str | None = FILE_OPT,
    rule: str | None = RULE_OPT,
    param: list[str] = typer.Option(
        [], "--param", "-p", help="KEY=START:STOP:STEP or KEY=V1,V2 (repeatable)"
    ),
    constraint: str | None = typer.Option(
        None, help='keep combos where this holds, e.g. "hold_days > 5"'
    ),
    samples: int | None = typer.Option(None, help="draw this many combos at random instead of all"),
    seed: int = typer.Option(0, help="seed for --samples"),
    metric: str = typer.Option("sharpe", help="rank by this metric"),
    top: int = typer.Option(20, help="rows to show and keep in summary.json"),
    chunk: int = typer.Option(4096, help="combos simulated per parallel batch"),  # grid.CHUNK
    cluster: str | None = typer.Option(
        None, help="run chunks on Dask: local:N workers, or tcp://HOST:PORT of a scheduler"
    ),
    walk_forward: str | None = typer.Option(
        None,
        help="train=SPAN,test=SPAN[,anchored][,embargo=N], e.g. train=5y,test=1y,embargo=60: "
        "out-of-sample check (N sessions between each training and test slice)",
    ),
    options: RunOptions = ...,  # the run options (engine.cli.options)
    out_dir: Path | None = OUT_DIR,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print only the result folder"),
    output_format: Format = FORMAT_OPT,
) -> None:
    """Search a strategy's parameters; rank combos; report overfitting statistics.

    json: the grid's summary.json; csv: the --top combos, every parameter and metric, ranked.

    Example: backtest grid russell-fed-rotation --param hold_days=5:60:5 --param cut_window_days=10,30,60

    A rule file's parameters are NAME.FIELD: backtest grid --rule my.toml --param hold.sessions=5:60:5
    """
    from engine.cli.strategies import resolve_strategy
    from engine.research.cluster import DaskExecutor, parse_cluster
    from engine.research.grid import rank, run_grid
    from engine.research.walkforward import parse_walk_forward
    from engine.store.grid_folder import grid_summary, write_grid
    from engine.strategy.space import Space, apply_constraint

    with known_errors():
        _check_counts(samples, seed, top)
        cls = resolve_strategy(strategy, strategy_file, rule)
        space = Space.from_specs(cls, param)
        combos = space.sample(samples, seed) if samples is not None else space.combos()
        combos = apply_constraint(combos, constraint)
        rank(combos.head(0).assign(**{metric: []}), metric)  # fail fast on an unknown metric
        if walk_forward:
            parse_walk_forward(walk_forward)
        if cluster:
            parse_cluster(cluster)
        cfg = options.config()
        columns = (TextColumn("grid"), BarColumn(), MofNCompleteColumn(), _rate_column(),
                   TimeRemainingColumn())  # fmt: skip
        with Progress(*columns, console=err, disable=quiet, transient=True) as bar:
            task = bar.add_task("grid", total=len(combos))
            with DaskExecutor(cluster) if cluster else nullcontext() as executor:
                res = run_grid(
                    cls,
                    combos,
                    cfg,
                    metric=metric,
                    chunk=chunk,
                    progress=lambda n: bar.advance(task, n),
                    executor=executor,
                )
        summary = grid_summary(res, space.axes, constraint, samples, seed if samples else None, top)
        wf = None
        if walk_forward:
            wf = _walk_forward(cls, combos, cfg, walk_forward, metric, chunk, res, quiet)
            summary["walk_forward"] = {k: v for k, v in wf.items() if k != "equity"}
        folder = write_grid(res, summary, out_dir, top, wf)
    if quiet:
        write_stdout(f"{folder}\n")
        return
    print_warnings(res.winner.warnings, str(folder / "summary.json"))
    head = res.table.head(top)
    emit(
        output_format,
        lambda: _print(res, space.varied, top, wf),
        lambda: Sheet(["rank", *head.columns],
                      [[i, *row] for i, row in enumerate(head.astype(object).to_numpy(), 1)]),
        lambda: json.loads((folder / "summary.json").read_text(encoding="utf-8")),
    )  # fmt: skip
    console = say(output_format)
    if res.winner.market.synthetic:
        console.print(SYNTHETIC_LINE)
    console.print(f"results: {folder}", soft_wrap=True)


def _walk_forward(cls, combos, cfg, text: str, metric: str, chunk: int, res, quiet: bool):
    """The walk-forward check under a bar that counts combos simulated over all folds."""
    from engine.research.walkforward import folds, parse_walk_forward, run_walk_forward

    spec = parse_walk_forward(text)
    n = len(folds(res.winner.sim.equity.index, spec))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               _rate_column(), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=err, disable=quiet, transient=True) as bar:
        task = bar.add_task(f"walk-forward fold 1/{n}", total=n * len(combos))

        def step(done: int) -> None:
            bar.advance(task, done)
            fold = min(int(bar.tasks[0].completed) // len(combos) + 1, n)
            bar.update(task, description=f"walk-forward fold {fold}/{n}")

        return run_walk_forward(cls, combos, cfg, spec, metric, chunk, progress=step,
                                full_best=res.winner.strategy.values)  # fmt: skip


def _print(res, varied: list[str], top: int, wf) -> None:
    table = Table(
        title=f"{res.winner.strategy.name}: {len(res.table):,} combos ranked by {res.metric}"
    )
    metrics = [res.metric, *(k for k in ("sharpe", "cagr", "max_drawdown") if k != res.metric)]
    for k in (*varied, *metrics):
        table.add_column(k, justify="right")
    for row in res.table.head(top).itertuples(index=False):
        d = row._asdict()
        cells = [number(d[k], ".4g") if isinstance(d[k], float) else str(d[k]) for k in varied]
        table.add_row(*cells, *(format_value(k, d[k]) for k in metrics))
    print_table(table)
    _print_honesty(res.honesty)
    sentence = res.winner.activity.get("sentence")
    if sentence:
        out.print(f"winner: {sentence}", soft_wrap=True)
    if wf is not None:
        _print_walk_forward(wf)


_SIDES = (
    ("over_cash", "Sharpe", "a Sharpe ratio", "excess returns over cash that do not vary"),
    ("vs_benchmark", "information ratio", "an information ratio",
     "active returns that do not vary: the combo is its benchmark"),
)  # fmt: skip


def _pbo_text(h: dict) -> str:
    note = h.get("pbo_note") or ""
    if note.startswith("not identifiable"):
        return "not identifiable"
    return "not defined" if note.startswith("not defined") else number(h.get("pbo"))


def _print_side(h: dict, name: str, article: str, why: str, title: str) -> None:
    undefined = h["trials_undefined"]
    trials = f"{h['trials']} trials" + (
        f" ({undefined} without {article}: {why}; ranked last)" if undefined else ""
    )
    lo, hi = h["ci95"]
    rho = h["average_correlation"]
    effective = f"{number(h['deflated_effective'])} over {h['effective_trials']:.1f} effective" + (
        f" (average correlation {rho:.2f})" if rho == rho else ""
    )
    out.print(
        f"{title}: winner's {name} {number(h['winner'])}, deflated {name} "
        f"{number(h['deflated'])} over {trials}, {effective}; PBO {_pbo_text(h)}; "
        f"{name} 95% CI {number(lo)}..{number(hi)}",
        soft_wrap=True,
    )
    if h.get("pbo_note"):
        out.print(Text.assemble(("PBO", "yellow"), f" ({title}): {h['pbo_note']}"), soft_wrap=True)


def _print_honesty(h: dict) -> None:
    """The honesty block, one line per kind of return, each naming its metric."""
    bench = h["vs_benchmark"].get("benchmark", "the benchmark")
    titles = {"over_cash": "over cash", "vs_benchmark": f"against buy-and-hold {bench}"}
    for key, name, article, why in _SIDES:
        _print_side(h[key], name, article, why, titles[key])
    r = h["ranking"]
    if r["same_as"] is not None:
        return
    ci = r.get("ci95")
    metric = r["metric"]  # its interval in the metric's own format (a percentage for cagr)
    interval = (
        f"{format_value(metric, ci[0])}..{format_value(metric, ci[1])}"
        if ci is not None
        else "not defined"
    )
    out.print(
        f"ranked by {r['metric']} ({r['direction']} is better): PBO {_pbo_text(r)}; "
        f"{r['metric']} 95% CI {interval}; no deflated value (Sharpe-type ratios only)",
        soft_wrap=True,
    )
    if r.get("pbo_note"):
        out.print(Text.assemble(("PBO", "yellow"), f" ({r['metric']}): {r['pbo_note']}"),
                  soft_wrap=True)  # fmt: skip


def _print_walk_forward(wf: dict) -> None:
    """Like for like: the walk-forward's chained test slices beside the full window's best
    traded on the same slices, each saying what it covers."""
    w, oos = wf["test_windows"], wf["out_of_sample"]
    embargo = f", embargo {wf['embargo_sessions']} sessions" if wf["embargo_sessions"] else ""
    out.print(
        f"walk-forward {wf['spec']} ({len(wf['folds'])} folds{embargo}; test slices "
        f"{w['first']}..{w['last']}, {w['sessions']:,} sessions; {wf['restart']}):",
        soft_wrap=True,
    )
    rows = [("out-of-sample (chosen on each training slice)", oos)]
    if "full_window_best" in wf:
        rows.append(
            ("full window's best, chosen with hindsight, same slices", wf["full_window_best"])
        )
    for label, m in rows:
        sharpe, cagr = format_value("sharpe", m["sharpe"]), format_value("cagr", m["cagr"])
        out.print(f"  {label}: Sharpe {sharpe}, CAGR {cagr}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("grid")(grid)
