"""The archive's fast paths: materialise through one cat-file reader, per-agent totals.

Against real git and real SQLite files: the reader's output is compared with
``git archive`` unpacked by tarfile, its safety rules with crafted trees, and
the kept totals (agent_evals) with a GROUP BY over the evaluations, including
a version-1 archive written by SQL as the first dgm wrote it.
"""

from __future__ import annotations

import gc
import io
import os
import random
import signal
import sqlite3
import stat
import subprocess
import tarfile
import threading
import time

import pytest

from dgm.archive import db as dbmod
from dgm.archive.store import Archive
from dgm.archive.gitstore import GitError, GitStore
from dgm.archive.lineage import ATTRS, NODE_COLS, Lineage
from dgm.engine.population import Population

from archive_helpers import SEED_FILES, TaskResult, edit, read_tree, write_tree


@pytest.fixture
def store(tmp_path):
    s = GitStore.init(tmp_path / "repo.git")
    yield s
    s.close()


def snapshot(root) -> dict:
    """path -> ("link", target) | ("file", bytes, executable) | ("dir",) for a whole tree."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir",)
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", f.read(), bool(os.stat(p).st_mode & stat.S_IXUSR))
    return out


def git_archive_tree(store: GitStore, commit: str, dest):
    """The reference: ``git archive`` unpacked by tarfile's own data filter."""
    data = subprocess.run(["git", f"--git-dir={store.path}", "archive", commit],
                          capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def crafted_commit(store: GitStore, entries: list[tuple[bytes, bytes, str]]) -> str:
    """A commit whose root tree holds exactly ``entries`` (mode, name, object id), unchecked."""
    raw = b"".join(mode + b" " + name + b"\0" + bytes.fromhex(oid) for mode, name, oid in entries)
    tree = store.git("hash-object", "-t", "tree", "-w", "--literally", "--stdin",
                     input=raw).decode().strip()
    return store.commit_tree(tree, None, "crafted")


def blob(store: GitStore, data: bytes) -> str:
    return store.git("hash-object", "-w", "--stdin", input=data).decode().strip()


def pack(store: GitStore, everything: bool = True) -> None:
    """Move the referenced objects into a pack: then only the cat-file reader serves them."""
    store.git("repack", "-adq" if everything else "-dq")
    assert not any(len(d.name) == 2 and any(d.iterdir()) for d in (store.path / "objects").iterdir()
                   if d.is_dir())


# -- materialise -------------------------------------------------------------------
def test_materialize_writes_what_git_archive_writes(store, tmp_path):
    """Nested dirs, more entries than one request chunk, a file bigger than a pipe,
    empty and executable files, internal links, a non-ASCII name."""
    files = {**SEED_FILES, "empty.txt": "", "big/blob.txt": "0123456789abcdef\n" * 70_000,
             "ünï/cödé.py": "X = 'é'\n"}
    files.update({f"many/d{i % 7}/f{i:03d}.py": f"V = {i}\n" for i in range(300)})
    src = write_tree(tmp_path / "src", files)
    os.chmod(src / "main.py", 0o755)
    os.chmod(src / "many" / "d3" / "f003.py", 0o755)
    os.symlink("tools/util.py", src / "util_link.py")
    os.symlink("../../README.md", src / "many" / "d1" / "readme")
    commit, _ = store.commit_directory(src, "seed")
    ours = snapshot(store.materialize(commit, tmp_path / "ours"))  # loose objects, read directly
    assert store._objects.pid is None  # no git process was needed
    assert ours == snapshot(git_archive_tree(store, commit, tmp_path / "ref"))
    assert len([v for v in ours.values() if v[0] == "file"]) == len(files)
    assert ours["main.py"][2] and not ours["README.md"][2] and ours["many/d3/f003.py"][2]
    store.set_ref("000001", commit)
    pack(store)
    assert snapshot(store.materialize(commit, tmp_path / "packed")) == ours  # through cat-file
    assert store._objects.pid is not None


@pytest.mark.parametrize("name", [b"..", b".", b"a/../../x", b"/etc/x", b""])
def test_materialize_refuses_unsafe_names(store, tmp_path, name):
    ok = blob(store, b"fine\n")
    commit = crafted_commit(store, [(b"100644", b"ok.txt", ok), (b"100644", name, ok)])
    dest = tmp_path / "deep" / "out"
    with pytest.raises(ValueError, match="unsafe path|corrupt"):
        store.materialize(commit, dest)
    assert sorted(os.listdir(tmp_path)) == ["deep", "repo.git"]
    assert set(os.listdir(tmp_path / "deep")) == {"out"}


def test_materialize_refuses_a_chain_of_links_that_leads_out(store, tmp_path):
    """Each link's text stays inside; together they leave (b -> a/.. with a -> .)."""
    dot, up = blob(store, b"."), blob(store, b"a/..")
    commit = crafted_commit(store, [(b"120000", b"a", dot), (b"120000", b"b", up)])
    dest = tmp_path / "out"
    with pytest.raises(ValueError, match="'b': link out of the agent"):
        store.materialize(commit, dest)
    assert not os.path.lexists(dest / "b") and os.readlink(dest / "a") == "."


def test_materialize_writes_a_gitlink_as_an_empty_directory(store, tmp_path):
    ok = blob(store, b"fine\n")
    commit = crafted_commit(store, [(b"100644", b"ok.txt", ok), (b"160000", b"sub", "ab" * 20)])
    dest = store.materialize(commit, tmp_path / "out")
    assert snapshot(dest) == snapshot(git_archive_tree(store, commit, tmp_path / "ref"))
    assert os.listdir(dest / "sub") == []


def test_materialize_does_not_write_through_a_directory_link_in_dest(store, tmp_path):
    commit, _ = store.commit_directory(write_tree(tmp_path / "src", SEED_FILES), "seed")
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    os.symlink(outside, dest / "tools")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        store.materialize(commit, dest)
    assert os.listdir(outside) == []


def test_materialize_names_a_missing_commit(store, tmp_path):
    with pytest.raises(GitError, match="not a commit"):
        store.materialize("0" * 40, tmp_path / "out")
    with pytest.raises(ValueError, match="not an object name"):
        store.materialize("HEAD\n0000", tmp_path / "out2")


# -- the reader process ------------------------------------------------------------
def wait_gone(pid: int) -> bool:
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


def test_a_damaged_object_is_refused_not_written(store, tmp_path):
    """git serves a loose object whose content is not what its id names; we refuse it."""
    commit, _ = store.commit_directory(write_tree(tmp_path / "src", SEED_FILES), "seed")
    readme = store.git("rev-parse", f"{commit}:README.md").decode().strip()
    other = blob(store, b"not the readme\n")
    path = store.path / "objects" / readme[:2] / readme[2:]
    os.chmod(path, 0o644)
    path.write_bytes((store.path / "objects" / other[:2] / other[2:]).read_bytes())
    with pytest.raises(GitError, match=f"object {readme} .* is damaged"):
        store.materialize(commit, tmp_path / "out")
    assert not (tmp_path / "out" / "README.md").exists()


def test_a_dead_reader_is_restarted(seeded, tmp_path):
    a, s = seeded
    pack(a.git)
    a.materialize(s, tmp_path / "one")
    pid = a.git._objects.pid
    os.kill(pid, signal.SIGKILL)
    assert read_tree(a.materialize(s, tmp_path / "two")) == SEED_FILES
    assert a.git._objects.pid not in (None, pid)


def test_the_reader_sees_objects_packed_after_it_started(seeded, make_diff, tmp_path):
    a, s = seeded
    pack(a.git)
    assert read_tree(a.materialize(s, tmp_path / "seed")) == SEED_FILES
    pid = a.git._objects.pid
    new = edit(SEED_FILES, "main.py", "print('child')\n")
    child = a.add_child(s, make_diff(SEED_FILES, new), summary="c", proposer="t").agent_id
    assert read_tree(a.materialize(child, tmp_path / "loose")) == new
    pack(a.git, everything=False)  # a second pack, made after the reader started
    assert read_tree(a.materialize(child, tmp_path / "packed")) == new
    assert a.git._objects.pid == pid


def test_threads_share_one_reader(seeded, make_diff, tmp_path):
    a, s = seeded
    expected, files, cur = {s: SEED_FILES}, SEED_FILES, s
    for i in range(6):
        new = edit(files, "tools/util.py", f"V = {i}\n")
        cur = a.add_child(cur, make_diff(files, new), summary=str(i), proposer="t").agent_id
        expected[cur], files = new, new
    pack(a.git)
    errors, pids = [], set()

    def work(k: int) -> None:
        try:
            for j, (aid, want) in enumerate(expected.items()):
                assert read_tree(a.materialize(aid, tmp_path / f"t{k}-{j}")) == want
                pids.add(a.git._objects.pid)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(pids) == 1


def test_closing_or_dropping_the_store_stops_its_reader(tmp_path, seed_dir):
    a = Archive.create(tmp_path / "arc")
    s = a.add_seed(seed_dir)
    pack(a.git)
    a.materialize(s, tmp_path / "one")
    pid = a.git._objects.pid
    a.close()
    assert a.git._objects.pid is None and wait_gone(pid)
    store = GitStore(tmp_path / "arc" / "repo.git")  # as evaluation workers use one
    store.materialize(Archive.open(tmp_path / "arc", readonly=True).agent(s).commit_sha,
                      tmp_path / "two")
    pid = store._objects.pid
    del store
    gc.collect()
    assert wait_gone(pid)


def test_a_forked_child_starts_its_own_reader(seeded, tmp_path):
    a, s = seeded
    pack(a.git)
    a.materialize(s, tmp_path / "parent1")
    pid = a.git._objects.pid
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit status
        try:
            ok = read_tree(a.materialize(s, tmp_path / "child")) == SEED_FILES
            ok = ok and a.git._objects.pid != pid
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert read_tree(a.materialize(s, tmp_path / "parent2")) == SEED_FILES
    assert a.git._objects.pid == pid


# -- per-agent totals --------------------------------------------------------------
def totals(a: Archive) -> dict:
    return {r[0]: r[1:] for r in a.query("SELECT agent, eval_sum, eval_n, eval_pass FROM agent_evals")
            if r[2]}


def grouped(a: Archive) -> dict:
    return {r[0]: r[1:] for r in a.query(
        "SELECT agent, SUM(score), COUNT(*), SUM(resolved) FROM evaluations GROUP BY agent")}


def same(x: dict, y: dict) -> bool:
    return x.keys() == y.keys() and all(
        x[k][1:] == y[k][1:] and x[k][0] == pytest.approx(y[k][0], abs=1e-9) for k in x)


def test_agent_evals_follow_every_kind_of_write(seeded):
    a, s = seeded
    rng = random.Random(3)
    res = [TaskResult(f"t{i}", rng.random(), rng.random() < 0.5) for i in range(7)]
    assert a.record_evaluation(s, "suite", 1, res) == pytest.approx(sum(r.score for r in res) / 7)
    again = [TaskResult(f"t{i}", rng.random(), True) for i in range(3, 10)]  # 4 replaced, 3 new
    a.record_evaluation(s, "suite", 1, again)
    exact = a.query("SELECT SUM(score), COUNT(*), SUM(resolved) FROM evaluations WHERE agent=?", [s])
    assert [totals(a)[s]] == exact  # to the last bit: set from one fresh sum
    conn = a.db.conn  # other writers: raw statements on the archive's connection
    conn.execute("INSERT INTO evaluations (agent, suite, stage, task, score, resolved) "
                 "VALUES (?, 'raw', 1, 'x', 0.25, 1)", [s])
    conn.execute("INSERT OR REPLACE INTO evaluations (agent, suite, stage, task, score, resolved) "
                 "VALUES (?, 'raw', 1, 'x', 0.75, 0)", [s])
    assert same(totals(a), grouped(a))
    conn.execute("UPDATE evaluations SET score = score / 2, resolved = 1 WHERE task IN ('t4', 't5')")
    assert same(totals(a), grouped(a))
    conn.execute("DELETE FROM evaluations WHERE task = 't9'")
    assert same(totals(a), grouped(a)) and totals(a)[s][1] == 10


def test_lineage_nodes_carry_the_agent_columns_and_totals(seeded, make_diff):
    a, s = seeded
    v1 = edit(SEED_FILES, "main.py", "print(1)\n")
    c = a.add_child(s, make_diff(SEED_FILES, v1), summary="one", proposer="t").agent_id
    a.record_evaluation(c, "suite", 1, [TaskResult("a", 0.5, True), TaskResult("b", 0.25, False)])
    a.set_status(c, "rejected", "below threshold")
    lin = Lineage.load(a)
    for agent in a.agents():
        node = lin.node(agent.id)
        assert tuple(node) == ATTRS
        assert [node[k] for k in NODE_COLS] == [getattr(agent, k) for k in NODE_COLS]
    assert (lin.node(c)["eval_sum"], lin.node(c)["eval_n"], lin.node(c)["eval_pass"]) == (0.75, 2, 1)
    assert (lin.node(s)["eval_sum"], lin.node(s)["eval_n"], lin.node(s)["eval_pass"]) == (0.0, 0, 0)


def random_archive(a: Archive, seed_id: str, n: int, rng: random.Random) -> list[str]:
    """n synthetic agents (random tree, evaluated through record_evaluation)."""
    ids = [seed_id]
    commit = a.agent(seed_id).commit_sha
    now = time.time()
    for i in range(2, n + 2):
        aid, parent = f"{i:06d}", rng.choice(ids)
        with a._tx():
            a.db.execute("INSERT INTO agents (id, seq, commit_sha, parent, status, created, updated)"
                         " VALUES (?,?,?,?,?,?,?)", [aid, i, commit, parent,
                                                     rng.choice(["admitted", "rejected"]), now, now])
        ids.append(aid)
        if rng.random() < 0.8:
            a.record_evaluation(aid, "s", 1, [TaskResult(f"t{k}", rng.random(), rng.random() < 0.4)
                                              for k in range(rng.randint(1, 4))])
    return ids


def check_population(pop: Population, lin: Lineage) -> None:
    clades = lin.clades()
    assert pop.members.keys() == clades.keys()
    for aid, m in pop.members.items():
        c, node = clades[aid], lin.node(aid)
        assert (m.own_n, m.own_pass) == (node["eval_n"], node["eval_pass"])
        assert (m.clade_n, m.clade_pass) == (c["tasks"], c["passes"])
        assert m.clade_sum == pytest.approx(c["score_sum"], abs=1e-9)
        assert m.score == node["score"] and m.children == lin.children(aid)


def test_population_pools_clades_bottom_up(seeded):
    a, s = seeded
    random_archive(a, s, 150, random.Random(5))
    check_population(Population.from_archive(a), Lineage.load(a))


def test_population_handles_a_child_older_than_its_parent(seeded):
    """Never made by the archive itself, but rows written by other tools may be."""
    a, s = seeded
    random_archive(a, s, 30, random.Random(6))
    with a._tx():
        a.db.execute("UPDATE agents SET seq = 1000 WHERE id = '000003'")  # now after its children
    pop = Population.from_archive(a)
    lin = Lineage.load(a)
    clades = lin.clades()
    for aid, m in pop.members.items():
        assert (m.clade_n, m.clade_pass) == (clades[aid]["tasks"], clades[aid]["passes"])


# -- a version-1 archive -----------------------------------------------------------
V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE runs (id TEXT PRIMARY KEY, created REAL, updated REAL, status TEXT, seed INTEGER,
    config TEXT, rng_state TEXT, finished REAL);
CREATE TABLE agents (
    id TEXT PRIMARY KEY, seq INTEGER UNIQUE NOT NULL, commit_sha TEXT NOT NULL, tree TEXT,
    parent TEXT REFERENCES agents(id), run TEXT, status TEXT NOT NULL, reason TEXT,
    proposer TEXT, generation INTEGER NOT NULL DEFAULT 0, depth INTEGER NOT NULL DEFAULT 0,
    summary TEXT, score REAL, created REAL, updated REAL);
CREATE INDEX agents_parent ON agents(parent);
CREATE INDEX agents_status ON agents(status);
CREATE TABLE edges (src TEXT NOT NULL, dst TEXT NOT NULL, kind TEXT NOT NULL,
    PRIMARY KEY (src, dst, kind));
CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY, agent TEXT NOT NULL REFERENCES agents(id), suite TEXT NOT NULL,
    stage INTEGER NOT NULL, task TEXT NOT NULL, score REAL NOT NULL, resolved INTEGER NOT NULL,
    seconds REAL, image TEXT, seed INTEGER, log TEXT, run TEXT, created REAL,
    UNIQUE (agent, suite, stage, task));
