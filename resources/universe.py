"""Symbol universe resource: which symbols the desk trains."""

import dagster as dg
from pydantic import Field

from resources.settings import setting
from retrain_assets.adapters.symbol_files import read_symbol_file
from retrain_assets.core.data.market_data import BarSource
from retrain_assets.core.data.symbols import Selection, parse_selection, universe_for_day

DEFAULT_SELECTION = "top20"


class SymbolUniverseResource(dg.ConfigurableResource):
    """The symbol selection: `topN`, a comma list, or a CSV file."""

    selection: str | None = Field(
        default=None,
        description="topN | SYM1,SYM2 | path/to/symbols.csv; unset: $RETRAIN_SYMBOLS, else top20.",
    )

    def parsed(self) -> Selection:
        """The validated selection (raises InvalidSymbolError before any work starts)."""
        spec = str(setting(self.selection, "RETRAIN_SYMBOLS", DEFAULT_SELECTION))
        return parse_selection(spec, read_symbol_file)

    def symbols(self, source: BarSource, date: str) -> list[str]:
        """The symbols of day `date` (top-N ranked on volume known at its 00:00 UTC)."""
        return universe_for_day(self.parsed(), source, date)
