"""The one Telegram notifier, of the launcher's invocations (CLI, API, `--submit`) and the sensors.

Made from the Telegram settings (a sensor's `TelegramResource`, or the environment for the
launcher), it writes the start, failure and completion messages and sends them. It never
raises: Telegram down, refusing or unconfigured fails neither an invocation nor a tick. Every
text that leaves (message, log line, engine-log event) has the token and secrets masked.
Which messages are due, each once, is the caller's: the launcher's own calls, the sensors' cursors.
"""

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import dagster as dg

from resources.settings import artifact_root as resolve_artifact_root
from resources.telegram import TelegramResource, telegram_from_env
from retrain_assets.adapters.logging_setup import EventLog
from retrain_assets.adapters.telegram import TelegramClient, TelegramError
from retrain_assets.core.redaction import redact, secrets_from_env
from retrain_assets.core.report.telegram_text import (
    best_and_worst,
    format_completion,
    format_failure,
    format_lifecycle,
    format_start,
    run_url,
)
from retrain_assets.defs.lifecycle_records import lifecycle_of
from retrain_assets.defs.summary_records import run_net_bps

logger = logging.getLogger(__name__)

# Answers that no retry will change (a refused text, an unknown chat): the message is given up.
GIVE_UP = frozenset({400, 403, 404})
Outcome = Literal["sent", "retry", "refused", "skipped"]


@dataclass(frozen=True)
class Delivery:
    """What became of one message.

    Attributes:
        outcome: `sent`; `retry` (Telegram down or rate limited: worth another try later);
            `refused` (an answer no retry changes, or a text that could not be built);
            `skipped` (Telegram is not configured).
        reason: Why it was not sent, whole, secrets masked; empty when sent.
        brief: A few words of the reason for a console (`HTTP 500 after 2 attempts`).
    """

    outcome: Outcome
    reason: str = ""
    brief: str = ""

    @property
    def sent(self) -> bool:
        """Whether the message went out."""
        return self.outcome == "sent"


@dataclass(frozen=True)
class Succeeded:
    """One successful symbol-day as the completion names it (its symbol, with its date over a
    range of dates); its net bps after costs if known, else read from its run."""

    name: str
    run_id: str | None = None
    net_bps: float | None = None


