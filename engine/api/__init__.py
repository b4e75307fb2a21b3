"""The public Python API (``engine.run``, ``engine.grid``, ...; re-exported lazily by ``engine``)."""
