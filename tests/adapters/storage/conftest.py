"""Fixtures for the storage tests: the fake Dropbox and the moto S3 server."""

from tests.fakes.dropbox_fixtures import dropbox_backend, fake_dropbox, sleeps
from tests.fakes.moto_s3 import bucket, moto_endpoint, s3

__all__ = ["bucket", "dropbox_backend", "fake_dropbox", "moto_endpoint", "s3", "sleeps"]
