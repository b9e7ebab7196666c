"""The one error family: every error dgm raises on purpose derives from :class:`DgmError`.

The CLI turns any ``DgmError`` into one clear line (no traceback unless ``--debug``), and a
script using the Python API can catch ``dgm.DgmError`` to handle them all. The modules that
own a failure keep their own subclass (``GitError`` in gitstore, ``GatewayError`` in
gateway_access, ``ProposalRejected`` in proposers.base, ...), each re-parented here.
"""


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


class UnsafeTree(DgmError, ValueError):
    """An agent's git tree that would write outside its directory (``..``, a link out, a
    device node) or over a non-directory: materialising it is refused. Also a ValueError, as
    it was before the family existed, so callers that caught that still do."""


class InternalError(DgmError):
    """Base of the engine's own failures (a git command, a worker that died): still one line
    for a user, but a bug report rather than bad input."""


def validation_error(exc, where: str, top: str = "(top level)") -> ConfigError:
    """One line for a pydantic ValidationError: ``where: key: message`` of its first error."""
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"] if not isinstance(p, int)) or top
    return ConfigError(f"{where}: {key}: {first['msg']}")