CREATE INDEX evaluations_agent ON evaluations(agent);
CREATE TABLE artifacts (agent TEXT NOT NULL, suite TEXT NOT NULL, stage INTEGER NOT NULL,
    name TEXT NOT NULL, text TEXT, created REAL, PRIMARY KEY (agent, suite, stage, name));
CREATE TABLE proposals (
    id INTEGER PRIMARY KEY, run TEXT, parent TEXT, agent TEXT, proposer TEXT, model TEXT,
    prompt_tokens INTEGER DEFAULT 0, completion_tokens INTEGER DEFAULT 0, cost REAL DEFAULT 0,
    summary TEXT, diagnosis TEXT, status TEXT NOT NULL, reason TEXT, diff TEXT,
    seconds REAL, created REAL);
CREATE INDEX proposals_agent ON proposals(agent);
CREATE TABLE usage (id INTEGER PRIMARY KEY, agent TEXT, run TEXT, purpose TEXT, model TEXT,
    prompt_tokens INTEGER DEFAULT 0, completion_tokens INTEGER DEFAULT 0, cost REAL DEFAULT 0,
    created REAL);
CREATE TABLE transcripts (id INTEGER PRIMARY KEY, agent TEXT, run TEXT, kind TEXT, text TEXT,
    created REAL);
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, run TEXT,
    kind TEXT NOT NULL, agent TEXT, data TEXT);
