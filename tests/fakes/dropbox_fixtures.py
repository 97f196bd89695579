"""Pytest fixtures: a fake Dropbox server and backends wired to it."""

from collections.abc import Iterator

import pytest

from retrain_assets.adapters.storage.dropbox_backend import DropboxBackend, build_dropbox_client
from tests.fakes.fake_dropbox import FakeDropbox, local_dropbox_session, running_fake_dropbox


class SleepRecorder:
    """A sleep that records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def fake_dropbox() -> Iterator[FakeDropbox]:
    """A fake Dropbox on 127.0.0.1, stopped after the test."""
    with running_fake_dropbox() as server:
        yield server


@pytest.fixture
def sleeps() -> SleepRecorder:
    """The waits the backend asked for."""
    return SleepRecorder()


def make_backend(server: FakeDropbox, sleep: SleepRecorder, **kwargs: object) -> DropboxBackend:
    """A backend using the refresh-token flow against `server`."""
    acc = server.accounts
    client = build_dropbox_client(
        refresh_token=acc.refresh_token,
        app_key=acc.app_key,
        app_secret=acc.app_secret,
        session=local_dropbox_session(server.port),
        timeout=10,
    )
    return DropboxBackend(client, root="/retrain-assets", sleep=sleep, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def dropbox_backend(fake_dropbox: FakeDropbox, sleeps: SleepRecorder) -> DropboxBackend:
    """A backend with small upload thresholds so that sessions are exercised cheaply."""
    return make_backend(
        fake_dropbox, sleeps, chunk_size=4 * 1024 * 1024, large_threshold=6 * 1024 * 1024
    )
