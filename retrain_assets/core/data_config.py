"""Builds the configured `BarSource` from plain settings (read elsewhere, passed in)."""

from pathlib import Path

from retrain_assets.core.errors import DataSourceError, PermanentError
from retrain_assets.core.file_source import FileSource
from retrain_assets.core.market_data import BarSource
from retrain_assets.core.synthetic import SyntheticSource

SOURCE_KINDS = ("synthetic", "files", "exchange")


def source_from_settings(kind: str, data_dir: str | None, exchange_id: str | None) -> BarSource:
    """Returns the bar source that the settings name.

    Args:
        kind: One of `SOURCE_KINDS` (case and surrounding spaces ignored).
        data_dir: The candle folder; required for "files", ignored otherwise.
        exchange_id: The ccxt exchange id for "exchange"; defaults to "binance".

    Returns:
        A `SyntheticSource`, `FileSource` or `ExchangeSource`.

    Raises:
        PermanentError: `kind` is unknown.
        DataSourceError: "files" without a folder, or an unknown exchange id.
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
        from retrain_assets.core.exchange_source import ExchangeSource

        return ExchangeSource((exchange_id or "binance").strip().lower())
    raise PermanentError(
        f"unknown market-data source {kind!r}: choose one of {', '.join(SOURCE_KINDS)}"
    )
