"""Archive invariants (`dgm check`) and crash repair.

Invariant: every agent row has its ref and its commit, every ref has its row,
and each commit's git parent is the agent's lineage parent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dgm.archive.store import Archive


def check_archive(archive: "Archive") -> list[str]:
    """Every problem with the archive's invariants (empty list when clean)."""
    problems = []
    refs = archive.git.refs()
    rows = archive.query("SELECT id, commit_sha, parent FROM agents")
    by_id = {r[0]: r for r in rows}
    for agent_id, commit, _ in rows:
        if agent_id not in refs:
            problems.append(f"agent {agent_id}: no ref refs/dgm/agents/{agent_id}")
        elif refs[agent_id] != commit:
            problems.append(f"agent {agent_id}: ref points at {refs[agent_id][:12]}, "
                            f"row says {commit[:12]}")
    for agent_id in refs.keys() - by_id.keys():
        problems.append(f"ref refs/dgm/agents/{agent_id} has no agent row")
    # A row naming a missing object would make rev-list fail outright: ask only for present ones.
    present = archive.git.existing_commits([r[1] for r in rows])
    parents = archive.git.commit_parents([r[1] for r in rows if r[1] in present])
    for agent_id, commit, parent in rows:
        if commit not in parents:
            if agent_id in refs or commit not in present:
                problems.append(f"agent {agent_id}: commit {commit[:12]} is missing")
            continue
        expected = [by_id[parent][1]] if parent in by_id else []
        if parent is not None and parent not in by_id:
            problems.append(f"agent {agent_id}: parent {parent} has no row")
        elif parents[commit] != expected:
            problems.append(f"agent {agent_id}: git parents {parents[commit]} do not match "
                            f"lineage parent {parent}")
    return problems

def repair_refs(archive: "Archive") -> list[str]:
    """Re-create refs lost by a crash between the row insert and update-ref."""
    fixed = []
    refs = archive.git.refs()
    for agent_id, commit in archive.query("SELECT id, commit_sha FROM agents"):
        if agent_id not in refs and archive.git.has_commit(commit):
            archive.git.set_ref(agent_id, commit)
            fixed.append(agent_id)
    return fixed
