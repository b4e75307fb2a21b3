"""Market data: instruments, calendars, central-bank events, readers, validation, cache,
providers and the synthetic sample."""
