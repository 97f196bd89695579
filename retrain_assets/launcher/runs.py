"""What the launcher asks Dagster to run: one symbol-day, its assets and its tags."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from retrain_assets.vocabulary.keys import partition_tags, symbol_day_key


@dataclass(frozen=True)
class RunSpec:
    """One symbol-day run to execute locally or submit to a deployment.

    Attributes:
        date: The UTC day (YYYY-MM-DD).
        symbol: The trading symbol.
        job_name: The asset job (`retrain_symbol_day`).
        asset_keys: The asset keys to materialize, as key paths (e.g. `("model",)`).
        tags: The invocation's `RunTags.to_tags()`; partition tags are added by `run_tags`.
    """

    date: str
    symbol: str
    job_name: str
    asset_keys: tuple[tuple[str, ...], ...]
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def partition_key(self) -> str:
        """The `date|symbol` key."""
        return symbol_day_key(self.date, self.symbol)

    def run_tags(self) -> dict[str, str]:
        """Every tag of the run: the invocation's and the partition's."""
        return {**self.tags, **partition_tags(self.date, self.symbol)}