CREATE INDEX events_run ON events(run, kind);
INSERT INTO meta VALUES ('schema_version', '1');
"""


def make_v1_archive(path, tmp_path, with_job: bool) -> dict:
    """An archive as the first dgm left it: real commits and refs, the v1 tables by SQL."""
    path.mkdir()
    store = GitStore.init(path / "repo.git")
    seed, seed_tree = store.commit_directory(write_tree(tmp_path / "v1seed", SEED_FILES), "seed")
    kid_tree = store.apply_diff(seed, "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n"
                                      "-toy agent\n+toy agent v1\n")
    kid = store.commit_tree(kid_tree, seed, "child")
    store.set_ref("000001", seed)
    store.set_ref("000002", kid)
    store.close()
    conn = sqlite3.connect(path / "dgm.db")
    conn.executescript(V1_SCHEMA.replace("seconds REAL, created REAL);\nCREATE INDEX proposals_agent",
                                         "seconds REAL, job INTEGER, created REAL);\n"
                                         "CREATE INDEX proposals_agent") if with_job else V1_SCHEMA)
    now = time.time()
    conn.executemany("INSERT INTO agents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
        ["000001", 1, seed, seed_tree, None, "r", "admitted", None, "seed", 0, 0, "seed", 0.5, now, now],
        ["000002", 2, kid, kid_tree, "000001", "r", "admitted", None, "t", 1, 1, "kid", 0.75, now, now]])
    conn.executemany("INSERT INTO evaluations (agent, suite, stage, task, score, resolved) "
                     "VALUES (?,?,?,?,?,?)", [["000001", "s", 1, "a", 0.5, 1], ["000001", "s", 1, "b", 0.5, 0],
                                              ["000002", "s", 1, "a", 1.0, 1], ["000002", "s", 1, "b", 0.5, 1]])
    conn.execute("INSERT INTO proposals (run, parent, agent, proposer, status) "
                 "VALUES ('r', '000001', '000002', 't', 'committed')")
    conn.commit()
    conn.close()
    return {"000001": (1.0, 2, 1), "000002": (1.5, 2, 2)}


def lineage_totals(lin: Lineage) -> dict:
    return {n: (d["eval_sum"], d["eval_n"], d["eval_pass"]) for n, d in lin.g.nodes(data=True)}


def test_a_version_1_archive_reads_as_it_is_then_migrates_when_opened_to_write(tmp_path):
    path = tmp_path / "v1"
    want = make_v1_archive(path, tmp_path, with_job=False)
    before = (path / "dgm.db").read_bytes()
    with Archive.open(path, readonly=True) as a:  # read-only: no change, totals by GROUP BY
        assert a.schema_version == 1
        lin = Lineage.load(a)
        assert lineage_totals(lin) == want and lin.best_path() == ["000001", "000002"]
        pop = Population.from_archive(a)
        assert (pop.members["000001"].clade_n, pop.members["000001"].clade_pass) == (4, 3)
        assert [p["job"] for p in a.proposals()] == [None]
        assert read_tree(a.materialize("000002", tmp_path / "m")) == \
            edit(SEED_FILES, "README.md", "toy agent v1\n")
    assert (path / "dgm.db").read_bytes() == before

    with Archive.open(path) as a:  # for writing: migrated once, in place
        assert a.schema_version == dbmod.SCHEMA_VERSION == 3
        assert a.query("SELECT value FROM meta WHERE key='schema_version'") == [("3",)]
        assert totals(a) == want == grouped(a)
        assert a.check() == []
        a.record_evaluation("000002", "s", 2, [TaskResult("c", 0.25, False)])
        r = a.add_child("000002", "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n"
                                  "-toy agent v1\n+toy agent v2\n",
                        summary="after", proposer="t", job=7)
        assert r.ok and [p["job"] for p in a.proposals()] == [None, 7]
        index = a.query("SELECT name FROM sqlite_master WHERE name='proposals_run_job'")
        assert index == [("proposals_run_job",)]
    with Archive.open(path, readonly=True) as a:
        assert a.schema_version == 3
        assert lineage_totals(Lineage.load(a))["000002"] == (1.75, 3, 2)


def test_a_later_version_1_archive_with_the_job_column_migrates_too(tmp_path):
    path = tmp_path / "v1"
    want = make_v1_archive(path, tmp_path, with_job=True)
    with Archive.open(path) as a:
        assert a.schema_version == dbmod.SCHEMA_VERSION and totals(a) == want
        assert [p["job"] for p in a.proposals()] == [None]
    with Archive.open(path) as a:  # a second open finds nothing to do
        assert a.schema_version == dbmod.SCHEMA_VERSION and totals(a) == want


def test_the_reader_answers_many_and_long_names_in_order(store, tmp_path):
    """More names than one chunk, some long (rev:path syntax) and some missing."""
    files = {f"d/f{i:04d}.txt": f"{i}\n" for i in range(700)}
    commit, _ = store.commit_directory(write_tree(tmp_path / "src", files), "seed")
    names = [f"{commit}:d/f{i:04d}.txt" for i in range(700)]
    names = [n if i % 50 else f"{commit}:{'x' * 900}{i}" for i, n in enumerate(names)]
    got = store.read_objects(names)
    for i, obj in enumerate(got):
        assert obj is None if i % 50 == 0 else obj[1:] == ("blob", f"{i}\n".encode())
