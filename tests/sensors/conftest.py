"""Fixtures of the sensor tests: the fake Telegram Bot API."""

from tests.fakes.fake_telegram import fake_telegram

__all__ = ["fake_telegram"]
