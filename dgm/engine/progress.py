"""What a run shows while it works: a rich progress bar, plain lines, or JSON lines."""

from __future__ import annotations

import json
import sys
import time

from rich.console import Console

from dgm.termsafe import SafeConsole, clean
from dgm.termsafe import markup as escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
    TimeRemainingColumn


class Reporter:
    """Base reporter: quiet (prints nothing but messages to stderr)."""

    def __init__(self, total: int):
        self.total = total
        self.t0 = time.monotonic()

    def start(self, run_id: str, archive: str, resumed: bool) -> None: ...
    def update(self, done: int, running: int, best: tuple[str, float | None] | None) -> None: ...
    def child(self, agent: str | None, status: str, score: float | None, summary: str | None) -> None: ...

    def message(self, text: str) -> None:
        print(clean(text), file=sys.stderr)

    def close(self) -> None: ...


class RichReporter(Reporter):
    """A live bar: children done / budget, running jobs, best so far, elapsed, ETA."""

    def __init__(self, total: int, console: Console | None = None):
        super().__init__(total)
        self.console = console or SafeConsole(stderr=True, emoji=False)
        self.progress = Progress(
            TextColumn("[bold]evolving"), BarColumn(), MofNCompleteColumn(),
            TextColumn("running {task.fields[running]}"), TextColumn("best {task.fields[best]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=self.console, transient=False)
        self.task = self.progress.add_task("run", total=total, running=0, best="-")
        self.progress.start()

    def start(self, run_id: str, archive: str, resumed: bool) -> None:
        verb = "resuming" if resumed else "starting"
        self.progress.console.print(f"{verb} run {run_id} in {archive}", highlight=False)

    def update(self, done: int, running: int, best: tuple[str, float | None] | None) -> None:
        b = "-" if not best or best[1] is None else f"{best[1]:.3f} ({best[0]})"
        self.progress.update(self.task, completed=done, running=running, best=b)

    def child(self, agent: str | None, status: str, score: float | None, summary: str | None) -> None:
        mark = {"admitted": "[green]✓", "rejected": "[red]✗", "failed": "[red]!",
                "duplicate": "[yellow]="}.get(status, "[dim] ")
        sc = "-" if score is None else f"{score:.3f}"
        self.progress.console.print(f"{mark}[/] {escape(agent or '(no child)')} {status:<9} {sc:>6}  "
                                    f"[dim]{escape((summary or '')[:90])}[/]")

    def message(self, text: str) -> None:
        self.progress.console.print(escape(text), highlight=False)

    def close(self) -> None:
        self.progress.stop()


class JsonReporter(Reporter):
    """One JSON object per line on stdout, for scripts."""

    def _emit(self, **obj) -> None:
        print(json.dumps({"t": round(time.monotonic() - self.t0, 3), **obj}), flush=True)

    def start(self, run_id: str, archive: str, resumed: bool) -> None:
        self._emit(event="start", run=run_id, archive=archive, resumed=resumed, budget=self.total)

    def child(self, agent, status, score, summary) -> None:
        self._emit(event="child", agent=agent, status=status, score=score, summary=summary)

    def message(self, text: str) -> None:
        self._emit(event="message", text=text)


def make_reporter(total: int, quiet: bool, as_json: bool) -> Reporter:
    if as_json:
        return JsonReporter(total)
    if quiet:
        return Reporter(total)
    return RichReporter(total)
