"""Hypothesis state machine: random add / record / materialise / reopen sequences.

The model is a dict agent id -> expected files. After every step `dgm check` is
clean and the archive holds exactly the modelled agents; every materialised tree
equals the model's files.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant, multiple,
                                 rule)

from dgm.archive.store import TRANSITIONS, Archive
from dgm.archive.lineage import Lineage

from archive_helpers import TaskResult, read_tree, unified_diff, write_tree

PATHS = ["agent.toml", "main.py", "pkg/util.py", "pkg/deep/x.txt", "notes.md"]
line = st.text(alphabet="abcxyz =+()0123", min_size=0, max_size=12)
content = st.lists(line, min_size=1, max_size=6).map(lambda ls: "".join(x + "\n" for x in ls))
file_sets = st.dictionaries(st.sampled_from(PATHS), content, min_size=1, max_size=4)


class ArchiveMachine(RuleBasedStateMachine):
    agents = Bundle("agents")

    def __init__(self):
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="dgm-sm-"))
        self.archive = Archive.create(self.tmp / "arc")
        self.expected: dict[str, dict[str, str]] = {}
        self.parent: dict[str, str | None] = {}
        self.status: dict[str, str] = {}
        self.rejected = 0
        self.n = 0

    def teardown(self):
        self.archive.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _dir(self) -> Path:
        self.n += 1
        return self.tmp / f"d{self.n}"

    @initialize(target=agents, files=file_sets)
    def first_seed(self, files):
        return self.add_seed(files)

    @rule(target=agents, files=file_sets)
    def add_seed(self, files):
        agent_id = self.archive.add_seed(write_tree(self._dir(), files))
        self.expected[agent_id], self.parent[agent_id] = dict(files), None
        self.status[agent_id] = "proposed"
        return agent_id

    @rule(target=agents, parent=agents, path=st.sampled_from(PATHS), text=content,
          delete=st.booleans())
    def add_child(self, parent, path, text, delete):
        old = self.expected[parent]
        new = dict(old)
        if delete and path in new and len(new) > 1:
            del new[path]
        else:
            new[path] = text
        r = self.archive.add_child(parent, unified_diff(old, new), summary=f"edit {path}",
                                   proposer="hypothesis")
        if new == old:
            assert not r.ok and r.reason.startswith("empty diff")
            self.rejected += 1
            return multiple()  # nothing new for the bundle
        assert r.ok, r.reason
        self.expected[r.agent_id], self.parent[r.agent_id] = new, parent
        self.status[r.agent_id] = "proposed"
        return r.agent_id

    @rule(parent=agents, path=st.sampled_from(PATHS), text=content)
    def add_stale_child(self, parent, path, text):
        """A diff made against a version the parent does not have is rejected, not raised."""
        old = self.expected[parent]
        if path not in old:
            return
        stale = {**old, path: "not what the parent has\n" + old[path]}
        diff = unified_diff(stale, {**stale, path: text + "changed\n"})
        r = self.archive.add_child(parent, diff, summary="stale", proposer="hypothesis")
        assert not r.ok and r.reason.startswith("diff does not apply")
        self.rejected += 1

    @rule(agent=agents, score=st.floats(0, 1), target_status=st.sampled_from(
        ["evaluating", "admitted", "rejected", "failed", "proposed"]))
    def record(self, agent, score, target_status):
        self.archive.record_evaluation(agent, "toy", 1, [TaskResult("t", score, score > 0.5)])
        current = self.status[agent]
        legal = target_status == current or target_status in TRANSITIONS[current]
        try:
            self.archive.set_status(agent, target_status)
            assert legal
            self.status[agent] = target_status
        except ValueError:
            assert not legal
        a = self.archive.agent(agent)
        assert a.status == self.status[agent] and abs(a.score - score) < 1e-9

    @rule(agent=agents)
    def materialise(self, agent):
        assert read_tree(self.archive.materialize(agent, self._dir())) == self.expected[agent]

    @rule(target=agents, agent=agents)
    def diff_reapplies(self, agent):
        """`dgm diff` output re-applied to the parent yields the same tree."""
        if self.parent[agent] is None:
            return multiple()
        text = self.archive.diff(agent)
        r = self.archive.add_child(self.parent[agent], text, summary="again", proposer="hyp")
        assert r.ok and self.archive.agent(r.agent_id).tree == self.archive.agent(agent).tree
        self.expected[r.agent_id] = self.expected[agent]
        self.parent[r.agent_id], self.status[r.agent_id] = self.parent[agent], "proposed"
        return r.agent_id

    @rule()
    def reopen(self):
        self.archive.close()
        self.archive = Archive.open(self.tmp / "arc")

    @invariant()
    def check_is_clean(self):
        assert self.archive.check() == []
        assert self.archive.count() == len(self.expected)
        rows = {a.id: a.parent for a in self.archive.agents()}
        assert rows == self.parent
        assert self.archive.query("SELECT COUNT(*) FROM proposals WHERE status='rejected'") \
            == [(self.rejected,)]
        lin = Lineage.load(self.archive)
        for agent_id, parent in self.parent.items():
            assert lin.parent(agent_id) == parent


ArchiveMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestArchiveStateMachine = ArchiveMachine.TestCase
