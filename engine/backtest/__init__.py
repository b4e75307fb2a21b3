"""One backtest: its config, preparing data once, running it, the event study and the run's diagnostics."""
