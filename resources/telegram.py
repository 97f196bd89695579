"""The Telegram resource: credentials and endpoints, and the client built from them.

An unset `dg.EnvVar` is an error when Dagster resolves a resource's config, even for an
optional field, so the sensor would fail on every tick of a deployment without Telegram.
`telegram_resource` therefore names only the variables that are set; an unset credential
leaves its field empty, and `client()` answers None (notifications skipped).
"""

import os
from collections.abc import Mapping

import dagster as dg
from pydantic import Field

from retrain_assets.adapters.telegram import TelegramClient

DEFAULT_API_BASE_URL = "https://api.telegram.org"
TOKEN_ENV = "TELEGRAM_TOKEN"  # noqa: S105 - the variable's name, not a secret
CHAT_ID_ENV = "TELEGRAM_CHAT_ID"
API_BASE_URL_ENV = "TELEGRAM_API_BASE_URL"
UI_BASE_URL_ENV = "DAGSTER_UI_BASE_URL"

# Field name -> environment variable; credentials and endpoints come from nowhere else.
ENV_BY_FIELD: dict[str, str] = {
    "token": TOKEN_ENV,
    "chat_id": CHAT_ID_ENV,
    "api_base_url": API_BASE_URL_ENV,
    "ui_base_url": UI_BASE_URL_ENV,
}


class TelegramResource(dg.ConfigurableResource):
    """Where start, failure and completion messages go; unset credentials skip them."""

    token: str | None = Field(default=None, description="Bot token (from $TELEGRAM_TOKEN).")
    chat_id: str | None = Field(default=None, description="Chat id (from $TELEGRAM_CHAT_ID).")
    api_base_url: str = Field(
        default=DEFAULT_API_BASE_URL, description="Bot API root ($TELEGRAM_API_BASE_URL)."
    )
    ui_base_url: str | None = Field(
        default=None, description="Dagster UI root for links to runs ($DAGSTER_UI_BASE_URL)."
    )
    label: str = Field(default="retrain", description="The deployment's name in messages.")
    timeout_s: float = Field(default=10.0, description="Timeout of one HTTP request.")
    max_retry_after_s: float = Field(
        default=20.0, description="Total seconds one message may wait on 429 answers."
    )
    max_attempts: int = Field(default=2, description="Attempts per message on 5xx or no answer.")

    def missing(self) -> list[str]:
        """The environment variables of the credentials that are not configured."""
        unset = [(TOKEN_ENV, self.token), (CHAT_ID_ENV, self.chat_id)]
        return [name for name, value in unset if not value]

    def client(self) -> TelegramClient | None:
        """A client with bounded retries, or None when a credential is missing."""
        if self.missing() or not self.token or not self.chat_id:
            return None
        return TelegramClient(
            self.token,
            self.chat_id,
            base_url=self.api_base_url or DEFAULT_API_BASE_URL,
            timeout_s=self.timeout_s,
            max_retry_after_s=self.max_retry_after_s,
            max_attempts=self.max_attempts,
        )

    def secrets(self) -> list[str]:
        """The values to mask in anything this notifier sends or logs."""
        return [self.token] if self.token else []


def telegram_resource(environ: Mapping[str, str] = os.environ) -> TelegramResource:
    """The resource for `Definitions`: a `dg.EnvVar` for each variable that is set.

    Only the presence of a variable is read here; its value is resolved by Dagster at run
    time and never shown in the UI.

    Args:
        environ: The environment to check for presence, usually ``os.environ``.

    Returns:
        A `TelegramResource` whose set fields are environment-variable references.
    """
    fields = {field: dg.EnvVar(env) for field, env in ENV_BY_FIELD.items() if environ.get(env)}
    return TelegramResource(**fields)


def telegram_from_env(environ: Mapping[str, str] = os.environ) -> TelegramResource:
    """A resource with the values of the environment, for use outside Dagster (the CLI).

    Args:
        environ: The environment to read, usually ``os.environ``.

    Returns:
        A `TelegramResource` holding the current values (unset ones left at their defaults).
    """
    fields = {field: environ[env] for field, env in ENV_BY_FIELD.items() if environ.get(env)}
    return TelegramResource(**fields)
