"""Fixtures: a moto S3 server on 127.0.0.1 and a boto3 client pointed at it."""

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def start_moto() -> tuple[ThreadedMotoServer, str]:
    """Start a moto server on an ephemeral port; return it and its endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def s3_client(endpoint_url: str, max_attempts: int = 2) -> Any:
    """A boto3 S3 client for `endpoint_url` with few, quick retries."""
    config = Config(retries={"max_attempts": max_attempts, "mode": "standard"}, connect_timeout=2)
    return boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1", config=config)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server shared by a test module."""
    server, url = start_moto()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A boto3 client with fake credentials from the environment."""
    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)
    return s3_client(moto_endpoint)


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> str:
    """A fresh, empty bucket for one test."""
    name = "bkt-" + str(abs(hash(request.node.nodeid)) % 10**12)
    s3.create_bucket(Bucket=name)
    return name
