"""Market data: bars, gaps, checks, features, symbols, sources' shared types."""
