"""The SHA-256 of bytes in memory: the checksum every artifact reference carries."""

import hashlib


def sha256_bytes(data: bytes) -> str:
    """Return the lowercase hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()
