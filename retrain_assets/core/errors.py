"""Domain errors, split by whether retrying can fix them.

The scheduler retries a `TransientError` (and any unexpected exception) with backoff; a
`PermanentError` fails the symbol at once, because running it again gives the same answer.
"""


class RetrainError(Exception):
    """Base class of every error this project raises on purpose."""


class PermanentError(RetrainError):
    """An error that a retry cannot fix: bad input, not enough data, bad configuration."""


class TransientError(RetrainError):
    """An error worth retrying: a network hiccup, a busy remote store."""


class InvalidSymbolError(PermanentError):
    """A symbol or symbol selection that does not name a tradable pair."""


class DataSourceError(PermanentError):
    """A market-data source that is misconfigured or has nothing for a symbol."""


class InsufficientHistoryError(PermanentError):
    """Too few bars for a symbol to build features, train and test."""

    def __init__(self, symbol: str, found: int, needed: int) -> None:
        super().__init__(
            f"{symbol}: not enough history: {found} valid 1h bars found, {needed} needed"
        )
        self.symbol = symbol
        self.found = found
        self.needed = needed


class IntegrityError(PermanentError):
    """An artifact whose bytes do not match the sha256 recorded for it."""


class TrainingTimeout(TransientError):
    """A symbol's training ran past its per-symbol timeout."""
