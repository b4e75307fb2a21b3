"""Grid chunks on a local Dask cluster: bit-identical to in-process, and a killed worker's chunks
are retried so the run still completes correctly."""

from __future__ import annotations

import os
import signal

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="the cluster path needs the 'distributed' package")

from engine.backtest.run import RunConfig, prepare  # noqa: E402
from engine.errors import ConfigError  # noqa: E402
from engine.research.cluster import DaskExecutor, parse_cluster  # noqa: E402
from engine.research.grid import simulate_combos  # noqa: E402
from engine.strategy.space import Space  # noqa: E402
from strategies import get_strategy  # noqa: E402

FLAGSHIP = get_strategy("russell-fed-rotation")
CFG = RunConfig(start=pd.Timestamp("2016-01-01"), end=pd.Timestamp("2018-12-31"))


@pytest.fixture(scope="module")
def work():
    combos = Space.from_specs(FLAGSHIP, ["hold_days=5:60:5", "cut_window_days=10,60"]).combos()
    p = prepare(FLAGSHIP(), CFG)
    return p, combos, simulate_combos(FLAGSHIP, p, CFG, combos, chunk=3)


@pytest.mark.slow
def test_local_cluster_matches_in_process_and_survives_a_killed_worker(work):
    p, combos, (table, blocks) = work
    killed = []
    with DaskExecutor("local:2") as ex:

        def progress(n):  # kill one worker as soon as the first chunk is back
            if not killed:
                victim = sorted(ex.client.scheduler_info()["workers"])[0]
                pid = ex.client.run(os.getpid, workers=[victim])[victim]
                killed.append(victim)
                os.kill(pid, signal.SIGKILL)

        dask_table, dask_blocks = simulate_combos(FLAGSHIP, p, CFG, combos, chunk=3,
                                                  progress=progress, executor=ex)  # fmt: skip
    assert killed
    pd.testing.assert_frame_equal(dask_table, table)
    assert np.array_equal(dask_blocks, blocks)


@pytest.mark.parametrize("spec", ["local:0", "local", "http://x:1", "tcp://nohost"])
def test_bad_cluster_specs_are_clear_errors(spec):
    with pytest.raises(ConfigError, match="local:N"):
        parse_cluster(spec)


@pytest.mark.slow
def test_chunks_whose_data_was_lost_are_sent_again(work):
    p, combos, (table, blocks) = work
    with DaskExecutor("local:1") as ex:
        real = ex.client.scatter
        calls = []

        def scatter_then_lose(*args, **kwargs):  # the first copy of the data dies at once
            future = real(*args, **kwargs)
            calls.append(future.key)
            if len(calls) == 1:
                ex.client.cancel(future)
            return future

        ex.client.scatter = scatter_then_lose
        dask_table, dask_blocks = simulate_combos(FLAGSHIP, p, CFG, combos, chunk=3, executor=ex)
    assert len(calls) >= 2  # the data went out again
    pd.testing.assert_frame_equal(dask_table, table)
    assert np.array_equal(dask_blocks, blocks)


@pytest.mark.slow
def test_killing_every_worker_twice_completes_or_fails_with_a_clear_message(work):
    # Seen once as a raw CommClosedError / FutureCancelledError traceback: now a chunk lost with
    # its worker is sent again (RETRIES times), and any other failure is a ConfigError.
    p, combos, (table, blocks) = work
    with DaskExecutor("local:2") as ex:
        rounds = []

        def progress(n):
            if len(rounds) < 2:
                rounds.append(n)
                for pid in ex.client.run(os.getpid).values():
                    os.kill(pid, signal.SIGKILL)

        try:
            dask_table, _ = simulate_combos(FLAGSHIP, p, CFG, combos, chunk=3,
                                            progress=progress, executor=ex)  # fmt: skip
        except ConfigError as exc:
            assert "no partial results were kept" in str(exc)
        else:
            pd.testing.assert_frame_equal(dask_table, table)
    assert len(rounds) == 2
