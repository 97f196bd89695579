"""Market data resource: one interface over the synthetic, files and exchange sources."""

import functools
from enum import Enum

import dagster as dg
from pydantic import Field

from resources.settings import setting
from retrain_assets.adapters.data_config import source_from_settings
from retrain_assets.core.data.market_data import BarSource


class SourceKind(Enum):
    """The three market-data sources."""

    SYNTHETIC = "synthetic"
    FILES = "files"
    EXCHANGE = "exchange"


# Tests only: the exchange source's API at a local fake (loopback `http://` only), as for fees.
EXCHANGE_API_URL_ENV = "RETRAIN_EXCHANGE_API_URL"


@functools.cache
def _cached_source(
    kind: str, data_dir: str | None, exchange_id: str | None, api_url: str | None
) -> BarSource:
    # One source per process: the files source caches parsed candles, the exchange its markets.
    return source_from_settings(kind, data_dir, exchange_id, api_url)


class MarketDataResource(dg.ConfigurableResource):
    """Where 1h OHLCV bars come from; unset fields fall back to the environment."""

    source: SourceKind | None = Field(
        default=None,
        description="synthetic | files | exchange; unset: $RETRAIN_DATA_SOURCE, else synthetic.",
    )
    data_dir: str | None = Field(
        default=None,
        description="Folder of candles for the files source; unset: $RETRAIN_DATA_DIR.",
    )
    exchange_id: str | None = Field(
        default=None,
        description="ccxt exchange id (exchange source); unset: $RETRAIN_EXCHANGE, else binance.",
    )

    def resolved(self) -> tuple[str, str | None, str | None]:
        """The (source, data_dir, exchange_id) in force for this run."""
        return (
            str(
                setting(
                    self.source.value if self.source else None, "RETRAIN_DATA_SOURCE", "synthetic"
                )
            ),
            setting(self.data_dir, "RETRAIN_DATA_DIR", None),
            setting(self.exchange_id, "RETRAIN_EXCHANGE", "binance"),
        )

    def bar_source(self) -> BarSource:
        """The configured source, shared by every asset of this process."""
        return _cached_source(*self.resolved(), setting(None, EXCHANGE_API_URL_ENV, None))
