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
