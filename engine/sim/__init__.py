"""Simulation: the accounting kernels (single run and grid), sparse orders, and the pandas-facing simulate."""
