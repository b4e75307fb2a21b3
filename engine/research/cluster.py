"""Running grid chunks on a Dask cluster (``distributed``): a local one or a scheduler address.

Lives here: ``parse_cluster`` (``local:N`` or ``tcp://HOST:PORT``) and ``DaskExecutor``, whose
``map_chunks`` ships the prepared data to every worker once (``scatter(broadcast=True)``), submits
one task per chunk (each retried on another worker if its worker dies), reports progress as chunks
finish, and returns the results in chunk order - so the table is identical to an in-process run.
Workers need this package installed (same version); the data travel with the tasks.
Not here: what a chunk computes (``grid.simulate_chunk``).
"""

from __future__ import annotations

import re

from engine.errors import ConfigError

_LOCAL = re.compile(r"^local:(\d+)$")
RETRIES = 3  # per chunk: task failures (Dask retries) and chunks lost with a worker (ours)
SCATTER_TIMEOUT = 120  # seconds to wait for workers to take the data or hand back a result


def parse_cluster(spec: str) -> tuple[str, int | str]:
    m = _LOCAL.match(spec)
    if m and int(m[1]) > 0:
        return "local", int(m[1])
    if spec.startswith("tcp://") and ":" in spec[6:]:
        return "address", spec
    raise ConfigError(
        f"--cluster {spec!r}: use local:N (N worker processes here) or tcp://HOST:PORT (a running "
        "Dask scheduler)."
    )


class DaskExecutor:
    """A context manager holding a Dask client; use ``map_chunks`` inside it."""

    def __init__(self, spec: str, threads_per_worker: int = 1) -> None:
        self.kind, self.target = parse_cluster(spec)
        self.threads = threads_per_worker
        self.client = self.cluster = None

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError(
                "--cluster needs the 'distributed' package; pip install 'crosscurrent[cluster]'."
            ) from None
        try:
            if self.kind == "local":
                self.cluster = LocalCluster(n_workers=self.target, threads_per_worker=self.threads,
                                            processes=True, host="127.0.0.1",
                                            dashboard_address=None)  # fmt: skip
                self.client = Client(self.cluster)
            else:
                self.client = Client(self.target, timeout="10s")
        except OSError as exc:
            raise ConfigError(f"--cluster {self.target}: cannot connect ({exc}).") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def map_chunks(self, cls, prepared, cfg, parts, progress=None, fields=None):
        """Results of ``grid.simulate_chunk`` for each of ``parts`` (keeping the per-block
        ``fields``, its default if None), in order. A task that fails
        is retried on another worker (``RETRIES`` times); a chunk lost with a worker (cancelled,
        its result gone, the connection closed) gets the data sent again and is resubmitted, up to
        ``RETRIES`` times per chunk. Anything else, or a chunk lost more often, stops the run with
        a ``ConfigError``: never a traceback, never a table with gaps."""
        try:
            return self._map(cls, prepared, cfg, parts, progress, fields)
        except ConfigError:
            raise
        except Exception as exc:  # distributed raises many kinds when workers die mid-call
            raise ConfigError(
                f"the Dask cluster failed while running the grid ({type(exc).__name__}: "
                f"{str(exc)[:200]}); no partial results were kept. Check the workers are alive "
                "(and have this package installed), then run again."
            ) from None

    def _map(self, cls, prepared, cfg, parts, progress, fields):
        from distributed import as_completed

        from engine.research.grid import simulate_chunk

        box = {"data": self.client.scatter(prepared, broadcast=True, timeout=SCATTER_TIMEOUT)}

        def submit(i: int):
            extra = () if fields is None else (fields,)
            return self.client.submit(simulate_chunk, cls, box["data"], cfg, parts[i], *extra,
                                      retries=RETRIES, pure=False)  # fmt: skip

        futures = [submit(i) for i in range(len(parts))]
        chunk_of = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * len(parts)
        lost = [0] * len(parts)
        pending = as_completed(futures)
        for future in pending:
            i = chunk_of[future.key]
            status, value = _outcome(future)
            if status == "finished":
                results[i] = value
                if progress is not None:
                    progress(len(parts[i]))
            elif status == "lost" and lost[i] < RETRIES:
                lost[i] += 1
                box["data"] = self.client.scatter(prepared, broadcast=True, timeout=SCATTER_TIMEOUT)
                again = submit(i)
                chunk_of[again.key] = i
                pending.add(again)
            else:
                raise ConfigError(
                    f"grid chunk {i + 1} of {len(parts)} failed on the cluster after {RETRIES} "
                    f"retries ({value}); no partial results were kept."
                )
        return results


def _outcome(future) -> tuple[str, object]:
    """("finished", result), ("lost", why) for a chunk lost with a worker, or ("error", why)."""
    if future.status == "error":
        try:
            return "error", repr(future.exception(timeout=SCATTER_TIMEOUT))
        except Exception as exc:  # the error itself may be gone with the worker
            return "lost", type(exc).__name__
    if future.status != "finished":
        return "lost", future.status
    try:
        return "finished", future.result(timeout=SCATTER_TIMEOUT)
    except Exception as exc:  # finished, but its result died with its worker before we read it
        return "lost", type(exc).__name__
