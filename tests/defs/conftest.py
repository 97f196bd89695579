"""Fixtures shared by the definitions tests: the moto S3 server of the storage tests."""

from tests.fakes.moto_s3 import moto_endpoint

__all__ = ["moto_endpoint"]
