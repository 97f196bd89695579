"""The market-data source, checked like every other input: before anything is created.

The source must build from its settings, answer (its folder lists, its exchange's markets
load), and serve every symbol a list selection names, each with data it can read. A `topN`
selection is ranked from the source's own candidates later, so only the source is checked.
"""

from resources.market_data import MarketDataResource
from retrain_assets.core.errors import (
    DataSourceError,
    InvalidSymbolError,
    PermanentError,
    TransientError,
)
from retrain_assets.core.market_data import BarSource
from retrain_assets.core.symbols import Selection, require_symbols

# The variable a failing source of each kind is set by (an unknown kind: RETRAIN_DATA_SOURCE).
_SETTING_OF_KIND = {"files": "RETRAIN_DATA_DIR", "exchange": "RETRAIN_EXCHANGE"}


def checked_source(resource: MarketDataResource | None = None) -> BarSource:
    """The configured source, proven to answer; errors name the variable to fix.

    Raises:
        PermanentError: The source is unknown, misconfigured or unusable (one line).
        TransientError: The exchange could not be reached.
    """
    resource = resource or MarketDataResource()
    kind = resource.resolved()[0].strip().lower()
    variable = _SETTING_OF_KIND.get(kind, "RETRAIN_DATA_SOURCE")
    try:
        source = resource.bar_source()
        source.candidates()
    except TransientError as exc:
        raise TransientError(f"market data ({kind}) cannot be reached: {exc}") from None
    except DataSourceError as exc:
        raise DataSourceError(f"{variable}: {exc}") from None
    except PermanentError as exc:
        raise PermanentError(f"RETRAIN_DATA_SOURCE: {exc}") from None
    return source


def check_market_data(selection: Selection, flag: str = "--symbols") -> BarSource:
    """The source checked, and every symbol of a list selection found in it.

    Raises:
        InvalidSymbolError: A symbol is not one of the source's (named, with the source).
        PermanentError: The source or a symbol's data is unusable (one line).
        TransientError: The source could not be reached.
    """
    source = checked_source()
    if selection.kind == "list":
        try:
            require_symbols(selection.symbols, source)
        except InvalidSymbolError as exc:
            raise InvalidSymbolError(f"{flag}: {exc}") from None
        except DataSourceError as exc:
            raise DataSourceError(f"{flag}: {exc}") from None
    return source
