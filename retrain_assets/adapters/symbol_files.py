"""Symbol files: the bytes of a `.csv` selection, for `core.data.symbols.parse_selection`."""

from pathlib import Path

from retrain_assets.core.errors import InvalidSymbolError


def read_symbol_file(path: str) -> bytes:
    """The file's bytes; an unreadable file is an InvalidSymbolError naming it and why."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidSymbolError(f"cannot read symbol file {path!r}: {exc.strerror}") from None
