"""``python -m engine ...`` behaves as ``backtest ...``."""

from engine.cli.main import main

main()
