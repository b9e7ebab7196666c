"""Reading an archive from Python: ``dgm.open_archive(path)``.

:class:`ArchiveView` is the read side of the public API: agents, lineage queries,
evaluations, the best agent, spend, diffs and exports. It opens the archive read-only (a
running ``dgm run`` may hold the write lock meanwhile) and answers in plain dataclasses and
dicts, so a script never writes SQL. The CLI's read commands and the viewer use the same
methods; :func:`spend` is the one place model spend is added up (see "one cost ledger" in
docs/api.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dgm.archive.store import Agent, Archive
from dgm.errors import NotAnArchive


@dataclass(frozen=True)
class Spend:
    """Model spend as the gateway metered it: one row per model call in the ``usage`` table."""

    cost: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def spend(archive: Archive, *, run: str | None = None, agent: str | None = None) -> Spend:
    """What the run (or all runs) spent on models, or what was billed to one agent's label.

    The ledger is the ``usage`` table alone: the gateway writes one row per metered call.
    ``proposals.cost`` is the same money attributed to the proposal that made a child (a
    view of the ledger, never added to it), so summing both would count each call twice.
    """
    where, params = [], []
    if run is not None:
        where.append("run=?")
        params.append(run)
    if agent is not None:
        where.append("agent=?")
        params.append(agent)
    sql = ("SELECT COALESCE(SUM(cost), 0), COALESCE(SUM(prompt_tokens), 0), "
           "COALESCE(SUM(completion_tokens), 0), COUNT(*) FROM usage")
    if where:
        sql += " WHERE " + " AND ".join(where)
    cost, pt, ct, calls = archive.query(sql, params)[0]
    return Spend(float(cost), int(pt), int(ct), int(calls))


class ArchiveView:
    """A read-only handle on one archive. Use as a context manager, or call :meth:`close`."""

    def __init__(self, archive: Archive):
        self.archive = archive  # the full store, for what this view does not cover

    @property
    def path(self) -> Path:
        return self.archive.path

    def close(self) -> None:
        self.archive.close()

    def __enter__(self) -> "ArchiveView":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- agents --------------------------------------------------------------
    def agents(self, status: str | None = None) -> list[Agent]:
        """Every agent in creation order, or those with ``status`` (admitted, rejected, ...)."""
        return self.archive.agents(status)

    def agent(self, agent_id: str | int) -> Agent:
        """One agent by id, by number (``42``) or by unique prefix; UnknownAgent otherwise."""
        return self.archive.agent(self.archive.resolve_id(str(agent_id)))

    def best(self) -> Agent | None:
        """The admitted agent with the highest score (the earliest on a tie), or None."""
        best = self.archive.best(1)
        return best[0] if best else None

    def __len__(self) -> int:
        return self.archive.count()

    # -- lineage -------------------------------------------------------------
    def parent(self, agent_id: str | int) -> str | None:
        return self.agent(agent_id).parent

    def children(self, agent_id: str | int) -> list[str]:
        return self.archive.children(self.agent(agent_id).id)

    def ancestors(self, agent_id: str | int) -> list[str]:
        """Ids from the agent's parent up to its root."""
        return self.archive.ancestors(self.agent(agent_id).id)

    def lineage(self) -> Any:
        """A networkx snapshot of the whole tree (:class:`dgm.archive.lineage.Lineage`): clades,
        best path, descendants, exports."""
        from dgm.archive.lineage import Lineage
        return Lineage.load(self.archive)

    # -- results -------------------------------------------------------------
    def evaluations(self, agent_id: str | int) -> list[dict]:
        """Per-task results: suite, stage (0-based), task, score, resolved, seconds, ..."""
        return self.archive.evaluations(self.agent(agent_id).id)

    def proposals(self, agent_id: str | int | None = None, run: str | None = None) -> list[dict]:
        aid = self.agent(agent_id).id if agent_id is not None else None
        return self.archive.proposals(aid, run)

    def runs(self) -> list[dict]:
        """Every run: id, status, seed, created, finished, and its config as a dict."""
        import json
        cols = ("id", "status", "seed", "created", "finished", "config")
        rows = self.archive.query(f"SELECT {', '.join(cols)} FROM runs ORDER BY created")
        return [dict(zip(cols, r)) | {"config": json.loads(r[5] or "{}")} for r in rows]

    def spend(self, run: str | None = None, agent: str | int | None = None) -> Spend:
        """Model spend from the one ledger (see :func:`spend`)."""
        aid = self.agent(agent).id if agent is not None else None
        return spend(self.archive, run=run, agent=aid)

    # -- code and exports ----------------------------------------------------
    def diff(self, agent_id: str | int, against: str | int | None = None) -> str:
        """The agent's change as a unified diff, against its parent or ``against``."""
        return self.archive.diff(self.agent(agent_id).id,
                                 self.agent(against).id if against is not None else None)

    def materialize(self, agent_id: str | int, dest: Path | str) -> Path:
        """Write the agent's code into ``dest`` (new or empty)."""
        return self.archive.materialize(self.agent(agent_id).id, Path(dest))

    def export_agent(self, agent_id: str | int, dest: Path | str) -> Path:
        """The agent's code plus a DGM_AGENT.md on running and replaying it."""
        from dgm.replay import export_agent
        return export_agent(self.archive, self.agent(agent_id).id, Path(dest))

    def export(self, fmt: str = "json", out: Path | str | None = None) -> str:
        """The lineage as ``json``, ``graphml`` or ``dot`` text (also written to ``out``)."""
        return self.lineage().export(fmt, Path(out) if out is not None else None)

    def check(self) -> list[str]:
        """Problems with the archive's invariants (empty when clean)."""
        return self.archive.check()


def open_archive(path: Path | str, readonly: bool = True) -> ArchiveView:
    """Open the archive at ``path`` for reading (``readonly=False`` takes the write lock)."""
    p = Path(path)
    if not (p / "dgm.db").is_file():
        raise NotAnArchive(f"{p} is not a dgm archive (no dgm.db)")
    return ArchiveView(Archive.open(p, readonly=readonly))
