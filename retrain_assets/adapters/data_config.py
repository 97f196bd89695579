"""Builds the configured `BarSource` from plain settings (read elsewhere, passed in)."""

from pathlib import Path

from retrain_assets.adapters.file_source import FileSource
from retrain_assets.core.data.market_data import BarSource
from retrain_assets.core.data.synthetic import SyntheticSource
from retrain_assets.core.errors import DataSourceError, PermanentError

SOURCE_KINDS = ("synthetic", "files", "exchange")


def source_from_settings(
    kind: str, data_dir: str | None, exchange_id: str | None, api_url: str | None = None
) -> BarSource:
    """Returns the bar source that the settings name.

    Args:
        kind: One of `SOURCE_KINDS` (case and surrounding spaces ignored).
        data_dir: The candle folder; required for "files", ignored otherwise.
        exchange_id: The ccxt exchange id for "exchange"; defaults to "binance".
        api_url: For "exchange" in tests only: a local fake's `http://127.0.0.1:PORT`, which
            every API URL of the exchange is pointed at.

    Returns:
        A `SyntheticSource`, `FileSource` or `ExchangeSource`.

    Raises:
        PermanentError: `kind` is unknown.
        DataSourceError: "files" without a folder, an unknown exchange id, or an `api_url`
            that is not a loopback `http://` address.
    """
    choice = (kind or "").strip().lower()
    if choice == "synthetic":
        return SyntheticSource()
    if choice == "files":
        if not data_dir or not data_dir.strip():
            raise DataSourceError("market-data source 'files' needs a data folder; none was set")
        return FileSource(Path(data_dir.strip()))
    if choice == "exchange":
        # Imported here so that offline deployments never import ccxt.
        from retrain_assets.adapters.exchange_fees import loopback_api_urls
        from retrain_assets.adapters.exchange_source import ExchangeSource

        exchange = (exchange_id or "binance").strip().lower()
        urls = loopback_api_urls(exchange, api_url) if api_url else None
        return ExchangeSource(exchange, urls_override=urls)
    raise PermanentError(
        f"unknown market-data source {kind!r}: choose one of {', '.join(SOURCE_KINDS)}"
    )
