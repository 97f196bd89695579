"""The market-data source, checked like every other input: before anything is created.

The source must build from its settings, answer (its folder lists, its exchange's markets
load), and serve every symbol a list selection names, each with data it can read. A `topN`
selection is ranked from the source's own candidates later, so only the source is checked.
"""

from resources.market_data import MarketDataResource
from retrain_assets.core.data.market_data import BarSource
from retrain_assets.core.data.symbols import Selection, require_symbols
from retrain_assets.core.errors import (
    DataSourceError,
    InvalidSymbolError,
    PermanentError,
    TransientError,
)

# The resource field, and its variable, that a failing source of each kind is set by.
_SETTING_OF_KIND = {
    "files": ("data_dir", "RETRAIN_DATA_DIR"),
    "exchange": ("exchange_id", "RETRAIN_EXCHANGE"),
}


def market_data_resource() -> MarketDataResource:
    """The `market_data` resource as the definitions build it: the settings file's section
    (`RETRAIN_SETTINGS`), else the environment.

    Raises:
        PermanentError: The settings file is unusable (one line naming it).
    """
    from resources.settings_file import configured, settings_sections

    return configured(MarketDataResource, "market_data", settings_sections())


def _setting(resource: MarketDataResource, kind: str) -> str:
    """What to fix: the variable, or the settings-file field when the file sets it."""
    field, variable = _SETTING_OF_KIND.get(kind, ("source", "RETRAIN_DATA_SOURCE"))
    return f"RETRAIN_SETTINGS market_data.{field}" if getattr(resource, field) else variable


def checked_source(resource: MarketDataResource | None = None) -> BarSource:
    """The configured source, proven to answer; errors name the setting to fix.

    Raises:
        PermanentError: The source is unknown, misconfigured or unusable (one line).
        TransientError: The exchange could not be reached.
    """
    resource = resource or market_data_resource()
    kind = resource.resolved()[0].strip().lower()
    try:
        source = resource.bar_source()
        source.candidates()
    except TransientError as exc:
        raise TransientError(f"market data ({kind}) cannot be reached: {exc}") from None
    except DataSourceError as exc:
        raise DataSourceError(f"{_setting(resource, kind)}: {exc}") from None
    except PermanentError as exc:
        raise PermanentError(f"{_setting(resource, 'unknown')}: {exc}") from None
    return source


def check_market_data(
    selection: Selection, source: BarSource | None = None, flag: str = "--symbols"
) -> BarSource:
    """The source checked, and every symbol of a list selection found in it.

    Raises:
        InvalidSymbolError: A symbol is not one of the source's (named, with the source).
        PermanentError: The source or a symbol's data is unusable (one line).
        TransientError: The source could not be reached.
    """
    source = source or checked_source()
    if selection.kind == "list":
        try:
            require_symbols(selection.symbols, source)
        except InvalidSymbolError as exc:
            raise InvalidSymbolError(f"{flag}: {exc}") from None
        except DataSourceError as exc:
            raise DataSourceError(f"{flag}: {exc}") from None
    return source
