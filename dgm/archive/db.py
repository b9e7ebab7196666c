"""The archive's SQLite database: schema, versioning and connections (WAL)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from dgm.errors import NotAnArchive

SCHEMA_VERSION = 3
# 1: the first archives (early ones lack proposals.job).
# 2: agent_evals, each agent's evaluation totals kept by triggers, so lineage views
#    read them without a GROUP BY over every task result (docs/archive.md).
# 3: the search's own records (dgm/archive/searchlog.py): proposal_meta, operator_outcomes,
#    fingerprints, confirmations.

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, created REAL, updated REAL, status TEXT, seed INTEGER,
    config TEXT, rng_state TEXT, finished REAL);
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY, seq INTEGER UNIQUE NOT NULL, commit_sha TEXT NOT NULL, tree TEXT,
    parent TEXT REFERENCES agents(id), run TEXT, status TEXT NOT NULL, reason TEXT,
    proposer TEXT, generation INTEGER NOT NULL DEFAULT 0, depth INTEGER NOT NULL DEFAULT 0,
    summary TEXT, score REAL, created REAL, updated REAL);
CREATE INDEX IF NOT EXISTS agents_parent ON agents(parent);
CREATE INDEX IF NOT EXISTS agents_status ON agents(status);
CREATE TABLE IF NOT EXISTS edges (
    src TEXT NOT NULL, dst TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (src, dst, kind));
CREATE TABLE IF NOT EXISTS evaluations (
    id INTEGER PRIMARY KEY, agent TEXT NOT NULL REFERENCES agents(id), suite TEXT NOT NULL,
    stage INTEGER NOT NULL, task TEXT NOT NULL, score REAL NOT NULL, resolved INTEGER NOT NULL,
    seconds REAL, image TEXT, seed INTEGER, log TEXT, run TEXT, created REAL,
    UNIQUE (agent, suite, stage, task));
CREATE INDEX IF NOT EXISTS evaluations_agent ON evaluations(agent);
CREATE TABLE IF NOT EXISTS agent_evals (
    agent TEXT PRIMARY KEY, eval_sum REAL NOT NULL, eval_n INTEGER NOT NULL,
    eval_pass INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS evaluations_added AFTER INSERT ON evaluations BEGIN
    INSERT INTO agent_evals VALUES (NEW.agent, NEW.score, 1, NEW.resolved)
    ON CONFLICT (agent) DO UPDATE SET eval_sum = eval_sum + excluded.eval_sum,
        eval_n = eval_n + 1, eval_pass = eval_pass + excluded.eval_pass;
END;
CREATE TRIGGER IF NOT EXISTS evaluations_removed AFTER DELETE ON evaluations BEGIN
    UPDATE agent_evals SET eval_sum = eval_sum - OLD.score, eval_n = eval_n - 1,
        eval_pass = eval_pass - OLD.resolved WHERE agent = OLD.agent;
END;
CREATE TRIGGER IF NOT EXISTS evaluations_changed AFTER UPDATE OF agent, score, resolved
ON evaluations BEGIN
    UPDATE agent_evals SET eval_sum = eval_sum - OLD.score, eval_n = eval_n - 1,
        eval_pass = eval_pass - OLD.resolved WHERE agent = OLD.agent;
    INSERT INTO agent_evals VALUES (NEW.agent, NEW.score, 1, NEW.resolved)
    ON CONFLICT (agent) DO UPDATE SET eval_sum = eval_sum + excluded.eval_sum,
        eval_n = eval_n + 1, eval_pass = eval_pass + excluded.eval_pass;
END;
CREATE TABLE IF NOT EXISTS artifacts (
    agent TEXT NOT NULL, suite TEXT NOT NULL, stage INTEGER NOT NULL, name TEXT NOT NULL,
    text TEXT, created REAL, PRIMARY KEY (agent, suite, stage, name));
CREATE TABLE IF NOT EXISTS proposals (
    id INTEGER PRIMARY KEY, run TEXT, parent TEXT, agent TEXT, proposer TEXT, model TEXT,
    prompt_tokens INTEGER DEFAULT 0, completion_tokens INTEGER DEFAULT 0, cost REAL DEFAULT 0,
    summary TEXT, diagnosis TEXT, status TEXT NOT NULL, reason TEXT, diff TEXT,
    seconds REAL, job INTEGER, created REAL);
CREATE INDEX IF NOT EXISTS proposals_run_job ON proposals(run, job);
CREATE INDEX IF NOT EXISTS proposals_agent ON proposals(agent);
CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY, agent TEXT, run TEXT, purpose TEXT, model TEXT,
    prompt_tokens INTEGER DEFAULT 0, completion_tokens INTEGER DEFAULT 0, cost REAL DEFAULT 0,
    created REAL);
CREATE TABLE IF NOT EXISTS transcripts (
    id INTEGER PRIMARY KEY, agent TEXT, run TEXT, kind TEXT, text TEXT, created REAL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, run TEXT, kind TEXT NOT NULL,
    agent TEXT, data TEXT);
CREATE INDEX IF NOT EXISTS events_run ON events(run, kind);
CREATE TABLE IF NOT EXISTS proposal_meta (
    proposal INTEGER PRIMARY KEY REFERENCES proposals(id), agent TEXT, run TEXT, job INTEGER,
    operator TEXT, params TEXT);
CREATE INDEX IF NOT EXISTS proposal_meta_agent ON proposal_meta(agent);
CREATE TABLE IF NOT EXISTS operator_outcomes (
    agent TEXT PRIMARY KEY, run TEXT, operator TEXT NOT NULL, success INTEGER NOT NULL,
    gain REAL, se REAL, outcome TEXT, created REAL);
CREATE TABLE IF NOT EXISTS fingerprints (agent TEXT PRIMARY KEY, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS fingerprints_hash ON fingerprints(hash);
CREATE TABLE IF NOT EXISTS confirmations (
    agent TEXT NOT NULL, suite TEXT NOT NULL, stage INTEGER NOT NULL, seed INTEGER NOT NULL,
    task TEXT NOT NULL, score REAL NOT NULL, run TEXT, created REAL,
    PRIMARY KEY (agent, suite, stage, seed, task));
"""


