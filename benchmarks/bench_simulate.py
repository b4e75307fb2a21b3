"""Single-simulation speed: crosscurrent's kernel against vectorbt on the same work, same process.

Work: 3 instruments x 6,500 sessions, target weights changing on ~5 % of sessions, 10 bps fees,
close fills. Both engines are compiled first (one warm-up call); then each runs ``--repeat`` times
and the best wall time is reported, with the ratio. Equity is checked equal (1e-9) so the race is
fair. Run: ``.venv/bin/python benchmarks/bench_simulate.py``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
import vectorbt as vbt

from engine.sim.portfolio import simulate


def make_case(t_len: int = 6500, n: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2000-01-03", periods=t_len)
    close = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (t_len, n)), axis=0)), idx)
    w = rng.dirichlet(np.ones(n), size=t_len)
    w[rng.random(t_len) > 0.05] = np.nan
    return close, pd.DataFrame(w, idx)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    close, w = make_case()

    def ours():
        return simulate(close, w, fees_bps=10.0, init_cash=100.0)

    def theirs():
        pf = vbt.Portfolio.from_orders(
            close, w.shift(1), size_type="targetpercent", fees=1e-3, init_cash=100.0,
            cash_sharing=True, group_by=True, call_seq="auto", freq="1D",
        )  # fmt: skip
        return pf.value()

    np.testing.assert_allclose(ours().equity.to_numpy(), theirs().to_numpy(), rtol=1e-9)
    t_ours, t_vbt = best_of(ours, args.repeat), best_of(theirs, args.repeat)
    out = {
        "work": "3 instruments x 6500 sessions, single run incl. metrics (ours) / value (vectorbt)",
        "crosscurrent_ms": round(t_ours * 1e3, 3),
        "vectorbt_ms": round(t_vbt * 1e3, 3),
        "speedup": round(t_vbt / t_ours, 2),
    }
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
