"""Result folders: one atomic writer, run/grid folders and manifests, saved runs and re-running them."""
