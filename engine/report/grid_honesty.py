"""The grid report's honesty panel, as text: for each kind of return the grid judged its winner on,
a title, a sentence on why, and rows (statistic, value, what it means, good/bad/neutral).

Lives here: the keys the panel needs (``HONESTY_KEYS``, ``SIDE_KEYS``, ``RANKING_KEYS``, checked
by ``grid_report``), ``honesty_panel`` (the sections) and ``SOURCES``. Three sections, each saying
which metric its numbers are about: over cash (the Sharpe ratio of excess returns), against the
benchmark (the information ratio of active returns) and - when the grid ranked by something else -
by the ranking metric, where each statistic is defined and why not where it is not. Not here: HTML
(``grid_report`` escapes and lays out these strings) or the statistics (``honesty``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.stats import spec

HONESTY_KEYS = ("trials", "over_cash", "vs_benchmark", "ranking", "cagr_ci95", "bootstrap_seed")
SIDE_KEYS = (
    "metric", "winner", "trials", "trials_undefined", "effective_trials", "average_correlation",
    "expected_max", "expected_max_effective", "deflated", "deflated_effective", "pbo", "splits",
    "logit_median", "ci95",
)  # fmt: skip
RANKING_KEYS = ("metric", "direction", "same_as")
DSR_SIGNIFICANT = 0.95  # deflated Sharpe at or above this: the winner beats luck
PBO_OVERFIT = 0.5  # PBO above this: the in-sample winner is more likely than not below median
SOURCES = (
    "Deflated ratios: Bailey & López de Prado (2014), against the expected best of the trials; "
    "effective trials: the number of independent trials whose expected best equals that of the "
    "trials at their average pairwise correlation (of 16 block returns). PBO: combinatorially "
    "symmetric cross-validation, Bailey et al. (2017), over 16 blocks; identical combinations "
    "count once, ties get average ranks. Intervals: stationary bootstrap of the winner's daily "
    "returns (seed {seed})."
)
Row = tuple[str, str, str, str]  # statistic, value, what it means, css class


def label_value(metric: str, value: object = 0.0) -> tuple[str, str]:
    """(label, formatted value) of a grid metric, as every table shows it (``engine.stats.spec``)."""
    return spec.label(metric), spec.format_value(metric, value)


def _num(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return out


def _share(x: float) -> str:
    return f"{x:.0%}" if x >= 0.005 else "under 1%"


def _f(value: float, spec: str = ".2f") -> str:
    return format(value, spec) if np.isfinite(value) else "n/a"


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _trials_row(h: Mapping, name: str, ranked_by: str, total: int) -> Row:
    n, k = int(_num(h["trials"])), int(_num(h["trials_undefined"]))
    if total <= 1:
        return "Trials", "1", "One combination: nothing was selected, so nothing to deflate.", ""
    if n == 0:
        text = (
            f"{total:,} combinations were tried and none has {_a(name)} {name}: it is undefined "
            "for every one (its returns of this kind do not vary, e.g. it holds nothing or holds "
            "just the benchmark), so there is nothing to deflate."
        )
        return "Trials", f"0 of {total:,}", text, "bad"
    n_eff, rho = _num(h["effective_trials"]), _num(h["average_correlation"])
    sr0, sr0_eff = _num(h["expected_max"]), _num(h["expected_max_effective"])
    text = f"{total:,} combinations were tried and the best by {ranked_by} kept. "
    if np.isfinite(rho):
        text += (
            f"They are variants of one rule, and {n:,} correlated variants are not {n:,} "
            f"independent trials: their block returns have an average correlation of {rho:.2f}, "
            f"worth about {n_eff:.1f} independent trials. "
        )
    text += (
        f"The best of {n:,} such variants with no skill at all would show an annualised {name} of "
        f"about {_f(sr0)}; the best of {n_eff:.1f} independent ones about {_f(sr0_eff)}."
    )
    if k:
        text += f" {k:,} combinations have no {name} (it is undefined for them): ranked last."
    return "Trials", f"{n:,} (≈{n_eff:.1f} effective)", text, ""


def _dsr_rows(h: Mapping, name: str) -> list[Row]:
    dsr, dsr_eff = _num(h["deflated"]), _num(h["deflated_effective"])
    n, n_eff = int(_num(h["trials"])), _num(h["effective_trials"])
    title = f"Deflated {name}"
    if not np.isfinite(dsr):
        return [(title, "n/a", f"Not computable: the winner's {name} or its moments are undefined.",
                 "")]  # fmt: skip
    shown = f" ({_num(h['winner']):.2f})" if np.isfinite(_num(h["winner"])) else ""
    against = f"the best of {n:,} unskilled trials" if n > 1 else "zero (a single trial)"
    if dsr >= DSR_SIGNIFICANT:
        text = f"Significant: a {dsr:.0%} probability that the winner's {name}{shown} beats "
        rows = [(title, f"{dsr:.2f}", text + f"{against} (threshold {DSR_SIGNIFICANT}).", "good")]
    else:
        text = (
            f"Not significant (below {DSR_SIGNIFICANT}): only a {dsr:.0%} probability that the "
            f"winner's {name}{shown} beats {against}; its edge may be luck."
        )
        rows = [(title, f"{dsr:.2f}", text, "bad")]
    if n > 1 and np.isfinite(dsr_eff):
        rows.append((
            f"{title}, effective trials", f"{dsr_eff:.2f}",
            f"A {dsr_eff:.0%} probability against the best of {n_eff:.1f} independent trials "
            f"instead: the lenient reading. The spread of the trials' {name}s already shrinks as "
            f"they correlate, so the count of {n:,} is the conservative one.", "",
        ))  # fmt: skip
    return rows


def _pbo_row(h: Mapping, by: str) -> Row:
    pbo, splits, logit = _num(h["pbo"]), _num(h.get("splits")), _num(h.get("logit_median"))
    name = f"Probability of backtest overfitting, choosing by {by}"
    note = h.get("pbo_note")
    if isinstance(note, str) and note.startswith("not identifiable"):
        why = (
            f"Not identifiable: {note.removeprefix('not identifiable: ')}. The data cannot tell "
            "these combinations apart; judge the winner by the deflated ratio and the "
            "sensitivity charts instead."
        )
        return name, "not identifiable", why, "bad"
    if isinstance(note, str) and note.startswith("not defined"):
        return name, "not defined", f"Not defined: {note.removeprefix('not defined for ')}.", ""
    if not np.isfinite(pbo):
        note = note or "it needs at least two combinations to compare out of sample"
        return name, "n/a", f"Not computable: {note}.", ""
    seen = (
        f"in {pbo:.0%} of {splits:,.0f} in-sample/out-of-sample splits the in-sample winner by "
        f"{by} ranked below the median out of sample (median logit {logit:+.2f})"
    )
    tied, moved = _num(h.get("pbo_tied_share")), _num(h.get("pbo_ambiguous_share"))
    if tied > 0:  # NaN or 0: no ties to speak of
        seen += f"; ties in sample ({_share(tied)} of splits) count each tied combination equally"
        seen += f", and no tie-break could move PBO by more than {moved:.2f}"
    if pbo > PBO_OVERFIT:
        text = f"Likely overfit: {seen}; above {PBO_OVERFIT}, picking the best is more likely "
        return name, f"{pbo:.2f}", text + "than not to pick a below-median strategy.", "bad"
    text = f"Selection held up: {seen}; at most {PBO_OVERFIT} is the acceptable side."
    return name, f"{pbo:.2f}", text, "good"


def _ci_row(metric: str, bounds: Sequence[object] | None, what: str, note: object = None) -> Row:
    label = label_value(metric)[0]
    name = f"{label}, 95 % interval"
    if bounds is None:
        return (
            name,
            "not defined",
            f"Not defined: {str(note).removeprefix('not defined for ')}.",
            "",
        )
    lo, hi = _num(bounds[0]), _num(bounds[1])
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return name, "n/a", "Not computable from the winner's returns.", ""
    shown = f"{label_value(metric, lo)[1]} to {label_value(metric, hi)[1]}"
    if what == "":  # a statistic with no sign to judge (volatility, drawdown)
        return name, shown, "Resampled from the winner's returns.", ""
    if lo > 0:
        return (
            name,
            shown,
            f"Above zero throughout: the positive {what} survives resampling.",
            "good",
        )
    if hi < 0:
        return (
            name,
            shown,
            f"Below zero throughout: the {what} is negative in nearly every resample.",
            "bad",
        )
    return (
        name,
        shown,
        f"Includes zero: the returns cannot tell this {what} apart from none.",
        "bad",
    )


# What an interval's sign says, by metric ("": nothing).
_WHAT = {"sharpe": "risk-adjusted return", "information_ratio": "edge over the benchmark",
         "sortino": "downside-adjusted return", "cagr": "growth of capital",
         "total_return": "growth of capital", "calmar": "return per drawdown"}  # fmt: skip


def honesty_panel(h: Mapping, ranked_by: str) -> list[tuple[str, str, list[Row]]]:
    """(title, why, rows) per section of the panel for the honesty block ``h``
    (``engine.research.honesty.honesty``) of a grid ranked by the metric labelled ``ranked_by``."""
    total = int(_num(h["trials"]))
    cash, bench, ranking = h["over_cash"], h["vs_benchmark"], h["ranking"]
    key = bench.get("benchmark", "the benchmark")
    sections = []
    for side, name, title, why in (
        (cash, "Sharpe ratio", "Over cash: the Sharpe ratio of excess returns",
         "Excess returns over the cash rate: what holding anything earned over holding cash."),
        (bench, "information ratio",
         f"Against buy-and-hold {key}: the information ratio of active returns",
         f"Active returns: the strategy's return minus buy-and-hold {key}'s, per valuation "
         "session. A rotation is judged against what it rotates out of: a Sharpe ratio over cash "
         "can come from market exposure alone."),
    ):  # fmt: skip
        rows = [_trials_row(side, name, ranked_by, total), *_dsr_rows(side, name),
                _pbo_row(side, f"{name} ({side['metric']})"),
                _ci_row(side["metric"], side["ci95"], _WHAT[side["metric"]])]  # fmt: skip
        sections.append((title, why, rows))
    if ranking.get("same_as") is None:
        metric = ranking["metric"]
        ranked_by = label_value(metric)[0]
        rows = [
            _pbo_row(ranking, f"{ranked_by} ({metric}, {ranking['direction']} is better)"),
            _ci_row(metric, ranking.get("ci95"), _WHAT.get(metric, ""), ranking.get("ci95_note")),
            ("Deflated ratio", "not defined", "Not defined: the deflated Sharpe ratio deflates "
             "Sharpe-type ratios (a mean over a standard deviation); see the sections above.", ""),
        ]  # fmt: skip
        why = (
            f"The grid chose its winner by {ranked_by}: the probability of backtest overfitting "
            "of that choice, and an interval of the winner's value."
        )
        sections.append((f"By the ranking metric: {ranked_by}", why, rows))
    sections.append(("Growth", "", [_ci_row("cagr", h["cagr_ci95"], "growth of capital")]))
    return sections
