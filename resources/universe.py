"""Symbol universe resource: which symbols the desk trains."""

import dagster as dg
import pandas as pd
from pydantic import Field

from resources.settings import setting
from retrain_assets.core.market_data import BarSource
from retrain_assets.core.symbols import Selection, parse_selection, resolve_selection

DEFAULT_SELECTION = "top20"


class SymbolUniverseResource(dg.ConfigurableResource):
    """The symbol selection: `topN`, a comma list, or a CSV file."""

    selection: str | None = Field(
        default=None,
        description="topN | SYM1,SYM2 | path/to/symbols.csv; unset: $RETRAIN_SYMBOLS, else top20.",
    )

    def parsed(self) -> Selection:
        """The validated selection (raises InvalidSymbolError before any work starts)."""
        return parse_selection(str(setting(self.selection, "RETRAIN_SYMBOLS", DEFAULT_SELECTION)))

    def symbols(self, source: BarSource, as_of_end: pd.Timestamp) -> list[str]:
        """The symbols selected as of `as_of_end` (top-N is ranked on past volume only)."""
        return resolve_selection(self.parsed(), source, as_of_end)
