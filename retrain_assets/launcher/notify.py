"""Telegram messages of the launcher's own invocations (CLI, API, `--submit`).

Runs of these invocations carry a self-reporting `retrain/source`, so the sensors leave them
alone and each message is sent once, from here. Nothing here ever raises: Telegram being
down or unconfigured must not fail an invocation. A message that could not be sent costs the
console one short line, the first time only; each failure's whole (masked) error goes to the
day's engine log as a `notification_failed` event.
"""

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import dagster as dg

from resources.notifier import telegram_from_env
from resources.settings import artifact_root as resolve_artifact_root
from retrain_assets.adapters.logging_setup import EventLog
from retrain_assets.adapters.telegram import (
    TelegramClient,
    best_and_worst,
    format_completion,
    format_failure,
    format_lifecycle,
    format_start,
    run_url,
)
from retrain_assets.core.redaction import redact, secrets_from_env
from retrain_assets.defs.lifecycle_records import lifecycle_of
from retrain_assets.defs.summary_records import run_net_bps
from retrain_assets.launcher.status import SymbolStatus

logger = logging.getLogger(__name__)


class InvocationNotifier:
    """Sends one invocation's start, failure and completion messages.

    Args:
        environ: Where TELEGRAM_TOKEN, TELEGRAM_CHAT_ID, TELEGRAM_API_BASE_URL and
            DAGSTER_UI_BASE_URL are read, once, when the notifier is made (and
            RETRAIN_ARTIFACT_ROOT and STRUCTLOG_LEVEL, for the engine log).
        log: Where a skipped message, or the first failed one, is reported in one short line.
        artifact_root: The root of the `logs/` folder; by default the one `environ` names.
    """

    def __init__(
        self,
        environ: Mapping[str, str] = os.environ,
        log: logging.Logger = logger,
        artifact_root: Path | None = None,
    ) -> None:
        resource = telegram_from_env(environ)
        self._log = log
        self._environ = environ
        self._artifact_root = artifact_root
        self._mode = ""
        self._said_not_sent = False
        self._label = resource.label
        self._ui_base_url = resource.ui_base_url
        self._missing = resource.missing()
        self._secrets = [*resource.secrets(), *secrets_from_env(environ)]
        self._client: TelegramClient | None = None
        self._said_skipped = False
        try:
            self._client = resource.client()
        except Exception as exc:  # a malformed setting disables messages, never the run
            self._warn("Telegram client not created", exc)

    @property
    def enabled(self) -> bool:
        """Whether messages are sent (credentials configured)."""
        return self._client is not None

    def start(self, date: str, total_symbols: int, mode: str, dry_run: bool) -> bool:
        """Announces the invocation. Returns whether the message went out."""
        shown = mode + (" (dry run)" if dry_run else "")
        self._mode = mode
        return self._send(
            "start", date, lambda: format_start(self._label, total_symbols, shown, date)
        )

    def failure(
        self, symbol: str, date: str, error_type: str, reason: str, run_id: str | None
    ) -> bool:
        """Alerts one symbol that failed for good. Returns whether the message went out."""
        url = run_url(self._ui_base_url, run_id) if run_id else None
        return self._send(
            "failure",
            date,
            lambda: format_failure(symbol, date, error_type, reason, url, secrets=self._secrets),
            symbol=symbol,
            run_id=run_id,
        )

    def completion(
        self,
        date: str,
        statuses: Sequence[SymbolStatus],
        duration_s: float,
        mode: str,
        *,
        instance: dg.DagsterInstance | None = None,
        net_bps: Mapping[str, float] | None = None,
        headline: str | None = None,
    ) -> bool:
        """Summarizes the finished invocation. Returns whether the message went out.

        Args:
            date: The trained day.
            statuses: Every symbol of the invocation, skipped ones included.
            duration_s: Wall-clock seconds of the invocation.
            mode: The scheduling mode (the start message showed it; kept for the record).
            instance: Reads a successful run's `net_bps_after_costs` from its `metrics`
                materialization when neither `net_bps` nor its status has the figure.
            net_bps: Net bps after costs by symbol, when the caller already has them.
            headline: The production table's headline of the date (`core.desk.headline`),
                from the summary the invocation refreshed.

        Returns:
            True when the summary was sent.
        """
        del mode  # the completion text does not repeat it
        return self._send(
            "completion",
            date,
            lambda: self._completion_text(
                date, statuses, duration_s, instance, net_bps or {}, headline
            ),
        )

    def _completion_text(
        self,
        date: str,
        statuses: Sequence[SymbolStatus],
        duration_s: float,
        instance: dg.DagsterInstance | None,
        net_bps: Mapping[str, float],
        headline: str | None,
    ) -> str:
        succeeded = [s for s in statuses if s.status == "success"]
        scores: list[tuple[str, float]] = []
        for status in succeeded:
            net = net_bps.get(status.symbol, status.net_bps_after_costs)
            if net is None and instance is not None and status.run_id:
                net = run_net_bps(instance, status.run_id)
            if net is not None:
                scores.append((status.symbol, net))
        best, worst = best_and_worst(scores)
        lifecycle: list[str] = []
        if instance is not None:
            runs = [(s.symbol, s.run_id) for s in succeeded if s.run_id]
            found = lifecycle_of(instance, runs)
            lifecycle = format_lifecycle(
                found.promoted, found.kept_back, found.drifted, found.demoted
            )
        return format_completion(
            self._label,
            date,
            succeeded=len(succeeded),
            failed=sum(s.status in ("failed", "canceled") for s in statuses),
            skipped=sum(s.status == "skipped" for s in statuses),
            duration_s=duration_s,
            best=best,
            worst=worst,
            lifecycle=lifecycle,
            headline=headline,
        )

    def _send(
        self,
        kind: str,
        date: str,
        build: Callable[[], str],
        symbol: str | None = None,
        run_id: str | None = None,
    ) -> bool:
        if self._client is None:
            if not self._said_skipped:
                self._said_skipped = True
                self._log.info("Telegram notifications skipped: %s unset", ", ".join(self._missing))
            return False
        try:
            self._client.send(build())
        except Exception as exc:  # never fail the invocation over a message
            self._not_sent(kind, date, exc, symbol, run_id)
            return False
        return True

    def _not_sent(
        self, kind: str, date: str, exc: Exception, symbol: str | None, run_id: str | None
    ) -> None:
        """The whole error to the engine log; one short line on the console, the first time."""
        brief = redact(str(getattr(exc, "brief", "") or type(exc).__name__), self._secrets)
        where = self._log_failure(kind, date, exc, symbol, run_id)
        if not self._said_not_sent:
            self._said_not_sent = True
            self._log.warning("Telegram %s message not sent (%s); %s", kind, brief, where)

    def _log_failure(
        self, kind: str, date: str, exc: Exception, symbol: str | None, run_id: str | None
    ) -> str:
        """Writes a `notification_failed` event; returns where it went, for the console."""
        detail = redact(f"{type(exc).__name__}: {exc}", self._secrets)
        try:
            root = self._artifact_root or resolve_artifact_root(None, self._environ)
            log = EventLog.from_environ(root, date, run_id or "", self._mode, self._environ)
            written = log.emit(
                "notification_failed", symbol=symbol, level="error", kind=kind, error=detail
            )
        except Exception as log_error:  # a log that cannot be written must not fail the run
            return f"its details could not be logged ({type(log_error).__name__})"
        if not written:
            return "its details are below STRUCTLOG_LEVEL"
        return f"details in {log.engine_log.relative_to(root)}"

    def _warn(self, what: str, exc: BaseException) -> None:
        detail = redact(f"{type(exc).__name__}: {exc}", self._secrets)
        self._log.warning("%s: %s", what, " ".join(detail.split())[:200])
