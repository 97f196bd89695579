"""Where a `--submit` deployment listens: its URL checked and parsed, and the one error of a
deployment that cannot be used (bad input: exit 2), whose messages never echo credentials."""

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from retrain_assets.core.errors import PermanentError


class DeploymentError(PermanentError):
    """The deployment behind `--submit` is unreachable, lacks the job, or refused a request."""


@dataclass(frozen=True)
class Endpoint:
    """Where a deployment's webserver listens, parsed from a `--submit` URL."""

    scheme: str
    host: str
    port: int | None
    path_prefix: str = ""

    @property
    def netloc_host(self) -> str:
        """The host as it appears in a URL (IPv6 addresses in brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def url(self) -> str:
        """The base URL (no trailing slash), as shown in messages."""
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{self.netloc_host}{port}{self.path_prefix}"

    @property
    def graphql_url(self) -> str:
        """The GraphQL endpoint."""
        return f"{self.url}/graphql"


_HOST = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]+")


def parse_url(url: str) -> Endpoint:
    """The endpoint of a `--submit` value.

    Raises:
        PermanentError: not an http(s) URL of a host (the message names `--submit` and the
            value, with any credentials in it masked).
    """
    text = (url or "").strip()
    if text and "://" not in text:
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _bad_url(url, "not a URL with a valid port") from None
    if parts.scheme not in ("http", "https"):
        raise _bad_url(url, "expected an http:// or https:// URL like http://127.0.0.1:3000")
    if not parts.hostname:
        raise _bad_url(url, "no host")
    if not _HOST.fullmatch(parts.hostname):
        raise _bad_url(url, f"{parts.hostname!r} is not a host name or IP address")
    if parts.username or parts.password:
        raise _bad_url(url, "credentials in the URL are not supported")
    if parts.query or parts.fragment:
        raise _bad_url(url, "a query or fragment is not allowed")
    prefix = parts.path.rstrip("/")
    prefix = prefix.removesuffix("/graphql")
    return Endpoint(parts.scheme, parts.hostname, port, prefix)


def _bad_url(value: str, why: str) -> DeploymentError:
    return DeploymentError(f"--submit {_masked(value)!r}: {why}")


def _masked(value: str) -> str:
    """The value with any `user:password@` replaced, so errors never echo credentials."""
    text = str(value)
    try:
        parts: SplitResult = urlsplit(text if "://" in text else f"//{text}")
    except ValueError:
        return text
    if "@" not in parts.netloc:
        return text
    host = parts.netloc.rpartition("@")[2]
    return text.replace(parts.netloc, f"***@{host}", 1)
