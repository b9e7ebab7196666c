"""Reading the text files users and agents hand us (dgm.toml, agent.toml, suite.toml)."""

from __future__ import annotations

from pathlib import Path

from dgm.errors import ConfigError


def read_utf8(path: Path) -> str:
    """The file's text; a file that is not UTF-8 or cannot be read is one ConfigError line."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from None