def readonly_uri(path: Path) -> str:
    """A read-only URI for the database. On storage we cannot write (read-only media, a
    read-only mount) no writer can exist, and SQLite could not create the WAL index a
    reader of a WAL database needs: open it immutable. Elsewhere ``mode=ro``; an archive
    at rest is in rollback-journal mode (``Archive.close``), so a reader creates no files."""
    uri = f"file:{quote(str(path))}?mode=ro"
    if not os.access(path.parent, os.W_OK) and not os.path.exists(f"{path}-wal"):
        uri += "&immutable=1"
    return uri


def connect(path: Path, readonly: bool = False) -> sqlite_utils.Database:
    """Open the database; WAL mode so readers never block the writer."""
    if readonly:
        conn = sqlite3.connect(readonly_uri(Path(path)), uri=True, check_same_thread=False,
                               isolation_level=None, timeout=30)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                               timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    # INSERT OR REPLACE deletes the row it replaces; only with this pragma does that
    # deletion fire evaluations_removed, keeping agent_evals right for any writer.
    conn.execute("PRAGMA recursive_triggers=ON")
    return sqlite_utils.Database(conn)


def _statements(script: str):
    """The script's statements one by one (a trigger body holds ';' of its own)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            yield buf.strip()
            buf = ""


def create_schema(db: sqlite_utils.Database) -> None:
    db.conn.executescript(SCHEMA)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def migrate(db: sqlite_utils.Database, version: int) -> None:
    """Bring a version-``version`` database up to SCHEMA_VERSION in one transaction.

    The caller holds the archive's write lock. Version 1 -> 2 adds
    ``proposals.job`` where an early archive lacks it, then agent_evals and
    its triggers (the missing parts of SCHEMA), filled from the evaluations.
    """
    if version >= SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if "job" not in {row[1] for row in db.execute("PRAGMA table_info(proposals)")}:
            db.execute("ALTER TABLE proposals ADD COLUMN job INTEGER")
        for statement in _statements(SCHEMA):  # executescript would COMMIT first
            db.execute(statement)
        db.execute("INSERT OR REPLACE INTO agent_evals SELECT agent, SUM(score), COUNT(*), "
                   "SUM(resolved) FROM evaluations GROUP BY agent")
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", [str(SCHEMA_VERSION)])
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def agents_with_results_sql(cols: tuple[str, ...], version: int) -> str:
    """Agents (``cols``, seq order) each with its eval_sum, eval_n, eval_pass.

    From agent_evals; a version-1 database opened read-only has none, so
    there the totals come from a GROUP BY over the evaluations (slower).
    """
    picked = ", ".join(f"a.{c}" for c in cols)
    totals = "agent_evals" if version >= 2 else (
        "(SELECT agent, SUM(score) AS eval_sum, COUNT(*) AS eval_n, SUM(resolved) AS eval_pass "
        "FROM evaluations GROUP BY agent)")
    return (f"SELECT {picked}, COALESCE(e.eval_sum, 0.0), COALESCE(e.eval_n, 0), "
            f"COALESCE(e.eval_pass, 0) FROM agents a LEFT JOIN {totals} e ON e.agent = a.id "
            "ORDER BY a.seq")


def check_schema(db: sqlite_utils.Database, where: Path) -> int:
    """The database's schema version; NotAnArchive for a corrupted or foreign database."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise NotAnArchive(f"{where}: the archive database is unreadable ({exc})") from None
    if row is None:
        raise NotAnArchive(f"{where}: the database has no dgm schema version")
    if int(row[0]) > SCHEMA_VERSION:
        raise NotAnArchive(f"{where}: schema version {row[0]} is newer than this dgm "
                           f"understands ({SCHEMA_VERSION}); upgrade dgm")
    return int(row[0])
