"""Statistics: metric kernels (numba), metric definitions, overfitting statistics (DSR, PBO, bootstrap)."""
