"""Shared CLI plumbing: archive resolution, the --debug switch, one-line errors."""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
from pathlib import Path
from typing import Callable, TypeVar

import typer
from rich.console import Console

from ..archive import Archive
from ..errors import DgmError, NotAnArchive
from ..resources import archive_root, new_archive_path  # noqa: F401 (used by commands)

console = Console()
err_console = Console(stderr=True)
STATE = {"debug": False}
F = TypeVar("F", bound=Callable)

ArchiveOpt = typer.Option(None, "--archive", "-a", help="Archive directory (default: newest under archive/)")


def default_archive() -> Path:
    """The newest archive under archive/ (by creation of its database)."""
    root = archive_root()
    cands = [d for d in root.iterdir() if (d / "dgm.db").is_file()] if root.is_dir() else []
    if not cands:
        raise NotAnArchive(f"no archive found under {root}/; run `dgm init` or `dgm run`, "
                           "or pass --archive DIR")
    return max(cands, key=lambda d: (d / "dgm.db").stat().st_mtime)


def open_archive(path: Path | None, readonly: bool = True) -> Archive:
    return Archive.open(path or default_archive(), readonly=readonly)


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
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
            fail(f"the archive database is unreadable or corrupted: {exc}")
        except OSError as exc:  # e.g. `-o` into a missing directory
            if STATE["debug"]:
                raise
            fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]
