"""The host's secret task salt: where it comes from when no archive supplies one.

A run's salt is the archive's (``Archive.eval_secret``), handed to the suite in
``EvalContext.secret``; it lives in the archive's database and is never mounted
into a sandbox. An evaluation outside an archive (``dgm suite eval``, tests,
benchmarks) uses this machine's salt: a file ``salt`` in the icl cache folder,
created once with mode 0600. ``DGM_ICL_SALT`` overrides both, e.g. to
reproduce an archive's tasks outside it.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from dgm.errors import ConfigError

SALT_RE = re.compile(r"^[0-9a-f]{16,128}$")


def check(salt: str, where: str) -> str:
    salt = salt.strip().lower()
    if not SALT_RE.match(salt):
        raise ConfigError(f"{where}: the icl task salt must be 16-128 hex digits")
    return salt


def new_salt() -> str:
    return secrets.token_hex(16)


def local_salt(cache: Path) -> str:
    """$DGM_ICL_SALT, else this machine's salt file under ``cache`` (made on first use)."""
    env = os.environ.get("DGM_ICL_SALT")
    if env:
        return check(env, "DGM_ICL_SALT")
    path = Path(cache) / "salt"
    try:
        return check(path.read_text(), str(path))
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = new_salt()
    tmp = path.with_name(f"salt.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(salt + "\n")
    try:
        os.link(tmp, path)  # first writer wins; a concurrent one reads the winner's salt
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return check(path.read_text(), str(path))
