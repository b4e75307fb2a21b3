"""HTML pages and their charts: runs, grids and comparisons."""
