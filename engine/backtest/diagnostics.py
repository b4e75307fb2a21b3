"""What a run says about itself beyond its metrics: how much it depends on the fill, how often its
rule fired, and the warnings a reader must see.

Lives here:

1. ``FillSensitivity`` - the headline metrics under the run's fill and under the other one (open <->
   close), and the verdict: the result *depends on the fill* when the Sharpe ratios differ by more
   than ``SHARPE_GAP`` or the CAGRs by more than ``CAGR_GAP``; where the other fill would buy at stale
   opens (``engine.feeds.opens``) it says those figures are not tradable;
2. ``activity`` - signals the rule produced in the window, the episodes they formed (separate
   stretches holding the risk-on asset) and the share of sessions spent in it, with a plain sentence
   when the rule never fired (no signal and the asset never held);
3. ``warning_lines`` - the lines printed on the console: count, the first few, where the rest are.

Not here: running the other fill (``backtest.run``), writing files (``store.run_folder``), printing (``cli``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# The headline metrics (``engine.stats.spec.HEADLINE``, in its order) recorded under each fill.
FILL_METRICS = ("total_return", "cagr", "sharpe", "max_drawdown", "trade_count")
# A fill that moves the Sharpe ratio by more than 0.2 or the CAGR by more than one percentage point
# a year changes what a reader concludes: the ranking of two rules, or "beats the benchmark".
SHARPE_GAP = 0.2
CAGR_GAP = 0.01
SHOWN_WARNINGS = 3


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


@dataclass(frozen=True)
class FillSensitivity:
    """Headline metrics per fill (``metrics[fill]``), the run's own ``fill``, and the stale-open
    share of each traded series over the window (open fills on it buy yesterday's close)."""

    fill: str
    metrics: dict[str, dict[str, float]]
    stale_open: dict[str, float] = field(default_factory=dict)
    limits: dict[str, float] = field(default_factory=dict)
    unavailable: str | None = None  # why the other fill could not be simulated

    @property
    def other(self) -> str:
        return "close" if self.fill == "open" else "open"

    @property
    def stale_keys(self) -> list[str]:
        return [k for k, v in self.stale_open.items() if v > self.limits.get(k, np.inf)]

    def gaps(self) -> dict[str, float]:
        """Other fill minus the run's fill, per headline metric."""
        if self.other not in self.metrics:
            return {}
        a, b = self.metrics[self.fill], self.metrics[self.other]
        return {k: _num(b.get(k)) - _num(a.get(k)) for k in FILL_METRICS}

    @property
    def depends(self) -> bool | None:
        gaps = self.gaps()
        if not gaps:
            return None
        sharpe, cagr = abs(gaps["sharpe"]), abs(gaps["cagr"])
        return bool(sharpe > SHARPE_GAP or cagr > CAGR_GAP)

    def sentence(self) -> str:
        """One line for the console and the report."""
        if self.unavailable:
            return (
                f"fill sensitivity: {self.other} fills could not be simulated ({self.unavailable})."
            )
        a, b = self.metrics[self.fill], self.metrics[self.other]
        text = (
            f"fill sensitivity: Sharpe {_fmt(a['sharpe'])} with {self.fill} fills, "
            f"{_fmt(b['sharpe'])} with {self.other} fills; CAGR {_pct(a['cagr'])} vs "
            f"{_pct(b['cagr'])}."
        )
        stale = self.stale_keys
        shares = ", ".join(f"{k} {self.stale_open[k]:.0%}" for k in stale)
        if stale and self.fill == "open":
            return text + (
                f" This run fills at stale opens ({shares} of opens equal the previous close, "
                "allowed by --allow-stale-open): its result is not tradable; trust the close-fill "
                "figures."
            )
        if stale:
            return text + (
                f" The open-fill figures buy at stale opens ({shares} of opens equal the previous "
                "close) and are not tradable."
            )
        if self.depends:
            return text + (
                f" The result depends on the fill (gap above {SHARPE_GAP:g} in Sharpe or "
                f"{CAGR_GAP:.0%} a year in CAGR): judge it by the fill you could really get."
            )
        return text + " The two fills agree."

    def record(self) -> dict[str, Any]:
        return {
            "fill": self.fill,
            "other_fill": self.other,
            "metrics": self.metrics,
            "difference": self.gaps(),
            "depends_on_fill": self.depends,
            "thresholds": {"sharpe": SHARPE_GAP, "cagr": CAGR_GAP},
            "stale_open_share": self.stale_open,
            "stale_open_limit": self.limits,
            "unavailable": self.unavailable,
            "sentence": self.sentence(),
        }


# The sentence is stored in summary.json, so its numbers keep their own fixed form (a signed CAGR).
def _fmt(x: Any) -> str:
    x = _num(x)
    return "n/a" if not np.isfinite(x) else f"{x:.2f}"


def _pct(x: Any) -> str:
    x = _num(x)
    return "n/a" if not np.isfinite(x) else f"{x:+.2%}"


def headline(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: metrics.get(k) for k in FILL_METRICS}


def activity(weights: pd.DataFrame, asset: str, signals: int, benchmark: str) -> dict[str, Any]:
    """How often the rule acted in the window: ``signals`` (from the event study), ``episodes``
    (separate stretches of valuation sessions ending with ``asset`` held), ``share_in_asset``."""
    held = weights[asset].to_numpy() > 1e-9 if asset in weights else np.zeros(len(weights), bool)
    episodes = int(np.count_nonzero(np.diff(held.astype(np.int8), prepend=np.int8(0)) == 1))
    share = float(held.mean()) if len(held) else float("nan")
    out: dict[str, Any] = {
        "signals": int(signals),
        "episodes": episodes,
        "risk_on_asset": asset,
        "share_in_asset": share,
        "sessions": len(held),
    }
    if signals == 0 and episodes:
        out["sentence"] = (
            f"no signal in the window: {asset} is held on {share:.1%} of sessions, in "
            f"{episodes} stretch(es) begun at the window's start or carried into it."
        )
    elif signals == 0:
        mean = weights.mean()
        held_text = ", ".join(f"{k} {v:.0%}" for k, v in mean.items() if v > 1e-9) or "cash"
        others = mean.drop(benchmark, errors="ignore")
        same = benchmark in mean and mean[benchmark] > 1 - 1e-9 and not (others > 1e-9).any()
        tail = f", the same as buy-and-hold of {benchmark}" if same else ""
        out["sentence"] = (
            f"the rule never fired in the window (0 signals): the run holds what it holds when "
            f"the rule is off (on average {held_text}){tail}."
        )
    else:
        out["sentence"] = (
            f"the rule fired {signals} time(s) in the window, in {episodes} episode(s) holding "
            f"{asset}; {share:.1%} of sessions in {asset}."
        )
    return out


def warning_lines(warnings: list[str], where: str) -> list[str]:
    """Console lines: how many warnings, the first ``SHOWN_WARNINGS``, and where the rest are."""
    if not warnings:
        return []
    lines = [f"{len(warnings)} warning(s):"]
    lines += [f"  - {w}" for w in warnings[:SHOWN_WARNINGS]]
    if len(warnings) > SHOWN_WARNINGS:
        lines.append(f"  ... and {len(warnings) - SHOWN_WARNINGS} more in {where}")
    return lines
