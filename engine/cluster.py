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
RETRIES = 3


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

    def map_chunks(self, cls, prepared, cfg, parts, progress=None):
        from distributed import as_completed

        from engine.grid import simulate_chunk

        data = self.client.scatter(prepared, broadcast=True)
        futures = [self.client.submit(simulate_chunk, cls, data, cfg, part, retries=RETRIES,
                                      pure=False) for part in parts]  # fmt: skip
        sizes = {f.key: len(part) for f, part in zip(futures, parts, strict=True)}
        for future in as_completed(futures):
            if future.status == "error":
                raise ConfigError(
                    f"a grid chunk failed on the cluster after {RETRIES} retries: "
                    f"{future.exception()!r}; no partial results were kept."
                )
            if progress is not None:
                progress(sizes[future.key])
        return self.client.gather(futures)
