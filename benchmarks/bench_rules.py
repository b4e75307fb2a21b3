"""Rule grid throughput: a 3-block rule (``rule_workload``) against the flagship and vectorbt.

One fresh worker process per K (``race``): load both workloads (untimed), warm up all three, then
time the flagship's grid, the rule's grid (``backtest grid --rule`` does the same) and vectorbt on
the rule (an evenly spaced subset of ``vbt_k`` combos, its time scaled by K / vbt_k, labelled so).
Parity: on every combo vectorbt ran, its Sharpe and max drawdown equal the rule grid's to ``TOL``.
Run alone: ``.venv/bin/python benchmarks/bench_rules.py --worker race '{"k": 1000}'``.
"""

from __future__ import annotations

import harness
import numpy as np
import rule_workload as rw
import workload as wl

TOL = 1e-9


def race(k: int, vbt_k: int | None = None) -> dict:
    flag, rule = wl.load(), rw.load()
    wl.run_crosscurrent(flag, flag.combos(64, seed=1))
    rw.run_crosscurrent(rule, rule.combos(64, seed=1))
    rw.run_vectorbt(rule, rule.combos(4, seed=1))
    vbt_k = min(k, vbt_k or k)
    _, flag_wall = harness.timed(wl.run_crosscurrent, flag, flag.combos(k))
    combos = rule.combos(k)
    table, rule_wall = harness.timed(rw.run_crosscurrent, rule, combos)
    subset = np.linspace(0, len(combos) - 1, vbt_k).round().astype(np.int64)
    (sharpe, mdd), vbt_run = harness.timed(
        rw.run_vectorbt, rule, combos.iloc[subset].reset_index(drop=True)
    )
    vbt_wall = vbt_run * len(combos) / vbt_k
    d_sharpe = np.abs(sharpe - table["sharpe"].to_numpy()[subset])
    d_mdd = np.abs(mdd - table["max_drawdown"].to_numpy()[subset])
    n = len(combos)
    return {
        "k": n,
        "sessions": rule.sessions,
        "rule": "strategies/rules/rba-easing-momentum.toml (3 blocks + hold)",
        "rule_combo_sessions_per_s": n * rule.sessions / rule_wall,
        "rule_wall_s": round(rule_wall, 3),
        "flagship_combo_sessions_per_s": n * flag.sessions / flag_wall,
        "flagship_wall_s": round(flag_wall, 3),
        "rule_vs_flagship": (n * rule.sessions / rule_wall) / (n * flag.sessions / flag_wall),
        "vectorbt_wall_s": round(vbt_wall, 3),
        "vectorbt_combos_run": int(vbt_k),
        "vectorbt_extrapolated": vbt_k < n,
        "speedup_vs_vectorbt": vbt_wall / rule_wall,
        "parity": {
            "combos_compared": int(vbt_k),
            "max_abs_diff_sharpe": float(np.nanmax(d_sharpe)),
            "max_abs_diff_max_drawdown": float(np.nanmax(d_mdd)),
            "ok": bool(np.nanmax(d_sharpe) <= TOL and np.nanmax(d_mdd) <= TOL),
        },
    }


def run(k: int, vbt_limit: int | None) -> dict:
    return harness.call_worker("bench_rules", "race", k=k, vbt_k=vbt_limit)


if __name__ == "__main__":
    harness.worker_main({"race": race})
