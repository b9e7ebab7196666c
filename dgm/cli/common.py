"""Shared CLI plumbing: archive resolution, the --debug switch, one-line errors."""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
from pathlib import Path
from typing import Callable, TypeVar

import typer
from rich.markup import escape

from dgm.archive.store import Archive
from dgm.errors import DgmError, NotAnArchive
from dgm.archive.gitstore import GitError
from dgm.archive.staging import is_staging
from dgm.termsafe import SafeConsole
from dgm.resources import archive_root, new_archive_path  # noqa: F401 (used by commands)

# Every string printed through these is cleaned of terminal escapes (agent text, see termsafe).
# emoji=False: ``a:b:c:d`` in a message stays as written (rich would make ``:b:`` a picture)
console = SafeConsole(emoji=False)
err_console = SafeConsole(stderr=True, emoji=False)
STATE = {"debug": False}
F = TypeVar("F", bound=Callable)

ArchiveOpt = typer.Option(None, "--archive", "-a", help="Archive directory (default: newest under archive/)")


def default_archive() -> Path:
    """The newest archive under archive/ (by creation of its database)."""
    root = archive_root()
    cands = [d for d in root.iterdir()  # a staging dir of a creation is never an archive
             if not is_staging(d) and (d / "dgm.db").is_file()] if root.is_dir() else []
    if not cands:
        raise NotAnArchive(f"no archive found under {root}/; run `dgm init` or `dgm run`, "
                           "or pass --archive DIR")
    return max(cands, key=lambda d: (d / "dgm.db").stat().st_mtime)


def open_archive(path: Path | None, readonly: bool = True) -> Archive:
    return Archive.open(path or default_archive(), readonly=readonly)


def fail(message: str, code: int = 2) -> None:
    # the message is user or agent text: never read as markup (``[run.model]`` stays)
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def quiet_closed_pipe() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush of what is still buffered
    does not print "Exception ignored ... BrokenPipeError" on exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def cli_errors(fn: F) -> F:
    """Turn user-facing errors into one clear line and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except GitError as exc:  # a damaged or incomplete git store (a missing object, ...);
            # a DgmError too, so it goes first
            if STATE["debug"]:
                raise
            fail(f"the archive's git store cannot be read: {str(exc)[:500]}")
        except DgmError as exc:
            if STATE["debug"]:
                raise
            fail(str(exc))
        except BrokenPipeError:  # `dgm diff | head`: the reader left; stop quietly
            quiet_closed_pipe()
            raise typer.Exit(0) from None
        except sqlite3.DatabaseError as exc:
            if STATE["debug"]:
                raise
            if "full" in str(exc):  # SQLITE_FULL: the host's disk, not the archive
                fail(f"the archive's disk is full ({exc}); free space, then resume the run")
            fail(f"the archive database is unreadable or corrupted: {exc}")
        except OSError as exc:  # e.g. `-o` into a missing directory
            if STATE["debug"]:
                raise
            fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]
