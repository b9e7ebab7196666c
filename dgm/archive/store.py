"""The archive: a bare git repository (one commit per agent) plus SQLite.

Layout of an archive directory::

    repo.git/     bare repository; agent X is refs/dgm/agents/X, its git parent
                  is its lineage parent
    dgm.db        SQLite (WAL): agents, edges, evaluations, artifacts, proposals,
                  usage, transcripts, events, runs
    write.lock    held (flock) by the one process that may write

One ``Archive`` object is safe to share between threads. A second process
that opens the same archive for writing gets ArchiveLocked; readers
(``readonly=True``) are never blocked. Nothing is ever deleted.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any, Iterable, Sequence

import sqlite_utils

from dgm.archive import db as dbmod
from dgm.archive.diffcheck import check_diff
from dgm.errors import ArchiveLocked, InternalError, NotAnArchive, UnknownAgent
from dgm.faults import HostFault, git_fault
from dgm.archive.gitstore import GitError, GitStore
from dgm.archive.integrity import check_archive, repair_refs

STATUSES = ("proposed", "evaluating", "admitted", "rejected", "failed", "duplicate")
# Terminal states stay terminal; "evaluating -> proposed" re-queues work on resume.
TRANSITIONS = {
    "proposed": {"evaluating", "rejected", "failed", "duplicate"},
    "evaluating": {"admitted", "rejected", "failed", "proposed"},
    "admitted": set(), "rejected": set(), "failed": set(), "duplicate": set(),
}


@dataclass
class Agent:
    """One row of the agents table."""

    id: str
    seq: int
    commit_sha: str
    tree: str | None
    parent: str | None
    run: str | None
    status: str
    reason: str | None
    proposer: str | None
    generation: int
    depth: int
    summary: str | None
    score: float | None
    created: float
    updated: float

    @property
    def commit(self) -> str:
        return self.commit_sha

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> "Agent":
        return cls(*row)


_AGENT_FIELDS = tuple(f.name for f in fields(Agent))
_AGENT_COLS = ", ".join(_AGENT_FIELDS)


@dataclass
class AddResult:
    """What add_child did: a new agent, or a rejected proposal with its reason."""

    agent_id: str | None
    proposal_id: int
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.agent_id is not None


@dataclass
class PreparedChild:
    """A child's git objects, written but not yet part of the archive (see prepare_child)."""

    parent: str
    diff: str
    summary: str
    reason: str | None = None  # why it is rejected, when it is
    agent_id: str | None = None
    commit: str | None = None
    tree: str | None = None
    generation: int = 0
    depth: int = 0


def format_id(seq: int) -> str:
    return f"{seq:06d}"


