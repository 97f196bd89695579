"""Masking of secrets in text that leaves the process: log lines, messages, error reports."""

from collections.abc import Iterable, Mapping
from urllib.parse import quote

MASK = "***"
MIN_SECRET_LENGTH = 4

SECRET_ENV_VARS: tuple[str, ...] = (
    "TELEGRAM_TOKEN",
    "DROPBOX_ACCESS_TOKEN",
    "DROPBOX_REFRESH_TOKEN",
    "DROPBOX_APP_SECRET",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "RETRAIN_EXCHANGE_API_KEY",
    "RETRAIN_EXCHANGE_API_SECRET",
)


def _variants(secrets: Iterable[str]) -> list[str]:
    """Returns the maskable forms of the secrets, longest first.

    A secret also appears percent-encoded when it sits in a URL (a Telegram token's ``:``
    becomes ``%3A``), so both forms are masked. Longest first, so a secret that contains
    another one is masked whole rather than leaving a tail behind.
    """
    forms: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            forms.add(secret)
            forms.add(quote(secret, safe=""))
    return sorted(forms, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replaces every occurrence of every secret in a text with ``***``.

    Secrets shorter than four characters are ignored: masking them would shred ordinary
    text and protect nothing.

    Args:
        text: The text to clean.
        secrets: The secret values to mask; empty and short ones are skipped.

    Returns:
        The text with each secret (raw or percent-encoded) replaced by ``***``.
    """
    for secret in _variants(secrets):
        text = text.replace(secret, MASK)
    return text


def secrets_from_env(environ: Mapping[str, str]) -> list[str]:
    """Collects the values of the known secret environment variables.

    Args:
        environ: An environment mapping, usually ``os.environ``.

    Returns:
        The values of the variables in `SECRET_ENV_VARS` that are set and long enough to mask.
    """
    values = (environ.get(name, "") for name in SECRET_ENV_VARS)
    return [value for value in values if len(value) >= MIN_SECRET_LENGTH]
