"""The public Python API of a run: ``dgm.Run(config).start()``, ``.resume()``, ``.stop()``;
``dgm.replay(...)``. ``dgm run`` and ``dgm replay`` are thin clients of this module.

A :class:`Run` owns what it uses: its stop flag, the sandbox it chooses, its model gateway and
its archive handle, all released when ``start()``/``resume()`` return. So runs can follow
each other in one process, and stopping one never stops the next. (Runs at the same time in
one process are not supported: they would share the per-process sandbox cache of
``dgm.engine.evaluation.Runtime``.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Union

from dgm.config import RunConfig, load_config
from dgm.errors import DgmError
from dgm.engine.progress import Reporter
from dgm.resources import new_archive_path
from dgm.engine.hygiene import claim, claimed, release, sweep
from dgm.engine.launch import RunSummary, execute, prepare

ReporterArg = Union[Reporter, Callable[[RunConfig], Reporter], None]


class Run:
    """One evolution run in one archive.

    ``config`` is a :class:`RunConfig`, a mapping of its keys (as in ``[run]`` of dgm.toml),
    or None for the defaults (then ``config_file`` and ``overrides`` apply, as the CLI's
    file and flags do). ``archive`` is where the run lives: ``start()`` creates it (default:
    a new directory under ``archive/``), ``resume()`` continues it. ``unsafe=True`` is
    required for ``sandbox="unsafe"``, as ``--unsafe`` is on the command line.
    """

    def __init__(self, config: RunConfig | Mapping[str, Any] | None = None, *,
                 archive: Path | str | None = None, config_file: Path | str | None = None,
                 overrides: Mapping[str, Any] | None = None, unsafe: bool = False,
                 reporter: ReporterArg = None):
        if config is not None and config_file is not None:
            raise DgmError("give a config or a config file, not both")
        if isinstance(config, Mapping):
            config = load_config(None, dict(config))  # one clear line on a bad key
        self.config: RunConfig | None = config
        self.config_file = Path(config_file) if config_file is not None else None
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self.archive_path: Path | None = Path(archive) if archive is not None else None
        self.unsafe = unsafe
        self.reporter = reporter
        self.summary: RunSummary | None = None
        self._stop = threading.Event()

    # -- control -------------------------------------------------------------
    def start(self) -> RunSummary:
        """Create the archive and run until the budget is spent or :meth:`stop` is called."""
        if self.archive_path is not None and (self.archive_path / "dgm.db").is_file():
            raise DgmError(f"{self.archive_path} already holds a run; use resume() to continue it")
        return self._go(self._start_overrides())

    def resume(self, **overrides: Any) -> RunSummary:
        """Continue the run in ``archive`` with its recorded settings (plus ``overrides``,
        e.g. ``children=20``; and the model budget of ``config_file`` when given)."""
        if self.archive_path is None or not (self.archive_path / "dgm.db").is_file():
            raise DgmError(f"no archive to resume at {self.archive_path}; use start()")
        return self._go({**self.overrides, **{k: v for k, v in overrides.items() if v is not None}})

    def start_or_resume(self) -> RunSummary:
        """``resume()`` when ``archive`` holds a run, else ``start()`` (what ``dgm run`` does)."""
        if self.archive_path is not None and (self.archive_path / "dgm.db").is_file():
            return self.resume()
        return self.start()

    def stop(self) -> None:
        """Start no new job; the jobs in flight finish and are recorded. Thread-safe (call it
        from another thread or a signal handler); ``start``/``resume`` then return."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- inside --------------------------------------------------------------
    def _start_overrides(self) -> dict[str, Any]:
        if self.config is None:
            return dict(self.overrides)
        return {**self.config.model_dump(), **self.overrides}

    def _go(self, overrides: dict[str, Any]) -> RunSummary:
        from dgm.engine.evaluation import Runtime

        self._stop.clear()  # a Run stopped before may be resumed: its flag starts clear
        config_file = self.config_file if self.config is None else None
        prep = prepare(self.archive_path, config_file, overrides, new_archive_path(),
                       unsafe=self.unsafe)
        self.archive_path = prep.archive.path
        self.config = prep.cfg
        reporter = self.reporter(prep.cfg) if callable(self.reporter) else self.reporter
        reporter = reporter or Reporter(prep.cfg.children)
        swept = sweep()  # what killed runs left: their temp dirs, mounts and cgroups (only theirs)
        if swept:
            reporter.message(swept.line())
        own_dir = not claimed()  # a Run inside a run's process shares that run's directory
        if own_dir:
            claim()  # this run's own temp files live in one directory it owns
        try:
            self.summary = execute(prep, reporter, stop=self._stop)
        except BaseException:  # e.g. a second Ctrl-C: let go of everything, then re-raise
            Runtime.close()
            raise
        finally:
            prep.archive.close()
            if own_dir:  # a library caller's process lives on: its $TMPDIR is given back
                release()
        return self.summary


def replay(archive: Path | str, agent: str | int, *, suite: str | None = None,
           stage: int | None = None, all_stages: bool = False, sandbox: str = "auto",
           tolerance: float | None = None, device: str = "cpu",
           echo: Callable[[str], None] = lambda line: None) -> list[Any]:
    """Re-run an archived agent's recorded evaluation; one :class:`dgm.replay.TaskComparison`
    per task (``.matches`` says whether the score is the recorded one). ``stage`` is a 0-based
    index, as stages are everywhere in Python (the command line numbers them from 1)."""
    from dgm.archive.store import Archive
    from dgm.engine.evaluation import Runtime
    from dgm.replay import replay as replay_stages

    before = set(Runtime._sandboxes)
    with Archive.open(Path(archive), readonly=True) as a:
        try:
            return replay_stages(a, a.resolve_id(str(agent)), suite=suite,
                                 stage=None if stage is None else stage + 1, all_stages=all_stages,
                                 sandbox=sandbox, tolerance=tolerance, device=device, echo=echo)
        finally:
            for kind in set(Runtime._sandboxes) - before:  # the backend this replay chose
                Runtime.release(kind, Runtime._sandboxes.get(kind))
