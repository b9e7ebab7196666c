"""An in-memory view of the archive for parent selection, updated incrementally.

Selection runs once per child; reloading 10k agents from SQLite each time
would dominate the loop's own overhead, so the scheduler keeps this view in
step with every write it makes (and rebuilds it from SQLite on resume).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Member:
    id: str
    parent: str | None
    status: str
    score: float | None = None
    admitted_children: int = 0
    failed_children: int = 0  # children rejected, failed or found to be duplicates
    own_sum: float = 0.0  # this agent's per-task results
    own_n: int = 0
    own_pass: int = 0
    clade_sum: float = 0.0  # pooled over the agent and all its descendants (HGM's clade)
    clade_n: int = 0
    clade_pass: int = 0
    children: list[str] = field(default_factory=list)
    # Per-task scores and seconds per task: loaded only for strategies that need them (qd).
    tasks: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


UNPRODUCTIVE = ("rejected", "failed", "duplicate")


class Population:
    """Agents, their scores, children counts and clade aggregates."""

    def __init__(self) -> None:
        self.members: dict[str, Member] = {}

    @classmethod
    def from_archive(cls, archive, with_tasks: bool = False) -> "Population":
        """Rebuild from the agents table and its per-agent totals (one query); with
        ``with_tasks`` also every admitted agent's per-task scores (one more query)."""
        pop = cls._from_archive(archive)
        if with_tasks:
            for aid, task, score, secs in archive.query(
                    "SELECT e.agent, e.task, e.score, e.seconds FROM evaluations e JOIN agents a "
                    "ON a.id = e.agent WHERE a.status = 'admitted' ORDER BY e.id"):
                pop.add_task(aid, task, score, secs)
        return pop

    def add_task(self, agent_id: str, task: str, score: float, seconds: float | None) -> None:
        m = self.members[agent_id]
        n = len(m.tasks)
        if task not in m.tasks:  # running mean of seconds per task
            m.seconds = (m.seconds * n + (seconds or 0.0)) / (n + 1)
        m.tasks[task] = score

    @classmethod
    def _from_archive(cls, archive) -> "Population":
        pop = cls()
        members = pop.members
        rows = archive.agents_with_results(("id", "parent", "status", "score"))
        unseen = []  # parents not (yet) present when their child came
        for aid, parent, status, score, *_ in rows:
            if parent is not None and parent not in members:
                unseen.append(parent)
            pop.add(aid, parent, status)
            members[aid].score = score
        if any(p in members for p in unseen):  # a child older than its parent: never made
            for aid, _, _, _, s, n, p in rows:  # by the archive, so the slow general way
                pop._add_results(aid, s, n, p)
            return pop
        # Parents come before their children, so pooling in reverse order visits each
        # clade bottom-up: linear, where adding every agent's totals up its whole
        # ancestry costs agents x depth (seconds at 100k agents).
        for (aid, *_, s, n, p), m in zip(rows, members.values()):
            m.own_sum, m.own_n, m.own_pass = s, n, p
        for m in reversed(members.values()):
            m.clade_sum += m.own_sum
            m.clade_n += m.own_n
            m.clade_pass += m.own_pass
            if m.parent is not None and (up := members.get(m.parent)) is not None:
                up.clade_sum += m.clade_sum
                up.clade_n += m.clade_n
                up.clade_pass += m.clade_pass
        return pop

    def add(self, agent_id: str, parent: str | None, status: str = "proposed") -> None:
        self.members[agent_id] = Member(agent_id, parent, status)
        if parent in self.members:
            self.members[parent].children.append(agent_id)
            if status == "admitted":
                self.members[parent].admitted_children += 1
            elif status in UNPRODUCTIVE:
                self.members[parent].failed_children += 1

    def set_status(self, agent_id: str, status: str) -> None:
        m = self.members[agent_id]
        up = self.members.get(m.parent) if m.parent is not None else None
        if up is not None:
            if (status == "admitted") != (m.status == "admitted"):
                up.admitted_children += 1 if status == "admitted" else -1
            if (status in UNPRODUCTIVE) != (m.status in UNPRODUCTIVE):
                up.failed_children += 1 if status in UNPRODUCTIVE else -1
        m.status = status

    def set_score(self, agent_id: str, score: float | None) -> None:
        self.members[agent_id].score = score

    def set_results(self, agent_id: str, s: float, n: int, p: int) -> None:
        """Set an agent's own totals (idempotent: re-recorded stages are not counted twice)."""
        m = self.members[agent_id]
        self._add_results(agent_id, s - m.own_sum, n - m.own_n, p - m.own_pass)

    def _add_results(self, agent_id: str, s: float, n: int, p: int) -> None:
        m = self.members[agent_id]
        m.own_sum += s
        m.own_n += n
        m.own_pass += p
        cur: str | None = agent_id
        while cur is not None and cur in self.members:  # every ancestor's clade grows
            c = self.members[cur]
            c.clade_sum += s
            c.clade_n += n
            c.clade_pass += p
            cur = c.parent

    def candidates(self) -> list[Member]:
        """Admitted agents with a score: the parents selection may choose from."""
        return [m for m in self.members.values() if m.status == "admitted" and m.score is not None]

    def best(self) -> Member | None:
        cands = self.candidates()
        return max(cands, key=lambda m: (m.score, -int(m.id))) if cands else None