class Archive:
    """Git + SQLite store of every agent ever proposed (see module docstring)."""

    _next_seq: int  # the next agent's seq; set only when opened for writing

    def __init__(self, path: Path, readonly: bool):
        self.path = Path(path)
        self.readonly = readonly
        self.git = GitStore(self.path / "repo.git")
        self._lock = threading.RLock()
        self._lock_file: IO[str] | None = None
        self._db: sqlite_utils.Database | None = None
        self.schema_version = dbmod.SCHEMA_VERSION  # an older one only when opened read-only

    @property
    def db(self) -> sqlite_utils.Database:
        """The open database connection (an error once the archive is closed)."""
        if self._db is None:
            raise InternalError(f"archive {self.path} is closed")
        return self._db

    # -- opening -------------------------------------------------------------
    @classmethod
    def create(cls, path: Path) -> "Archive":
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise NotAnArchive(f"{path} exists and is not a directory; choose a new directory")
        if path.exists() and any(path.iterdir()):
            if (path / "dgm.db").exists():
                raise NotAnArchive(f"{path} already holds an archive")
            raise NotAnArchive(f"{path} exists and is not empty; choose a new directory")
        path.mkdir(parents=True, exist_ok=True)
        GitStore.init(path / "repo.git")
        self = cls(path, readonly=False)
        self._acquire()
        self._db = dbmod.connect(path / "dgm.db")
        dbmod.create_schema(self._db)
        self._next_seq = 1
        return self

    @classmethod
    def open(cls, path: Path, readonly: bool = False) -> "Archive":
        path = Path(path)
        if not path.is_dir():
            raise NotAnArchive(f"no archive at {path}: the directory does not exist")
        if not (path / "dgm.db").is_file() or not (path / "repo.git" / "HEAD").is_file():
            raise NotAnArchive(f"{path} is not a dgm archive (no dgm.db and repo.git)")
        self = cls(path, readonly=readonly)
        if not readonly:
            self._acquire()
        try:
            self._db = dbmod.connect(path / "dgm.db", readonly=readonly)
            self.schema_version = dbmod.check_schema(self.db, path)
            if not readonly and self.schema_version < dbmod.SCHEMA_VERSION:
                dbmod.migrate(self.db, self.schema_version)  # under the write lock
                self.schema_version = dbmod.SCHEMA_VERSION
        except Exception:
            self.close()
            raise
        if not readonly:
            self._next_seq = (self.db.execute("SELECT MAX(seq) FROM agents").fetchone()[0] or 0) + 1
            self.repair()
        return self

    def _acquire(self) -> None:
        f = open(self.path / "write.lock", "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise ArchiveLocked(f"archive {self.path} is being written by {holder}; "
                                "open it read-only or wait for that process to finish") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}")
        f.flush()
        self._lock_file = f

    def close(self) -> None:
        self.git.close()
        if self._db is not None:
            if not self.readonly:  # at rest in rollback-journal mode: readers then create no
                try:               # -wal/-shm files, and read-only media can be read
                    self._db.execute("PRAGMA busy_timeout=200")
                    self._db.execute("PRAGMA journal_mode=DELETE")
                except sqlite3.Error:
                    pass  # a reader is connected: it stays in WAL mode, which is fine
            self._db.conn.close()
            self._db = None
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self):
        if self.readonly:
            raise PermissionError("archive opened read-only")
        return self._lock

    @contextmanager
    def _tx(self):
        """One SQLite transaction under the lock. The connection is in autocommit
        mode, where ``with conn:`` opens no transaction, so BEGIN explicitly."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # -- adding agents -------------------------------------------------------
    def add_seed(self, directory: Path, *, summary: str = "seed agent", run: str | None = None,
                 proposer: str = "seed") -> str:
        """Commit a directory as a new root agent; returns its id."""
        with self._write():
            agent_id = format_id(self._next_seq)
            self._next_seq += 1
        commit, tree = self.git.commit_directory(Path(directory), f"dgm agent {agent_id}\n\n{summary}")
        with self._tx():
            self._insert_agent(agent_id, commit, tree, None, run, proposer, 0, 0, summary)
            self._insert_proposal(run, None, agent_id, proposer, None, summary, None, "committed",
                                  None, None)
        self.git.set_ref(agent_id, commit)
        return agent_id

    def prepare_child(self, parent: str, diff: str, summary: str) -> PreparedChild:
        """The git half of adding a child: validate and apply the diff, write the commit.

        Safe to call from worker threads: it writes only git objects (invisible
        until a ref points at them) and reserves an id; ``commit_child`` then
        makes the agent exist (row + ref).
        """
        p = self.agent(parent)
        reason = check_diff(diff)
        tree: str | None = None
        if reason is None:
            try:
                tree = self.git.apply_diff(p.commit_sha, diff)
            except GitError as exc:  # only git apply's own complaints are the proposal's fault
                cause = git_fault(exc.stderr, applying=True) if exc.command == "apply" else "git-store"
                if cause:
                    raise HostFault(cause, f"git store: {exc}"[:500]) from exc
                reason = f"diff does not apply: {exc.stderr.splitlines()[-1] if exc.stderr else exc}"
        if reason is None and tree == (p.tree or self.git.tree_of(p.commit_sha)):
            reason = "diff changes nothing"
        if reason is not None:
            return PreparedChild(parent, diff, summary, reason=reason)
        assert tree is not None  # no reason: apply_diff gave the tree
        with self._write():
            agent_id = format_id(self._next_seq)
            self._next_seq += 1
        commit = self.git.commit_tree(tree, p.commit_sha,
                                      f"dgm agent {agent_id}\n\n{summary}\n\nparent: {parent}")
        return PreparedChild(parent, diff, summary, agent_id=agent_id, commit=commit, tree=tree,
                             generation=p.generation + 1, depth=p.depth + 1)

    def commit_child(self, prep: PreparedChild, *, proposer: str, run: str | None = None,
                     usage: Any = None, diagnosis: str | None = None,
                     transplant_from: str | None = None, inspirations: Iterable[str] = (),
                     generation: int | None = None, seconds: float | None = None,
                     job: int | None = None, meta: dict | None = None) -> AddResult:
        """The database half: record the proposal, and the agent with its ref when it applied.

        ``meta`` (the proposal's operator and parameters) goes to proposal_meta; its
        ``second_parent`` (a crossover's other parent) becomes a 'crossover' edge."""
        if prep.reason is not None:
            with self._write(), self._tx():
                pid = self._insert_proposal(run, prep.parent, None, proposer, usage, prep.summary,
                                            diagnosis, "rejected", prep.reason, prep.diff, seconds, job)
                self._insert_meta(pid, None, run, job, meta)
            return AddResult(None, pid, prep.reason)
        agent_id, parent = prep.agent_id, prep.parent
        # prepare_child sets both whenever it gives no reason
        assert agent_id is not None and prep.commit is not None
        gen = prep.generation if generation is None else generation
        with self._write(), self._tx():
            self._insert_agent(agent_id, prep.commit, prep.tree, parent, run, proposer, gen,
                               prep.depth, prep.summary)
            pid = self._insert_proposal(run, parent, agent_id, proposer, usage, prep.summary,
                                        diagnosis, "committed", None, prep.diff, seconds, job)
            self.db.execute("INSERT OR IGNORE INTO edges VALUES (?, ?, 'parent')", [parent, agent_id])
            if transplant_from:
                self.db.execute("INSERT OR IGNORE INTO edges VALUES (?, ?, 'transplant')",
                                [transplant_from, agent_id])
            for src in inspirations:
                self.db.execute("INSERT OR IGNORE INTO edges VALUES (?, ?, 'inspiration')",
                                [src, agent_id])
            if meta and meta.get("second_parent"):
                self.db.execute("INSERT OR IGNORE INTO edges VALUES (?, ?, 'crossover')",
                                [meta["second_parent"], agent_id])
            self._insert_meta(pid, agent_id, run, job, meta)
        self.git.set_ref(agent_id, prep.commit)  # after the row: repair() re-creates a lost ref
        return AddResult(agent_id, pid)

    def add_child(self, parent: str, diff: str, *, summary: str, proposer: str,
                  **meta: Any) -> AddResult:
        """Apply ``diff`` to ``parent`` and commit it as a new agent.

        A diff that is empty, escapes the agent, touches .git, is binary or
        oversized, does not apply, or changes nothing is recorded as a rejected
        proposal (``AddResult.reason``), never raised. ``meta``: see commit_child.
        """
        return self.commit_child(self.prepare_child(parent, diff, summary), proposer=proposer, **meta)

    def _insert_agent(self, agent_id, commit, tree, parent, run, proposer, gen, depth, summary):
        now = time.time()
        self.db.execute(
            f"INSERT INTO agents ({_AGENT_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [agent_id, int(agent_id), commit, tree, parent, run, "proposed", None, proposer,
             gen, depth, summary, None, now, now])

    def _insert_proposal(self, run, parent, agent, proposer, usage, summary, diagnosis, status,
                         reason, diff, seconds=None, job=None) -> int:
        u = usage
        cur = self.db.execute(
            "INSERT INTO proposals (run, parent, agent, proposer, model, prompt_tokens, "
            "completion_tokens, cost, summary, diagnosis, status, reason, diff, seconds, job, "
            "created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [run, parent, agent, proposer, getattr(u, "model", None),
             getattr(u, "prompt_tokens", 0), getattr(u, "completion_tokens", 0),
             getattr(u, "cost", 0.0), summary, diagnosis, status, reason, diff, seconds, job,
             time.time()])
        assert cur.lastrowid is not None  # set by every successful INSERT
        return cur.lastrowid

    def _insert_meta(self, pid: int, agent: str | None, run, job, meta: dict | None) -> None:
        if meta:
            params = {k: v for k, v in meta.items() if k != "operator"}
            self.db.execute("INSERT OR REPLACE INTO proposal_meta VALUES (?,?,?,?,?,?)",
                            [pid, agent, run, job, meta.get("operator"),
                             json.dumps(params, default=str, sort_keys=True)])

    def proposal_meta(self, agent_id: str) -> dict | None:
        """The operator and parameters of the proposal that made ``agent_id`` (None: unknown)."""
        rows = self.query("SELECT operator, params FROM proposal_meta WHERE agent=?", [agent_id])
        return {"operator": rows[0][0], **json.loads(rows[0][1] or "{}")} if rows else None

    def record_rejected_proposal(self, parent: str, reason: str, *, proposer: str,
                                 run: str | None = None, usage: Any = None, summary: str = "",
                                 diagnosis: str | None = None, seconds: float | None = None,
                                 job: int | None = None, diff: str | None = None,
                                 meta: dict | None = None) -> int:
        """Record a proposal that never became an agent (e.g. the model's answer was unusable,
        or the child failed the pre-check)."""
        with self._write(), self._tx():
            pid = self._insert_proposal(run, parent, None, proposer, usage, summary, diagnosis,
                                        "rejected", reason, diff, seconds, job)
            self._insert_meta(pid, None, run, job, meta)
            return pid

    # -- status, results, journal --------------------------------------------
    def set_status(self, agent_id: str, status: str, reason: str | None = None) -> None:
        """Move an agent along proposed -> evaluating -> admitted/rejected/failed."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self._write(), self._tx():
            current = self.agent(agent_id).status
            if status != current and status not in TRANSITIONS[current]:
                raise ValueError(f"agent {agent_id}: illegal transition {current} -> {status}")
            self.db.execute("UPDATE agents SET status=?, reason=?, updated=? WHERE id=?",
                            [status, reason, time.time(), agent_id])

    def record_evaluation(self, agent_id: str, suite: str, stage: int, results: Iterable[Any], *,
                          image: str | None = None, seed: int | None = None,
                          run: str | None = None, artifacts: dict[str, str] | None = None) -> float | None:
        """Store per-task results (TaskResult-like) of one stage; returns the agent's new score
        (None while it has no task results at all)."""
        now = time.time()
        rows = [[agent_id, suite, stage, r.task_id, float(r.score), int(bool(r.resolved)),
                 float(getattr(r, "seconds", 0.0)), image, seed, getattr(r, "log", ""), run, now]
                for r in results]
        with self._write(), self._tx():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO evaluations (agent, suite, stage, task, score, resolved, "
                "seconds, image, seed, log, run, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            for name, text in (artifacts or {}).items():
                self.db.execute("INSERT OR REPLACE INTO artifacts VALUES (?,?,?,?,?,?)",
                                [agent_id, suite, stage, name, text, now])
            # The triggers kept agent_evals up to date row by row; set it from one fresh
            # sum, so replaced results leave no rounding drift behind.
            s, n, p = self.db.execute(
                "SELECT SUM(score), COUNT(*), SUM(resolved) FROM evaluations "
                "WHERE agent=?", [agent_id]).fetchone()
            from dgm.engine.evaluation import agent_score  # the documented rule, one place (evaluation.py)
            score = agent_score(self.db.execute(
                "SELECT suite, stage, SUM(score), COUNT(*) FROM evaluations WHERE agent=? "
                "GROUP BY suite, stage", [agent_id]).fetchall())
            self.db.execute("UPDATE agents SET score=?, updated=? WHERE id=?", [score, now, agent_id])
            self.db.execute("INSERT OR REPLACE INTO agent_evals VALUES (?,?,?,?)",
                            [agent_id, 0.0 if s is None else s, n, p or 0])
            return score

    def eval_secret(self, create: bool = True) -> str | None:
        """The archive's secret task salt (meta ``eval_secret``), made on first use.

        Suites that generate hidden tasks (icl) salt them with it, so every agent of
        the archive gets the same tasks and ``dgm replay`` reproduces them, while
        nothing a sandbox sees determines a hidden label. It lives only in the
        database, which is never mounted into a sandbox.
        """
        row = self.db.execute("SELECT value FROM meta WHERE key='eval_secret'").fetchone()
        if row or not create:
            return row[0] if row else None
        import secrets
        with self._write(), self._tx():
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('eval_secret', ?)", [secrets.token_hex(16)])
        return self.db.execute("SELECT value FROM meta WHERE key='eval_secret'").fetchone()[0]

    def record_event(self, kind: str, *, run: str | None = None, agent: str | None = None,
                     **data: Any) -> int:
        """Append to the journal; returns the event's sequence number."""
        with self._write(), self._tx():
            cur = self.db.execute("INSERT INTO events (ts, run, kind, agent, data) VALUES (?,?,?,?,?)",
                                  [time.time(), run, kind, agent, json.dumps(data, default=str)])
            assert cur.lastrowid is not None  # set by every successful INSERT
            return cur.lastrowid

    def record_usage(self, agent: str | None, model: str, prompt_tokens: int,
                     completion_tokens: int, cost: float, *, run: str | None = None,
                     purpose: str = "") -> None:
        with self._write(), self._tx():
            self.db.execute("INSERT INTO usage (agent, run, purpose, model, prompt_tokens, "
                            "completion_tokens, cost, created) VALUES (?,?,?,?,?,?,?,?)",
                            [agent, run, purpose, model, prompt_tokens, completion_tokens, cost,
                             time.time()])

    def record_transcript(self, agent: str | None, text: str, *, run: str | None = None,
                          kind: str = "model") -> None:
        with self._write(), self._tx():
            self.db.execute("INSERT INTO transcripts (agent, run, kind, text, created) "
                            "VALUES (?,?,?,?,?)", [agent, run, kind, text, time.time()])

    def save_run(self, run_id: str, **fields: Any) -> None:
        """Create or update a row of the runs table (status, seed, config, rng_state, ...)."""
        allowed = {"status", "seed", "config", "rng_state", "finished"}
        if bad := set(fields) - allowed:
            raise ValueError(f"unknown run fields {sorted(bad)}")
        now = time.time()
        with self._write(), self._tx():
            self.db.execute("INSERT OR IGNORE INTO runs (id, created, updated) VALUES (?,?,?)",
                            [run_id, now, now])
            for key, value in fields.items():
                self.db.execute(f"UPDATE runs SET {key}=?, updated=? WHERE id=?", [value, now, run_id])

    def run_info(self, run_id: str | None = None) -> dict | None:
        """One run (default: the newest) as a dict, or None."""
        cols = ("id", "created", "updated", "status", "seed", "config", "rng_state", "finished")
        sql = f"SELECT {', '.join(cols)} FROM runs " + ("WHERE id=?" if run_id else "ORDER BY created DESC LIMIT 1")
        rows = self.query(sql, [run_id] if run_id else [])
        return dict(zip(cols, rows[0])) if rows else None

    # -- reading -------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self.db.execute(sql, list(params)).fetchall()

    def agent(self, agent_id: str) -> Agent:
        rows = self.query(f"SELECT {_AGENT_COLS} FROM agents WHERE id=?", [agent_id])
        if not rows:
            raise UnknownAgent(self._unknown_message(agent_id))
        return Agent.from_row(rows[0])

    def agents(self, status: str | None = None) -> list[Agent]:
        sql = f"SELECT {_AGENT_COLS} FROM agents"
        rows = self.query(sql + " WHERE status=? ORDER BY seq", [status]) if status else \
            self.query(sql + " ORDER BY seq")
        return [Agent.from_row(r) for r in rows]

    def agents_with_results(self, cols: Sequence[str]) -> list[tuple]:
        """Rows of the agents table's ``cols`` with eval_sum, eval_n, eval_pass appended
        (each agent's totals over its task results), in seq order."""
        if bad := [c for c in cols if c not in _AGENT_FIELDS]:
            raise ValueError(f"not agents columns: {bad}")
        return self.query(dbmod.agents_with_results_sql(tuple(cols), self.schema_version))

    def count(self) -> int:
        return self.query("SELECT COUNT(*) FROM agents")[0][0]

    def resolve_id(self, text: str) -> str:
        """Accept a full id, its integer form (``42``) or a unique prefix, matched exactly
        (no SQL wildcards: ``%5`` is no id); a huge or non-text id is simply unknown."""
        text = text.strip()
        if not (0 < len(text) <= 32 and text.isascii() and text.isalnum()):
            shown = text[:40].encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
            raise UnknownAgent(f"unknown agent {shown + ('…' if len(text) > 40 else '')!r} in "
                               f"{self.path}: agent ids are digits, like 000042 or 42")
        if text.isdigit() and self.query("SELECT 1 FROM agents WHERE seq=?", [int(text)]):
            return format_id(int(text))
        rows = self.query("SELECT id FROM agents WHERE substr(id, 1, ?) = ? ORDER BY seq LIMIT 2",
                          [len(text), text])
        if len(rows) == 1:
            return rows[0][0]
        raise UnknownAgent(self._unknown_message(text))

    def _unknown_message(self, text: str) -> str:
        ids = [r[0] for r in self.db.execute("SELECT id FROM agents").fetchall()]
        close = difflib.get_close_matches(text, ids, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return f"unknown agent {text!r} in {self.path}{hint}"

    def children(self, agent_id: str) -> list[str]:
        return [r[0] for r in self.query("SELECT id FROM agents WHERE parent=? ORDER BY seq", [agent_id])]

    def ancestors(self, agent_id: str) -> list[str]:
        """Ids from the agent's parent up to its root."""
        out, cur = [], self.agent(agent_id).parent
        while cur is not None:
            out.append(cur)
            cur = self.agent(cur).parent
        return out

    def best(self, k: int = 1, status: str = "admitted") -> list[Agent]:
        rows = self.query(f"SELECT {_AGENT_COLS} FROM agents WHERE status=? AND score IS NOT NULL "
                          "ORDER BY score DESC, seq LIMIT ?", [status, k])
        return [Agent.from_row(r) for r in rows]

    def evaluations(self, agent_id: str) -> list[dict]:
        cols = ("suite", "stage", "task", "score", "resolved", "seconds", "image", "seed", "log", "run")
        rows = self.query(f"SELECT {', '.join(cols)} FROM evaluations WHERE agent=? "
                          "ORDER BY suite, stage, task", [agent_id])
        return [dict(zip(cols, r)) | {"resolved": bool(r[4])} for r in rows]

    def artifacts(self, agent_id: str) -> dict[str, str]:
        rows = self.query("SELECT suite, stage, name, text FROM artifacts WHERE agent=? "
                          "ORDER BY suite, stage, name", [agent_id])
        return {f"{s}/{st}/{n}": t for s, st, n, t in rows}

    def proposals(self, agent_id: str | None = None, run: str | None = None) -> list[dict]:
        cols = ("id", "run", "parent", "agent", "proposer", "model", "prompt_tokens",
                "completion_tokens", "cost", "summary", "diagnosis", "status", "reason", "seconds",
                "job")
        where, params = _filters(agent=agent_id, run=run)
        picked = list(cols)
        if self.schema_version < 2 and not any(  # an early version-1 archive, read-only
                r[1] == "job" for r in self.query("PRAGMA table_info(proposals)")):
            picked[-1] = "NULL"
        sql = f"SELECT {', '.join(picked)} FROM proposals" + where
        return [dict(zip(cols, r)) for r in self.query(sql + " ORDER BY id", params)]

    def events(self, run: str | None = None, kind: str | None = None) -> list[dict]:
        where, params = _filters(run=run, kind=kind)
        sql = "SELECT seq, ts, run, kind, agent, data FROM events" + where + " ORDER BY seq"
        return [{"seq": s, "ts": ts, "run": r, "kind": k, "agent": a, "data": json.loads(d or "{}")}
                for s, ts, r, k, a, d in self.query(sql, params)]

    def materialize(self, agent_id: str, dest: Path) -> Path:
        """Check the agent's code out into ``dest`` (one git call, any depth)."""
        return self.git.materialize(self.agent(agent_id).commit_sha, dest)

    def diff(self, agent_id: str, against: str | None = None) -> str:
        """The agent's code change against ``against`` (default: its parent)."""
        a = self.agent(agent_id)
        base = self.agent(against).commit_sha if against else (
            self.agent(a.parent).commit_sha if a.parent else None)
        return self.git.diff(base, a.commit_sha)

    def check(self) -> list[str]:
        """Every problem with the archive's invariants (empty list when clean)."""
        return check_archive(self)

    def repair(self) -> list[str]:
        """Re-create refs lost by a crash between the row insert and update-ref."""
        return repair_refs(self)


def _filters(**columns: str | None) -> tuple[str, list[str]]:
    """A `` WHERE a=? AND b=?`` clause over the columns given a value, and its parameters."""
    given: dict[str, str] = {c: v for c, v in columns.items() if v}
    clause = " WHERE " + " AND ".join(f"{c}=?" for c in given) if given else ""
    return clause, list(given.values())
