"""The backtest command: a thin shell that parses, calls the library, prints and maps errors to exit codes."""
