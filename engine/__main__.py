"""``python -m engine ...`` behaves as ``backtest ...``."""

from engine.cli import main

main()
