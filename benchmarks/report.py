"""The printed side of ``make bench``: rich tables of every section and of the targets.

Lives here: ``render`` (a results document as written to ``results.json`` -> tables on stdout),
``progress`` and the plain-words description of the shared workload (``WORKLOAD``). Not here:
measuring anything.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

console = Console(width=160)

WORKLOAD = {
    "data": "embedded synthetic sample (data/sample), ASX sessions of the window, RBA rate set to 0",
    "strategy": "russell-fed-rotation grid: record_lookback x cut_window_days x hold_days x weight"
    " x risk_off, sampled (seed 7) from 1.6 M combos; holdings XSO, XJO and cash",
    "costs": "10 bps fees, 5 bps slippage, close fills, AUD 100,000",
    "crosscurrent_timed": "engine.research.grid.simulate_combos: signals, holds, weights, orders, parallel"
    " kernel, all grid metrics, result table",
    "vectorbt_timed": "trigger flags per signal setting, holds/weights/change points by NumPy"
    " broadcasting, Portfolio.from_orders(targetpercent, cash_sharing, group_by), sharpe_ratio(),"
    " max_drawdown(); chunks of 1,000 combos",
    "untimed": "loading data and building the step timeline (engine.backtest.run.prepare), drawing combos",
}


def progress(text: str) -> None:
    console.print(f"[dim]bench:[/dim] {text}")


def _n(x: float, digits: int = 2) -> str:
    if x >= 1e6:
        return f"{x / 1e6:,.1f} M"
    if x >= 1e3:
        return f"{x / 1e3:,.1f} k"
    return f"{x:,.{digits}f}"


def _grid(rows: list[dict]) -> Table:
    t = Table(title="1. Grid throughput (flagship grid, same process, both compiled)")
    for col in ("K", "engine", "wall s", "combo-sessions/s", "peak RSS MB (added)", "notes"):
        t.add_column(col, justify="left" if col in ("engine", "notes") else "right")
    for g in rows:
        cc, vb = g["crosscurrent"], g["vectorbt"]
        t.add_row(f"{g['k']:,}", "crosscurrent", f"{cc['wall_s']:.2f}",
                  _n(cc["combo_sessions_per_s"]),
                  f"{cc['peak_rss_mb']:,.0f} ({cc['added_rss_mb']:,.0f})", "")  # fmt: skip
        note = f"{vb['chunks_run']} chunk(s) of {vb['chunk']:,}"
        if vb["extrapolated"]:
            ran = vb["combos_run"]
            note += f"; ran {ran:,} combos in {vb['measured_wall_s']:.1f} s, time x K/{ran:,}"
        t.add_row("", f"vectorbt ({vb['engine']})", f"{vb['wall_s']:.2f}",
                  _n(vb["combo_sessions_per_s"]),
                  f"{vb['peak_rss_mb']:,.0f} ({vb['added_rss_mb']:,.0f})", note)  # fmt: skip
        p = g["parity"]
        t.add_row("", "[bold]ratio[/bold]", f"[bold]{g['speedup']:.1f}x[/bold]", "", "",
                  f"parity on {p['combos_compared']:,} combos: |d sharpe| <= "
                  f"{p['max_abs_diff_sharpe']:.1e}, |d max_dd| <= "
                  f"{p['max_abs_diff_max_drawdown']:.1e} ({'ok' if p['ok'] else 'MISMATCH'})",
                  end_section=True)  # fmt: skip
    return t


def _single(s: dict) -> Table:
    t = Table(title="2. Single run as a fresh process (russell-fed-rotation, sample data)")
    for col in ("engine", "warm best s", "warm median s", "cold s", "peak RSS MB", "command"):
        t.add_column(col, justify="left" if col in ("engine", "command") else "right")
    for name in ("crosscurrent", "vectorbt"):
        e = s[name]
        rss = max(e["warm"]["peak_rss_mb"], e["cold"]["peak_rss_mb"])
        t.add_row(name, f"{e['warm']['wall_s_best']:.2f}", f"{e['warm']['wall_s_median']:.2f}",
                  f"{e['cold']['wall_s_best']:.2f}", f"{rss:,.0f}", e["command"])  # fmt: skip
    t.add_row("[bold]ratio[/bold]", f"[bold]{s['warm_speedup']:.1f}x[/bold]", "",
              f"[bold]{s['cold_speedup']:.1f}x[/bold]", "", "")  # fmt: skip
    return t


def _single_profile(s: dict) -> Table:
    p = s["profile"]
    t = Table(title="2b. Where a warm `backtest run` spends its time (cProfile, nested stages)")
    t.add_column("stage")
    t.add_column("s", justify="right")
    t.add_row("python start-up (bare interpreter)", f"{s['python_startup_s']:.2f}")
    t.add_row("imports (engine.cli.main, api, runfiles; not profiled)", f"{p['imports_s']:.2f}")
    t.add_row("the run, under cProfile", f"{p['run_profiled_s']:.2f}", end_section=True)
    for label, sec in p["stages_s"].items():
        t.add_row(label, f"{sec:.2f}")
    return t


def _scaling(sc: dict) -> Table:
    t = Table(
        title="3. Scaling (each point a fresh process; exponent = slope of log cost on log size)"
    )
    for col in ("dim", "size", "K", "N", "T", "wall s", "added RSS MB", "exp. time", "exp. memory"):
        t.add_column(col, justify="right")
    for dim, d in sc.items():
        for i, p in enumerate(d["points"]):
            size = {"T": p["sessions"], "N": p["n"], "K": p["k"]}[dim]
            last = i == len(d["points"]) - 1
            t.add_row(dim if i == 0 else "", f"{size:,}", f"{p['k']:,}", str(p["n"]),
                      f"{p['sessions']:,}", f"{p['wall_s']:.3f}", f"{p['added_rss_mb']:,.1f}",
                      f"{d['time_exponent']:.2f}" if last else "",
                      f"{d['memory_exponent']:.2f}" if last else "", end_section=last)  # fmt: skip
    return t


def _dask(d: dict) -> Table:
    title = f"4. Dask: {d['k']:,} sampled combos, 2-worker local cluster vs in-process"
    t = Table(title=title)
    for col in ("where", "wall s", "combo-sessions/s", f"s at {d['target_k']:,}", "peak RSS MB",
                "notes"):  # fmt: skip
        t.add_column(col, justify="left" if col in ("where", "notes") else "right")
    key = f"wall_s_at_{d['target_k']}"
    est = " (extrapolated)" if d["extrapolated"] else ""
    ip, dk = d["in_process"], d["dask"]
    t.add_row("in-process", f"{ip['wall_s']:.1f}", _n(ip["combo_sessions_per_s"]),
              f"{ip[key]:,.0f}{est}", f"{ip['peak_rss_mb']:,.0f}",
              f"sampling {d['sample_s']:.1f} s (untimed)")  # fmt: skip
    workers = ", ".join(f"{x:,.0f}" for x in dk["worker_peak_rss_mb"])
    t.add_row("dask local:2", f"{dk['wall_s']:.1f}", _n(dk["combo_sessions_per_s"]),
              f"{dk[key]:,.0f}{est}", f"{dk['peak_rss_mb']:,.0f} + workers {workers}",
              f"start-up {dk['cluster_start_s']:.1f} s (untimed); numba threads per worker "
              f"{dk['worker_numba_threads']}; tables identical: {d['identical_tables']}")  # fmt: skip
    return t


def _grid_profile(p: dict) -> Table:
    t = Table(title=f"1b. Where the grid's time goes (cProfile, K = {p['k']:,}, own time)")
    for col in ("function", "calls", "own s", "share"):
        t.add_column(col, justify="left" if col == "function" else "right")
    for row in p["top_own_time"][:8]:
        t.add_row(row["function"], f"{row['calls']:,}", f"{row['own_s']:.3f}",
                  f"{row['share']:.0%}")  # fmt: skip
    return t


def _targets(rows: list[dict]) -> Table:
    t = Table(title="Targets")
    for col in ("target", "threshold", "measured", "status", "how"):
        t.add_column(col, justify="right" if col in ("threshold", "measured") else "left")
    for r in rows:
        status = "[green]pass[/green]" if r["pass"] else f"[red]miss[/red] ({r['miss_by']})"
        cmp = r["op"]
        measured = _n(r["measured"]) if r["unit"] == "combo-sessions/s" else f"{r['measured']:.2f}"
        threshold = _n(r["threshold"]) if r["unit"] == "combo-sessions/s" else f"{r['threshold']:g}"
        how = r["how"] + ("; extrapolated" if r["extrapolated"] else "")
        t.add_row(r["target"], f"{cmp} {threshold} {r['unit']}", f"{measured} {r['unit']}", status,
                  how)  # fmt: skip
    return t


def _rules(r: dict) -> Table:
    t = Table(title=f"1c. Rule grid ({r['rule']}), K = {r['k']:,}, same process")
    for col in ("engine", "wall s", "combo-sessions/s", "ratio", "notes"):
        t.add_column(col, justify="left" if col in ("engine", "notes") else "right")
    sessions = r["k"] * r["sessions"]
    t.add_row("crosscurrent, the rule", f"{r['rule_wall_s']:.2f}",
              _n(r["rule_combo_sessions_per_s"]), "", "backtest grid --rule")  # fmt: skip
    t.add_row("crosscurrent, the flagship", f"{r['flagship_wall_s']:.2f}",
              _n(r["flagship_combo_sessions_per_s"]), f"{r['rule_vs_flagship']:.2f}x",
              "rule / flagship combo-sessions/s")  # fmt: skip
    note = f"ran {r['vectorbt_combos_run']:,} combos" + (", time x K/ran" if
                                                          r["vectorbt_extrapolated"] else "")  # fmt: skip
    p = r["parity"]
    t.add_row("vectorbt, the rule", f"{r['vectorbt_wall_s']:.2f}",
              _n(sessions / r["vectorbt_wall_s"]), f"{r['speedup_vs_vectorbt']:.0f}x",
              f"{note}; parity |d sharpe| <= {p['max_abs_diff_sharpe']:.1e}")  # fmt: skip
    return t


def render(doc: dict) -> None:
    m, res = doc["machine"], doc["results"]
    console.rule(f"crosscurrent benchmarks - mode {doc['mode']} - {m['date_utc']}")
    console.print(f"{m['cpu']}, {m['usable_cpus']} CPUs, {m['memory_gb']} GB; Python "
                  f"{m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()))  # fmt: skip
    tables = (("grid", _grid), ("rules", _rules), ("grid_profile", _grid_profile),
              ("single", _single), ("single", _single_profile), ("scaling", _scaling),
              ("dask", _dask))  # fmt: skip
    for key, table in tables:
        if key in res:
            console.print(table(res[key]))
    if doc["targets"]:
        console.print(_targets(doc["targets"]))
    console.print(f"total {doc['total_wall_s']:.0f} s")
