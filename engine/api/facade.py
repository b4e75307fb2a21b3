"""The public Python API: what ``import engine`` (or ``import crosscurrent``) offers a notebook.

``load`` (market data), ``run`` (one backtest), ``grid`` (a parameter search with honesty and
optional walk-forward), ``compare`` (strategies side by side), ``events`` (the event study),
``audit`` (the lookahead audit) and ``strategies`` (the built-ins). Each is the CLI command of the
same name without the shell: the same checks, the same numbers, the same folders on ``save()``.

A strategy is given by built-in name, ``Strategy`` class or instance, or file path (``"my.py"`` or
``"my.py:MyStrategy"``); parameters and run options are keyword arguments
(``run("russell-fed-rotation", hold_days=40, fees_bps=5)``); an unknown keyword is an error that
names the close matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pandas as pd

from engine import paths
from engine.api.builtins import registry, resolve
from engine.api.market import Market
from engine.api.research import Compared, GridSearch, Study
from engine.api.results import Backtest
from engine.backtest.run import RunConfig, parse_date, run_backtest
from engine.errors import ConfigError, did_you_mean
from engine.strategy.base import Strategy

OPTIONS = tuple(f.name for f in fields(RunConfig) if f.name not in ("data_dir", "start", "end"))


def load(data_dir: str | Path | None = None) -> Market:
    """Every series in ``data_dir`` (default: the embedded synthetic sample), validated as a run
    validates it; ``market["RUT"]`` is a DataFrame, ``market.closes()`` one column per price."""
    return Market.load(Path(data_dir) if data_dir is not None else paths.sample_dir())


def _folder(data) -> Path | None:
    if data is None:
        return None
    if isinstance(data, Market):
        return data.folder
    if isinstance(data, str | Path):
        return Path(data)
    raise ConfigError(
        f"data={data!r}: give a data folder path or what engine.load() returned (or None for the "
        "embedded sample)."
    )


def _split(strategy: Strategy, kwargs: dict[str, Any], extra: Iterable[str] = ()):
    """Keyword arguments -> (strategy parameters, run options); unknown names are errors."""
    names = {p.name for p in type(strategy).params}
    params, options = {}, {}
    for key, value in kwargs.items():
        if key in names:
            params[key] = value
        elif key in OPTIONS:
            options[key] = value
        else:
            known = [*names, *OPTIONS, *extra]
            raise ConfigError(
                f"{key}={value!r} is neither a parameter of {strategy.name} nor a run option."
                f"{did_you_mean(key, known)} Parameters: {', '.join(sorted(names)) or '(none)'}; "
                f"options: {', '.join(OPTIONS)}."
            )
    return params, options


def config(data=None, start=None, end=None, **options: Any) -> RunConfig:
    """A ``RunConfig`` from Python values (dates as text, ``date`` or ``Timestamp``)."""
    unknown = [k for k in options if k not in OPTIONS]
    if unknown:
        raise ConfigError(
            f"unknown run option {unknown[0]!r}.{did_you_mean(unknown[0], OPTIONS)} "
            f"Options: {', '.join(OPTIONS)}."
        )
    return RunConfig(
        data_dir=_folder(data),
        start=parse_date(start, "start"),
        end=parse_date(end, "end"),
        **options,
    )


def _strategy(strategy, params: dict[str, Any]) -> Strategy:
    base = resolve(strategy)
    if not params:
        return base
    return type(base)(**{**base.values, **params})


def run(strategy, *, data=None, start=None, end=None, **params_and_options: Any) -> Backtest:
    """One backtest, as ``backtest run``: ``run("russell-fed-rotation", hold_days=40,
    start="2010-01-01", fees_bps=5)``. Returns a ``Backtest`` (``.equity``, ``.stats()``,
    ``.plot()``, ``.save()``, ``.to_vectorbt()``)."""
    base = resolve(strategy)
    params, options = _split(base, params_and_options)
    cfg = config(data, start, end, **options)
    return Backtest(run_backtest(_strategy(base, params), cfg))


def grid(
    strategy,
    *,
    data=None,
    start=None,
    end=None,
    metric: str = "sharpe",
    walk_forward: str | None = None,
    constraint: str | None = None,
    samples: int | None = None,
    seed: int = 0,
    top: int = 20,
    progress: Callable[[int], None] | None = None,
    **ranges_and_options: Any,
) -> GridSearch:
    """A grid search, as ``backtest grid``: parameters as Python values or ranges
    (``grid("russell-fed-rotation", hold_days=range(5, 61, 5), cut_window_days=[10, 30, 60])``),
    ranked by ``metric``; ``walk_forward="train=5y,test=1y"`` adds a walk-forward; ``samples``
    draws that many combos at random with ``seed``. ``progress(n)`` is called as chunks finish."""
    from engine.research.grid import rank, run_grid
    from engine.research.walkforward import parse_walk_forward, run_walk_forward
    from engine.store.grid_folder import grid_summary
    from engine.strategy.space import Space, apply_constraint

    cls = type(resolve(strategy))
    ranges, options = _split(cls(), ranges_and_options)
    if samples is not None and samples < 1:
        raise ConfigError(f"samples must be at least 1; got {samples} (None for all).")
    space = Space.from_values(cls, ranges)
    combos = space.sample(samples, seed) if samples is not None else space.combos()
    combos = apply_constraint(combos, constraint)
    rank(combos.head(0).assign(**{metric: []}), metric)  # an unknown metric fails before the work
    wf_spec = parse_walk_forward(walk_forward) if walk_forward else None
    cfg = config(data, start, end, **options)
    res = run_grid(cls, combos, cfg, metric=metric, progress=progress)
    summary = grid_summary(res, space.axes, constraint, samples, seed if samples else None, top)
    wf = None
    if wf_spec is not None:
        wf = run_walk_forward(cls, combos, cfg, wf_spec, metric, progress=progress,
                              full_best=res.winner.strategy.values)  # fmt: skip
        summary["walk_forward"] = {k: v for k, v in wf.items() if k != "equity"}
    return GridSearch(res, summary, space.varied, wf)


def _compare_input(item, index: int, root: Path | None, trust):
    from engine.research.compare import Input
    from engine.store.compare_folder import resolve_input

    if isinstance(item, Backtest):
        strat = item.strategy
        return Input(_label(strat), f"<result {index + 1}>", strat)
    code = (".py", ".toml")
    if isinstance(item, str) and not item.lower().endswith(code) and ".py:" not in item:
        return resolve_input(item, registry(), root, trust)  # a name, NAME:k=v or a run id
    strat = resolve(item)
    return Input(_label(strat), _label(strat), strat)


def _label(strat: Strategy) -> str:
    defaults = type(strat)().values if type(strat).params else {}
    changed = [f"{k}={v}" for k, v in strat.values.items() if defaults.get(k) != v]
    return f"{strat.name}:{','.join(changed)}" if changed else strat.name


def compare(
    *inputs,
    data=None,
    start=None,
    end=None,
    seed: int = 20250918,
    resamples: int = 2000,
    block: float | None = None,
    results: str | Path | None = None,
    trust_files: Iterable[str | Path] = (),
    trust: bool = False,
    **options: Any,
) -> Compared:
    """Strategies side by side, as ``backtest compare``: each input a built-in name, a
    ``"NAME:k=v,k=v"`` variant, a saved run id, a ``Strategy`` class or instance, a file path or a
    ``Backtest``; all run under one config (``**options``) on the same data and window."""
    import dataclasses

    from engine.research.compare import Bootstrap, run_compare
    from engine.store.saved import Trust

    if len(inputs) < 2:
        raise ConfigError(f"compare needs at least two inputs; got {len(inputs)}.")
    consent = Trust(tuple(Path(p) for p in trust_files), trust)
    root = Path(results) if results is not None else None
    specs, seen = [], {}
    for i, item in enumerate(inputs):
        inp = _compare_input(item, i, root, consent)
        seen[inp.label] = seen.get(inp.label, 0) + 1
        if seen[inp.label] > 1:
            inp = dataclasses.replace(inp, label=f"{inp.label} #{seen[inp.label]}")
        specs.append(inp)
    cfg = config(data, start, end, **options)
    boot = Bootstrap(resamples=resamples, block=block, seed=seed)
    return Compared(run_compare(specs, cfg, boot))


def events(
    strategy,
    *,
    data=None,
    start=None,
    end=None,
    fill: str = "open",
    seed: int = 20250918,
    allow_stale_open: bool = False,
    **params: Any,
) -> Study:
    """The event study, as ``backtest events``: every signal and the traded asset's forward
    returns after it, against the same horizons over all sessions."""
    from engine.backtest.eventstudy import StudyConfig
    from engine.backtest.study import study

    base = resolve(strategy)
    strat_params, options = _split(base, params)
    if options:
        raise ConfigError(
            f"events takes strategy parameters, data, start, end, fill, seed and "
            f"allow_stale_open; not {', '.join(options)}."
        )
    cfg = StudyConfig(fill=fill, seed=seed, start=parse_date(start, "start"),
                      end=parse_date(end, "end"))  # fmt: skip
    result, _ = study(_strategy(base, strat_params), _folder(data), cfg, allow_stale_open)
    return Study(result)


def audit(strategy, *, data=None, fill: str = "open", seed: int = 0, **params: Any):
    """The lookahead audit, as ``backtest audit``: cut the data after many instants; decisions
    before each cut must not change. Returns an ``AuditResult`` (``.passed``, ``.message()``)."""
    from engine.strategy.audit import audit as run_audit
    from engine.strategy.base import strategy_context

    if fill not in ("open", "close"):
        raise ConfigError(f"fill must be 'open' or 'close'; got {fill!r}.")
    base = resolve(strategy)
    strat_params, options = _split(base, params)
    if options:
        raise ConfigError(f"audit takes strategy parameters; not {', '.join(options)}.")
    strat = _strategy(base, strat_params)
    _, ctx = strategy_context(strat, _folder(data), fill)
    return run_audit(strat, ctx, seed=seed)


def strategies() -> pd.DataFrame:
    """The built-in strategies: name, rule and parameters (with defaults), one row each."""
    rows = []
    for name, cls in sorted(registry().items()):
        params = ", ".join(f"{p.name}={p.default}" for p in cls.params) or "-"
        rows.append({"name": name, "rule": cls.rule, "parameters": params})
    return pd.DataFrame(rows).set_index("name")
