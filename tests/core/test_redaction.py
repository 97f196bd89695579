"""Tests of secret masking."""

import pytest

from retrain_assets.core.redaction import SECRET_ENV_VARS, redact, secrets_from_env


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("token abcd1234 here", ["abcd1234"], "token *** here"),
        ("abcd1234/abcd1234", ["abcd1234"], "***/***"),
        ("nothing to hide", ["abcd1234"], "nothing to hide"),
        ("no secrets given", [], "no secrets given"),
        # Empty and very short secrets would shred ordinary text, so they are left alone.
        ("a b c", ["", "a", "abc"], "a b c"),
        # A secret containing another is masked whole, not leaving its tail behind.
        ("key=abcd-efgh-ijkl", ["abcd", "abcd-efgh-ijkl"], "key=***"),
        # A token in a URL may be percent-encoded; that form is masked too.
        ("/bot123456%3AAAbb/sendMessage", ["123456:AAbb"], "/bot***/sendMessage"),
        ("multi\nline s3cret\n", ["s3cret"], "multi\nline ***\n"),
    ],
)
def test_redact_masks_every_occurrence_of_every_secret(
    text: str, secrets: list[str], expected: str
) -> None:
    assert redact(text, secrets) == expected


def test_redact_accepts_any_iterable_of_secrets() -> None:
    assert redact("one two", (s for s in ["two2", "one1"])) == "one two"
    assert redact("one1 two2", (s for s in ["two2", "one1"])) == "*** ***"


def test_secret_env_vars_name_the_deployment_secrets() -> None:
    assert SECRET_ENV_VARS == (
        "TELEGRAM_TOKEN",
        "DROPBOX_ACCESS_TOKEN",
        "DROPBOX_REFRESH_TOKEN",
        "DROPBOX_APP_SECRET",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "RETRAIN_EXCHANGE_API_KEY",
        "RETRAIN_EXCHANGE_API_SECRET",
    )


def test_secrets_from_env_reads_only_the_known_secret_variables_that_are_set() -> None:
    environ = {
        "TELEGRAM_TOKEN": "123:telegram",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "DROPBOX_APP_SECRET": "",
        "AWS_SESSION_TOKEN": "ab",
        "HOME": "/root",
    }
    assert secrets_from_env(environ) == ["123:telegram", "aws-secret"]


def test_secrets_from_env_is_empty_without_secrets() -> None:
    assert secrets_from_env({}) == []
