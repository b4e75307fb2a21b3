"""Research over many runs: grid search, walk-forward, Dask chunks, comparisons, the honesty statistics."""
