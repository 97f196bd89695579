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
    """Too few bars or feature rows for a symbol to build features, train and test.

    `found` and `needed` count `unit`s (bars by default); `reasons` says why the rest of
    the window was unusable, such as the rows a warm-up or a gap cost.
    """

    def __init__(
        self,
        symbol: str,
        found: int,
        needed: int,
        *,
        unit: str = "valid 1h bars",
        reasons: str = "",
    ) -> None:
        message = f"{symbol}: not enough history: {found:,} {unit} found, {needed:,} needed"
        super().__init__(f"{message}: {reasons}" if reasons else message)
        self.symbol = symbol
        self.found = found
        self.needed = needed
        self.unit = unit
        self.reasons = reasons


class IntegrityError(PermanentError):
    """An artifact whose bytes do not match the sha256 recorded for it."""


class TrainingTimeout(PermanentError):
    """A symbol's training ran past its per-symbol timeout (the same data and budget would
    again, so it is not retried)."""
