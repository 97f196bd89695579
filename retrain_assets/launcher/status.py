"""One status record per symbol of an invocation: the ledger, progress and API results.

The instance's runs are the truth (for `--submit`, the deployment's instance); these records
are read from them (`launcher/ledger.py`) and exported to `runs/YYYYMMDDZ/status.json`.
"""

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

# `unknown`: a `--submit` run whose deployment stopped answering (see `unreachable_since`).
State = Literal["pending", "running", "success", "failed", "canceled", "skipped", "unknown"]
FINAL: frozenset[str] = frozenset({"success", "failed", "canceled", "skipped"})


@dataclass(frozen=True)
class SymbolStatus:
    """Where one symbol of an invocation stands.

    Attributes:
        symbol: The trading symbol.
        status: pending, running, success, failed, canceled, skipped, or unknown (its
            deployment stopped answering while it was queued or running there).
        run_id: The symbol-day's run (None while pending or when skipped).
        attempts: Attempts of its longest-retried step, once finished.
        started_at: ISO start time of the run.
        ended_at: ISO end time of the run.
        error_type: Failure type (e.g. `Timeout`, `IntegrityError`), when failed.
        error: One-line failure reason, when failed or canceled.
        stack_summary: The last frames of the failure, when failed.
        skip_reason: Why it was skipped.
        repaired: Why an earlier, recorded result was rebuilt (missing or damaged files).
        stale: Why an earlier result made another way was rebuilt (`data source synthetic
            seed 7 -> files /data`, `method lookback_days 180 -> 120`).
        assets: The assets this invocation materializes for it.
        reused: The intact upstream assets it reuses.
        metrics_path: Its metrics.json, once it has one.
        net_bps_after_costs: The headline metric, once it has one (only with evidence).
        net_bps_per_trade: The held-out net per trade after costs, whatever the evidence.
        net_bps_interval: Its 95% interval, `(low, high)`.
        trades: The held-out trades behind it.
        evidence: `ok`, or `insufficient_evidence` below the minimum trades.
        champion: What the decision did, in the CLI's words (`launcher.ledger.champion_of_run`):
            `champion promoted`, `kept (champion since D; ...)`, `no champion yet (...)` or
            `champion demoted, now flat (why)`.
        source: The data source its result was made from (`files /data/binance`).
        method: The method digest of its result (the settings are in its metadata).
        unreachable_since: When the `--submit` deployment stopped answering (ISO time), on
            the symbols it left unknown or unsubmitted.
    """

    symbol: str
    status: State = "pending"
    run_id: str | None = None
    attempts: int | None = None
    started_at: str | None = None
    ended_at: str | None = None
    error_type: str | None = None
    error: str | None = None
    stack_summary: str | None = None
    skip_reason: str | None = None
    repaired: str | None = None
    stale: str | None = None
    assets: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()
    metrics_path: str | None = None
    net_bps_after_costs: float | None = None
    net_bps_per_trade: float | None = None
    net_bps_interval: tuple[float, float] | None = None
    trades: int | None = None
    evidence: str | None = None
    champion: str | None = None
    source: str | None = None
    method: str | None = None
    unreachable_since: str | None = None

    @property
    def run_folder(self) -> str | None:
        """The run folder holding every artifact of the symbol-day."""
        return str(Path(self.metrics_path).parent) if self.metrics_path else None

    @property
    def metrics(self) -> dict[str, Any] | None:
        """The symbol's metrics.json, when it has one."""
        if not self.metrics_path or not Path(self.metrics_path).exists():
            return None
        return dict(json.loads(Path(self.metrics_path).read_text()))

    @property
    def final(self) -> bool:
        """True once the symbol will not change in this invocation."""
        return self.status in FINAL

    @property
    def ok(self) -> bool:
        """Success or skipped (already done)."""
        return self.status in ("success", "skipped")

    def with_run(self, **changes: Any) -> "SymbolStatus":
        """A copy with run facts filled in."""
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The status.json entry: set fields only."""
        data = asdict(self)
        data["assets"] = list(self.assets)
        data["reused"] = list(self.reused)
        return {k: v for k, v in data.items() if v not in (None, [], ()) and k != "symbol"}