class SymbolOutcome(Protocol):
    """What `Finished.of_statuses` reads of one symbol's status (the launcher's `SymbolStatus`)."""

    @property
    def symbol(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def run_id(self) -> str | None: ...
    @property
    def net_bps_after_costs(self) -> float | None: ...


@dataclass(frozen=True)
class Finished:
    """A finished invocation as its completion tells it: the trained day (or days), the
    symbol-days that succeeded, failed (or were canceled) and were skipped, its wall-clock
    seconds, and the production table's headline of the date when known."""

    date: str
    succeeded: Sequence[Succeeded]
    failed: int
    skipped: int
    duration_s: float
    headline: str | None = None

    @classmethod
    def of_statuses(
        cls,
        date: str,
        statuses: Sequence[SymbolOutcome],
        duration_s: float,
        headline: str | None = None,
    ) -> "Finished":
        """The launcher's invocation: every symbol's final status, skipped ones included."""
        return cls(
            date,
            [
                Succeeded(s.symbol, s.run_id, s.net_bps_after_costs)
                for s in statuses
                if s.status == "success"
            ],
            failed=sum(s.status in ("failed", "canceled") for s in statuses),
            skipped=sum(s.status == "skipped" for s in statuses),
            duration_s=duration_s,
            headline=headline,
        )


class Notifier:
    """Writes and sends the start, failure and completion messages; never raises.

    Args:
        telegram: The settings: credentials, endpoints, the deployment's label, retries.
        log: Where the notifier's own lines go, each at most once: that messages are skipped
            (no credentials) and the first message that could not be sent. None for a caller
            that logs each `Delivery` in its own context (a sensor's tick).
        environ: The environment whose secret variables are masked too and which, with
            `engine_log`, names the engine log (RETRAIN_ARTIFACT_ROOT, STRUCTLOG_LEVEL).
        engine_log: Whether each failed message's whole (masked) error is written to the
            day's engine log as a `notification_failed` event (the launcher's invocations).
        artifact_root: The root of that `logs/` folder; by default the one `environ` names.
    """

    def __init__(
        self,
        telegram: TelegramResource,
        log: logging.Logger | None = logger,
        environ: Mapping[str, str] = os.environ,
        engine_log: bool = False,
        artifact_root: Path | None = None,
    ) -> None:
        self.label = telegram.label
        self.secrets = [*telegram.secrets(), *secrets_from_env(environ)]
        self._ui_base_url = telegram.ui_base_url
        self._log = log
        self._environ = environ
        self._engine_log = engine_log
        self._artifact_root = artifact_root
        self._mode = ""
        self._said_skipped = self._said_not_sent = False
        self._client: TelegramClient | None = None
        self._unusable = ""
        missing = telegram.missing()
        if missing:
            self._unusable = f"{', '.join(missing)} unset"
            return
        try:
            self._client = telegram.client()
        except Exception as exc:  # a malformed setting disables messages, never the caller
            detail = " ".join(redact(f"{type(exc).__name__}: {exc}", self.secrets).split())
            self._unusable = f"client not created ({detail[:200]})"
            if log is not None:
                log.warning("Telegram client not created: %s", detail[:200])

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] = os.environ,
        log: logging.Logger = logger,
        artifact_root: Path | None = None,
    ) -> "Notifier":
        """The launcher's notifier: the settings read once from `environ`
        (TELEGRAM_TOKEN, TELEGRAM_CHAT_ID, TELEGRAM_API_BASE_URL, DAGSTER_UI_BASE_URL), each
        failed message also written to the day's engine log."""
        return cls(telegram_from_env(environ), log, environ, True, artifact_root)

    @property
    def enabled(self) -> bool:
        """Whether messages are sent (credentials configured)."""
        return self._client is not None

    @property
    def skip_reason(self) -> str:
        """Why no message is sent (`Telegram notifications skipped: TELEGRAM_TOKEN unset`)."""
        return f"Telegram notifications skipped: {self._unusable}"

    def start(self, date: str, total_symbols: int, mode: str, dry_run: bool) -> Delivery:
        """Sends the message that announces an invocation of `total_symbols` symbols."""
        self._mode = mode
        shown = mode + (" (dry run)" if dry_run else "")
        return self._send(
            "start", lambda: format_start(self.label, total_symbols, shown, date), date
        )

    def failure(
        self, symbol: str, date: str, error_type: str, reason: str, run_id: str | None
    ) -> Delivery:
        """Sends the alert of one symbol-day that failed for good, linking its run in the UI."""
        url = run_url(self._ui_base_url, run_id) if run_id else None
        return self._send(
            "failure",
            lambda: format_failure(symbol, date, error_type, reason, url, secrets=self.secrets),
            date,
            symbol,
            run_id,
        )

    def completion(
        self,
        finished: Finished | Callable[[], Finished],
        instance: dg.DagsterInstance | None = None,
    ) -> Delivery:
        """Sends the summary of a finished invocation.

        Args:
            finished: Its counts, successful symbol-days and headline; or what reads them
                from the instance, called only when the message is sent (what it raises
                is a message not sent, never the caller's failure).
            instance: Where a successful run's net figure is read (from its `metrics`) when
                `finished` lacks it, and the runs' promotions, demotions and drift.

        Returns:
            What became of the message.
        """
        date = finished.date if isinstance(finished, Finished) else ""
        read = finished if callable(finished) else lambda: finished
        return self._send("completion", lambda: self._completion_text(read(), instance), date)

    def _completion_text(self, finished: Finished, instance: dg.DagsterInstance | None) -> str:
        scores: list[tuple[str, float]] = []
        for entry in finished.succeeded:
            net = entry.net_bps
            if net is None and instance is not None and entry.run_id:
                net = run_net_bps(instance, entry.run_id)
            if net is not None:
                scores.append((entry.name, net))
        best, worst = best_and_worst(scores)
        lifecycle: list[str] = []
        if instance is not None:
            runs = [(e.name, e.run_id) for e in finished.succeeded if e.run_id]
            found = lifecycle_of(instance, runs)
            lifecycle = format_lifecycle(
                found.promoted, found.kept_back, found.drifted, found.demoted
            )
        return format_completion(
            self.label,
            finished.date,
            succeeded=len(finished.succeeded),
            failed=finished.failed,
            skipped=finished.skipped,
            duration_s=finished.duration_s,
            best=best,
            worst=worst,
            lifecycle=lifecycle,
            headline=finished.headline,
        )

    def _send(
        self,
        kind: str,
        build: Callable[[], str],
        date: str,
        symbol: str | None = None,
        run_id: str | None = None,
    ) -> Delivery:
        """Builds (only when there is a client) and sends one message; never raises."""
        if self._client is None:
            if self._log is not None and not self._said_skipped:
                self._said_skipped = True
                self._log.info("%s", self.skip_reason)
            return Delivery("skipped", self.skip_reason, "not configured")
        try:
            self._client.send(build())
        except Exception as exc:  # a message must never fail an invocation or a tick
            delivery = self._not_sent(exc)
            self._report(kind, delivery, date, symbol, run_id)
            return delivery
        return Delivery("sent")

    def _not_sent(self, exc: Exception) -> Delivery:
        """The delivery of a message that raised: retried later only when Telegram may recover."""
        if isinstance(exc, TelegramError):  # its text never holds the token; masked all the same
            outcome: Outcome = "refused" if exc.status_code in GIVE_UP else "retry"
            reason, brief = str(exc), exc.brief or type(exc).__name__
        else:
            outcome, reason, brief = "refused", f"{type(exc).__name__}: {exc}", type(exc).__name__
        return Delivery(outcome, redact(reason, self.secrets), redact(brief, self.secrets))

    def _report(
        self, kind: str, delivery: Delivery, date: str, symbol: str | None, run_id: str | None
    ) -> None:
        """The whole error to the engine log; one short line to `log`, the first time."""
        where = self._write_event(kind, delivery, date, symbol, run_id) if self._engine_log else ""
        if self._log is not None and not self._said_not_sent:
            self._said_not_sent = True
            tail = f"; {where}" if where else ""
            self._log.warning("Telegram %s message not sent (%s)%s", kind, delivery.brief, tail)

    def _write_event(
        self, kind: str, delivery: Delivery, date: str, symbol: str | None, run_id: str | None
    ) -> str:
        """Writes a `notification_failed` event; returns where it went, for the console."""
        try:
            root = self._artifact_root or resolve_artifact_root(None, self._environ)
            log = EventLog.from_environ(root, date, run_id or "", self._mode, self._environ)
            written = log.emit(
                "notification_failed",
                symbol=symbol,
                level="error",
                kind=kind,
                error=delivery.reason,
            )
        except Exception as log_error:  # a log that cannot be written must not fail the run
            return f"its details could not be logged ({type(log_error).__name__})"
        if not written:
            return "its details are below STRUCTLOG_LEVEL"
        return f"details in {log.engine_log.relative_to(root)}"
