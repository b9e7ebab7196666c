"""Errors the CLI turns into one clear line (no traceback unless --debug)."""


class DgmError(Exception):
    """A user-facing error: bad input, a missing archive, a locked archive, ..."""


class ArchiveLocked(DgmError):
    """Another process holds the archive's write lock."""


class NotAnArchive(DgmError):
    """A directory that is not a dgm archive (or a corrupted one)."""


class UnknownAgent(DgmError):
    """An agent id that is not in the archive."""


class ConfigError(DgmError):
    """An invalid dgm.toml, suite.toml or agent.toml, or a bad flag."""


def validation_error(exc, where: str, top: str = "(top level)") -> ConfigError:
    """One line for a pydantic ValidationError: ``where: key: message`` of its first error."""
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"] if not isinstance(p, int)) or top
    return ConfigError(f"{where}: {key}: {first['msg']}")
