"""dgm/archive/store.py: every operation against a real bare repository and SQLite file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from types import SimpleNamespace

import pytest

from dgm.archive import db as dbmod
from dgm.archive.store import Archive, format_id
from dgm.errors import NotAnArchive, UnknownAgent

from archive_helpers import SEED_FILES, TaskResult, edit, read_tree


def git(archive, *args):
    return subprocess.run(["git", f"--git-dir={archive.path / 'repo.git'}", *args],
                          capture_output=True, text=True, check=True).stdout


# -- create / open ------------------------------------------------------------
def test_create_lays_out_a_bare_repo_and_a_wal_database(tmp_path):
    with Archive.create(tmp_path / "a") as a:
        assert (a.path / "repo.git" / "HEAD").is_file()
        assert (a.path / "dgm.db").is_file()
        assert a.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in a.query("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"meta", "runs", "agents", "edges", "evaluations", "artifacts", "proposals",
                "usage", "transcripts", "events"} <= tables
        assert a.query("SELECT value FROM meta WHERE key='schema_version'") == \
            [(str(dbmod.SCHEMA_VERSION),)]
        assert a.count() == 0 and a.check() == []


def test_create_refuses_existing_things(tmp_path):
    Archive.create(tmp_path / "a").close()
    with pytest.raises(NotAnArchive, match="already holds an archive"):
        Archive.create(tmp_path / "a")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    with pytest.raises(NotAnArchive, match="not empty"):
        Archive.create(tmp_path / "full")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotAnArchive, match="not a directory"):
        Archive.create(tmp_path / "file")
    assert (tmp_path / "full").iterdir().__next__().name == "x"  # untouched


def test_create_in_an_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    Archive.create(tmp_path / "empty").close()
    Archive.open(tmp_path / "empty").close()


def test_open_errors_write_nothing(tmp_path):
    with pytest.raises(NotAnArchive, match="does not exist"):
        Archive.open(tmp_path / "nope")
    assert not (tmp_path / "nope").exists()
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotAnArchive, match="not a dgm archive"):
        Archive.open(tmp_path / "plain")
    assert list((tmp_path / "plain").iterdir()) == []


@pytest.mark.parametrize("readonly", [True, False])
def test_open_corrupted_database(tmp_path, seed_dir, readonly):
    with Archive.create(tmp_path / "a") as a:
        a.add_seed(seed_dir)
    (tmp_path / "a" / "dgm.db").write_bytes(b"\x13garbage, not sqlite" * 300)
    with pytest.raises((NotAnArchive, sqlite3.DatabaseError), match="not a database"):
        Archive.open(tmp_path / "a", readonly=readonly)
    # the failed open released its lock: a later writer is not locked out by it
    with pytest.raises((NotAnArchive, sqlite3.DatabaseError)):
        Archive.open(tmp_path / "a")


def test_open_foreign_or_newer_database(tmp_path):
    Archive.create(tmp_path / "a").close()
    conn = sqlite3.connect(tmp_path / "a" / "dgm.db")
    conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.commit()
    with pytest.raises(NotAnArchive, match="newer than this dgm"):
        Archive.open(tmp_path / "a", readonly=True)
    conn.execute("DELETE FROM meta")
    conn.commit()
    conn.close()
    with pytest.raises(NotAnArchive, match="no dgm schema version"):
        Archive.open(tmp_path / "a", readonly=True)


def test_reopen_continues_ids(tmp_path, seed_dir, make_diff):
    with Archive.create(tmp_path / "a") as a:
        s = a.add_seed(seed_dir)
        a.add_child(s, make_diff(SEED_FILES, edit(SEED_FILES, "README.md", "v2\n")),
                    summary="v2", proposer="t")
    with Archive.open(tmp_path / "a") as a:
        assert [x.id for x in a.agents()] == ["000001", "000002"]
        assert a.add_seed(seed_dir) == "000003"


# -- adding agents -------------------------------------------------------------
def test_add_seed(seeded):
    a, s = seeded
    ag = a.agent(s)
    assert (s, ag.parent, ag.depth, ag.generation, ag.status) == ("000001", None, 0, 0, "proposed")
    assert git(a, "rev-parse", f"refs/dgm/agents/{s}").strip() == ag.commit_sha
    assert git(a, "log", "-1", "--format=%B", ag.commit_sha).startswith(f"dgm agent {s}\n")
    assert git(a, "rev-parse", f"{ag.commit_sha}^{{tree}}").strip() == ag.tree
    assert a.proposals(agent_id=s)[0]["status"] == "committed"


def test_add_child_records_everything(seeded, make_diff):
    a, s = seeded
    new = edit(SEED_FILES, "tools/util.py", "def add(a, b):\n    return a + b + 0\n")
    diff = make_diff(SEED_FILES, new)
    usage = SimpleNamespace(model="gpt-x", prompt_tokens=120, completion_tokens=30, cost=0.0042)
    other = a.add_seed(a.path.parent / "seed")
    r = a.add_child(s, diff, summary="tweak add", proposer="llm", run="r1", usage=usage,
                    diagnosis="add is slow", transplant_from=other, inspirations=[other],
                    seconds=1.5)
    assert r.ok and r.reason is None and r.agent_id == "000003"
    c = a.agent(r.agent_id)
    assert (c.parent, c.depth, c.generation, c.proposer, c.run, c.summary) == \
        (s, 1, 1, "llm", "r1", "tweak add")
    assert git(a, "rev-parse", f"{c.commit_sha}^").strip() == a.agent(s).commit_sha
    assert "tweak add" in git(a, "log", "-1", "--format=%B", c.commit_sha)
    p = a.proposals(agent_id=c.id)[0]
    assert (p["parent"], p["model"], p["prompt_tokens"], p["completion_tokens"], p["cost"],
            p["diagnosis"], p["status"], p["seconds"]) == \
        (s, "gpt-x", 120, 30, 0.0042, "add is slow", "committed", 1.5)
    assert a.query("SELECT diff FROM proposals WHERE id=?", [r.proposal_id])[0][0] == diff
    assert sorted(a.query("SELECT src, kind FROM edges WHERE dst=?", [c.id])) == \
        [(s, "parent"), (other, "inspiration"), (other, "transplant")]
    assert a.children(s) == [c.id] and a.ancestors(c.id) == [s]
    assert a.check() == []


def test_depth_and_generation_along_a_chain(seeded, make_diff):
    a, s = seeded
    files, cur = dict(SEED_FILES), s
    for i in range(5):
        new = edit(files, "README.md", f"v{i}\n")
        cur = a.add_child(cur, make_diff(files, new), summary=f"v{i}", proposer="t").agent_id
        files = new
    assert a.agent(cur).depth == 5 and a.agent(cur).generation == 5
    assert a.ancestors(cur) == ["000005", "000004", "000003", "000002", "000001"]
    forced = a.add_child(cur, make_diff(files, edit(files, "README.md", "z\n")), summary="z",
                         proposer="t", generation=42)
    assert a.agent(forced.agent_id).generation == 42 and a.agent(forced.agent_id).depth == 6


def test_add_child_of_unknown_parent(seeded):
    a, _ = seeded
    with pytest.raises(UnknownAgent, match="000009"):
        a.add_child("000009", "x", summary="", proposer="t")
    assert a.proposals() == a.proposals()[:1]  # nothing recorded beyond the seed's


def _bad_diffs(make_diff):
    stale = make_diff(edit(SEED_FILES, "main.py", "other\n"), edit(SEED_FILES, "main.py", "new\n"))
    return [
        ("", "empty diff"),
        ("I would change main.py", "not a unified diff"),
        ("--- a/main.py\n+++ ../evil.py\n@@ -1 +1 @@\n-a\n+b\n", "escapes"),
        ("--- /dev/null\n+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+rm -rf /\n", ".git"),
        ("diff --git a/x b/x\nnew file mode 100644\nGIT binary patch\nliteral 1\nIcmZ>A\n", "binary"),
        ("--- /dev/null\n+++ b/big.txt\n@@ -0,0 +1 @@\n+" + "x" * 600_000 + "\n", "too large"),
        (stale, "does not apply"),
    ]


def test_bad_diffs_become_rejected_proposals(seeded, make_diff):
    a, s = seeded
    refs_before = git(a, "for-each-ref")
    for diff, word in _bad_diffs(make_diff):
        r = a.add_child(s, diff, summary="bad", proposer="llm", run="r1",
                        usage=SimpleNamespace(model="m", prompt_tokens=5, completion_tokens=1,
                                              cost=0.01))
        assert not r.ok and word in r.reason, (word, r.reason)
        row = a.query("SELECT status, reason, parent, agent, diff, cost FROM proposals "
                      "WHERE id=?", [r.proposal_id])[0]
        assert row == ("rejected", r.reason, s, None, diff, 0.01)
    assert a.count() == 1 and git(a, "for-each-ref") == refs_before
    assert a.check() == []


def test_a_diff_that_changes_nothing_is_rejected(seeded, make_diff):
    a, s = seeded
    # add then remove the same line: applies cleanly, same tree as the parent
    there = make_diff(SEED_FILES, edit(SEED_FILES, "README.md", "toy agent\nmore\n"))
    back = make_diff(edit(SEED_FILES, "README.md", "toy agent\nmore\n"), SEED_FILES)
    r = a.add_child(s, there + back, summary="noop", proposer="t")
    assert not r.ok and r.reason == "diff changes nothing"


def test_record_rejected_proposal(seeded):
    a, s = seeded
    pid = a.record_rejected_proposal(s, "model answer had no edits", proposer="llm",
                                     usage=SimpleNamespace(model="m", prompt_tokens=3,
                                                           completion_tokens=4, cost=0.5))
    p = [p for p in a.proposals() if p["id"] == pid][0]
    assert (p["status"], p["reason"], p["agent"], p["cost"]) == \
        ("rejected", "model answer had no edits", None, 0.5)


# -- status, evaluations, journal ------------------------------------------------
def test_status_transitions(seeded):
    a, s = seeded
    a.set_status(s, "evaluating")
    a.set_status(s, "proposed")  # re-queued on resume
    a.set_status(s, "evaluating")
    a.set_status(s, "rejected", reason="below stage 1 threshold")
    assert (a.agent(s).status, a.agent(s).reason) == ("rejected", "below stage 1 threshold")
    for target in ("admitted", "evaluating", "proposed", "failed"):
        with pytest.raises(ValueError, match="illegal transition rejected"):
            a.set_status(s, target)
    with pytest.raises(ValueError, match="unknown status"):
        a.set_status(s, "validated-ish")
    with pytest.raises(UnknownAgent):
        a.set_status("000404", "evaluating")
    assert a.agent(s).status == "rejected"


@pytest.mark.parametrize("path", [["evaluating", "admitted"], ["evaluating", "failed"],
                                  ["failed"], ["rejected"]])
def test_legal_paths(seeded, path):
    a, s = seeded
    for st in path:
        a.set_status(s, st)
    assert a.agent(s).status == path[-1]
    assert [x.id for x in a.agents(status=path[-1])] == [s]


def test_record_evaluation(seeded):
    a, s = seeded
    score = a.record_evaluation(s, "toy", 1, [TaskResult("t1", 1.0, True, log="ok"),
                                              TaskResult("t2", 0.0, False, log="boom")],
                                image="sha256:abc", seed=7, run="r1",
                                artifacts={"failures": "t2: boom"})
    assert score == pytest.approx(0.5) and a.agent(s).score == pytest.approx(0.5)
    score = a.record_evaluation(s, "toy", 2, [TaskResult("t3", 0.5, False)])
    assert score == pytest.approx(0.5)
    # re-recording a task replaces it instead of duplicating it
    score = a.record_evaluation(s, "toy", 1, [TaskResult("t2", 1.0, True)])
    assert score == pytest.approx(2.5 / 3)
    ev = a.evaluations(s)
    assert [(e["stage"], e["task"], e["score"], e["resolved"]) for e in ev] == \
        [(1, "t1", 1.0, True), (1, "t2", 1.0, True), (2, "t3", 0.5, False)]
    assert ev[0]["image"] == "sha256:abc" and ev[0]["seed"] == 7 and ev[0]["log"] == "ok"
    assert a.artifacts(s) == {"toy/1/failures": "t2: boom"}


def test_record_evaluation_is_all_or_nothing(seeded):
    a, s = seeded
    with pytest.raises(sqlite3.Error):
        a.record_evaluation(s, "toy", 1, [TaskResult("t1", 1.0, True)],
                            artifacts={"bad": {"not": "text"}})
    assert a.evaluations(s) == [] and a.agent(s).score is None
    with pytest.raises(sqlite3.IntegrityError):  # unknown agent: foreign key
        a.record_evaluation("000404", "toy", 1, [TaskResult("t1", 1.0, True)])
    # the archive is still writable after the rollbacks
    assert a.record_evaluation(s, "toy", 1, [TaskResult("t1", 1.0, True)]) == 1.0


def test_events_usage_transcripts(seeded):
    a, s = seeded
    e1 = a.record_event("job_started", run="r1", agent=s, worker=3)
    e2 = a.record_event("job_done", run="r1", agent=s, score=0.5, path=a.path)
    e3 = a.record_event("job_started", run="r2")
    assert e1 < e2 < e3
    assert [e["seq"] for e in a.events(run="r1")] == [e1, e2]
    assert [e["seq"] for e in a.events(kind="job_started")] == [e1, e3]
    assert a.events(run="r1")[1]["data"] == {"score": 0.5, "path": str(a.path)}
    a.record_usage(s, "gpt-x", 10, 5, 0.002, run="r1", purpose="diagnose")
    a.record_transcript(s, json.dumps([{"role": "user", "content": "hi"}]), run="r1")
    assert a.query("SELECT agent, model, prompt_tokens, completion_tokens, cost, purpose "
                   "FROM usage") == [(s, "gpt-x", 10, 5, 0.002, "diagnose")]
    assert json.loads(a.query("SELECT text FROM transcripts")[0][0])[0]["content"] == "hi"


# -- reading -------------------------------------------------------------------
def test_materialize_any_depth_without_a_git_process_per_call(seeded, make_diff, tmp_path,
                                                              monkeypatch):
    a, s = seeded
    files, cur, expected = dict(SEED_FILES), s, {}
    for i in range(30):
        new = edit(files, f"mod{i % 4}.py", f"V = {i}\n")
        if i % 7 == 6:
            new.pop("README.md", None)
        cur = a.add_child(cur, make_diff(files, new), summary=f"s{i}", proposer="t").agent_id
        files = expected[cur] = new
    calls = []
    real = a.git.git
    monkeypatch.setattr(a.git, "git", lambda *args, **kw: calls.append(args[0]) or real(*args, **kw))
    for agent_id in (cur, "000002", "000016"):  # loose objects: read directly
        dest = a.materialize(agent_id, tmp_path / f"m{agent_id}")
        assert read_tree(dest) == expected[agent_id]
    assert read_tree(a.materialize(s, tmp_path / "mseed")) == SEED_FILES
    assert calls == [] and a.git._objects.pid is None
    real("repack", "-adq")  # packed objects: through the one cat-file reader, kept
    readers = set()
    for agent_id in (cur, "000002", "000016"):
        dest = a.materialize(agent_id, tmp_path / f"p{agent_id}")
        assert read_tree(dest) == expected[agent_id]
        readers.add(a.git._objects.pid)
    assert calls == [] and len(readers) == 1 and None not in readers


def test_diff_against_parent_and_other(seeded, make_diff):
    a, s = seeded
    v1 = edit(SEED_FILES, "main.py", "print(1)\n")
    c1 = a.add_child(s, make_diff(SEED_FILES, v1), summary="1", proposer="t").agent_id
    v2 = edit(v1, "README.md", "two\n")
    c2 = a.add_child(c1, make_diff(v1, v2), summary="2", proposer="t").agent_id
    d = a.diff(c2)
    assert "+two" in d and "main.py" not in d
    both = a.diff(c2, s)
    assert "+two" in both and "+print(1)" in both
    assert "new file mode" in a.diff(s) and "+++ b/agent.toml" in a.diff(s)
    # the stored diff re-applies: another child made from `dgm diff` output has the same tree
    again = a.add_child(s, both, summary="again", proposer="t").agent_id
    assert a.agent(again).tree == a.agent(c2).tree


def test_ids_are_short_unique_and_sort_in_creation_order(seeded, make_diff):
    a, s = seeded
    d = make_diff(SEED_FILES, edit(SEED_FILES, "README.md", "x\n"))
    ids = [s] + [a.add_child(s, d, summary="", proposer="t").agent_id for _ in range(11)]
    assert ids == sorted(ids) == [format_id(i) for i in range(1, 13)]
    assert all(len(i) == 6 for i in ids)


def test_resolve_id_and_suggestions(seeded, make_diff):
    a, s = seeded
    d = make_diff(SEED_FILES, edit(SEED_FILES, "README.md", "x\n"))
    for _ in range(11):
        a.add_child(s, d, summary="", proposer="t")
    assert a.resolve_id("1") == "000001" and a.resolve_id("000012") == "000012"
    assert a.resolve_id("00001") == "000001"  # a number wins over a prefix
    assert a.resolve_id(" 12 ") == "000012"
    with pytest.raises(UnknownAgent):  # "0000" is ambiguous as a prefix and seq 0 does not exist
        a.resolve_id("0000")
    with pytest.raises(UnknownAgent, match="did you mean"):
        a.resolve_id("000013")
    with pytest.raises(UnknownAgent):
        a.resolve_id("99")


def test_best(seeded, make_diff):
    a, s = seeded
    d = make_diff(SEED_FILES, edit(SEED_FILES, "README.md", "x\n"))
    kids = [a.add_child(s, d, summary="", proposer="t").agent_id for _ in range(3)]
    for k, sc, st in zip(kids, (0.9, 0.7, 0.99), ("admitted", "admitted", "rejected")):
        a.record_evaluation(k, "toy", 1, [TaskResult("t", sc, sc > 0.5)])
        a.set_status(k, "evaluating")
        a.set_status(k, st)
    assert [b.id for b in a.best(2)] == [kids[0], kids[1]]
    assert [b.id for b in a.best(1, status="rejected")] == [kids[2]]


def test_readonly_refuses_writes_and_sees_data(tmp_path, seed_dir):
    with Archive.create(tmp_path / "a") as a:
        s = a.add_seed(seed_dir)
    with Archive.open(tmp_path / "a", readonly=True) as r:
        assert r.agent(s).id == s and r.check() == []
        with pytest.raises(PermissionError):
            r.add_seed(seed_dir)
        with pytest.raises(PermissionError):
            r.set_status(s, "evaluating")
        with pytest.raises(PermissionError):
            r.record_event("x")
        assert read_tree(r.materialize(s, tmp_path / "m")) == SEED_FILES


# -- check and repair -----------------------------------------------------------
@pytest.fixture
def small_tree(seeded, make_diff):
    a, s = seeded
    v1 = edit(SEED_FILES, "main.py", "print(1)\n")
    c1 = a.add_child(s, make_diff(SEED_FILES, v1), summary="1", proposer="t").agent_id
    c2 = a.add_child(c1, make_diff(v1, edit(v1, "README.md", "2\n")), summary="2",
                     proposer="t").agent_id
    assert a.check() == []
    return a, s, c1, c2


def test_check_finds_a_missing_ref_and_repair_restores_it(small_tree):
    a, s, c1, c2 = small_tree
    git(a, "update-ref", "-d", f"refs/dgm/agents/{c1}")
    assert a.check() == [f"agent {c1}: no ref refs/dgm/agents/{c1}"]
    assert a.repair() == [c1]
    assert a.check() == []


def test_reopen_repairs_a_lost_ref(small_tree):
    a, s, c1, c2 = small_tree
    git(a, "update-ref", "-d", f"refs/dgm/agents/{c2}")
    path = a.path
    a.close()
    with Archive.open(path, readonly=True) as r:
        assert len(r.check()) == 1  # readers never write, so the problem is still there
    with Archive.open(path) as w:
        assert w.check() == []


def test_check_finds_a_ref_without_row(small_tree):
    a, s, c1, c2 = small_tree
    git(a, "update-ref", "refs/dgm/agents/000099", a.agent(c1).commit_sha)
    assert a.check() == ["ref refs/dgm/agents/000099 has no agent row"]


def test_check_finds_a_moved_ref(small_tree):
    a, s, c1, c2 = small_tree
    git(a, "update-ref", f"refs/dgm/agents/{c2}", a.agent(c1).commit_sha)
    problems = a.check()
    assert len(problems) == 1 and problems[0].startswith(f"agent {c2}: ref points at")


def test_check_finds_wrong_lineage_parent(small_tree):
    a, s, c1, c2 = small_tree
    a.db.execute("UPDATE agents SET parent=? WHERE id=?", [s, c2])
    assert a.check() == [f"agent {c2}: git parents [{a.agent(c1).commit_sha!r}] do not match "
                         f"lineage parent {s}"]


def test_check_finds_a_missing_commit_without_crashing(small_tree):
    a, s, c1, c2 = small_tree
    a.db.execute("UPDATE agents SET commit_sha=? WHERE id=?", ["ab" * 20, c1])
    problems = a.check()
    assert f"agent {c1}: commit {'ab' * 6} is missing" in problems
    assert any(p.startswith(f"agent {c1}: ref points at") for p in problems)
    assert any(p.startswith(f"agent {c2}: git parents") for p in problems)


# -- the two halves of add_child, runs ---------------------------------------------
def test_prepare_child_writes_only_git_objects(seeded, make_diff):
    a, s = seeded
    new = edit(SEED_FILES, "main.py", "print('prepared')\n")
    prep = a.prepare_child(s, make_diff(SEED_FILES, new), "prepared")
    assert prep.reason is None and prep.agent_id == "000002" and prep.depth == 1
    # the commit exists but the agent does not, yet: no row, no ref, check still clean
    assert a.git.has_commit(prep.commit) and a.count() == 1
    assert "000002" not in a.git.refs() and a.check() == []
    r = a.commit_child(prep, proposer="llm", run="r1", job=7)
    assert r.ok and r.agent_id == "000002" and a.check() == []
    assert a.query("SELECT job, run FROM proposals WHERE id=?", [r.proposal_id]) == [(7, "r1")]
    assert a.git.read_file(a.agent("000002").commit_sha, "main.py") == b"print('prepared')\n"


def test_prepared_rejection_is_recorded_by_commit_child(seeded):
    a, s = seeded
    prep = a.prepare_child(s, "--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n", "escape")
    assert prep.reason and "escapes" in prep.reason and prep.agent_id is None
    assert a.proposals()[-1]["status"] == "committed"  # nothing recorded by prepare
    r = a.commit_child(prep, proposer="llm", job=3)
    assert not r.ok and r.reason == prep.reason
    assert a.proposals()[-1]["status"] == "rejected" and a.count() == 1


def test_an_uncommitted_preparation_leaves_a_gap_not_a_problem(seeded, make_diff, tmp_path):
    a, s = seeded
    d = make_diff(SEED_FILES, edit(SEED_FILES, "README.md", "x\n"))
    a.prepare_child(s, d, "abandoned by a dead worker")
    r = a.add_child(s, d, summary="next", proposer="t")
    assert r.agent_id == "000003" and a.check() == []
    path = a.path
    a.close()
    with Archive.open(path) as again:
        assert again.check() == [] and again.count() == 2


def test_save_run_and_run_info(archive):
    assert archive.run_info() is None
    archive.save_run("r1", status="running", seed=3, config='{"k": 1}')
    archive.save_run("r1", status="finished", finished=123.0)
    info = archive.run_info("r1")
    assert (info["status"], info["seed"], info["config"], info["finished"]) == \
        ("finished", 3, '{"k": 1}', 123.0)
    archive.save_run("r2")
    assert archive.run_info()["id"] == "r2" and archive.run_info("nope") is None
    with pytest.raises(ValueError, match="unknown run fields"):
        archive.save_run("r1", colour="blue")
