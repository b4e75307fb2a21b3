"""Strategies: Param and the Strategy base class, parameter spaces, strategy files, the lookahead audit."""
