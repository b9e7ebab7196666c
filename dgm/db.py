"""The archive's SQLite database: schema, versioning and connections (WAL)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from .errors import NotAnArchive

SCHEMA_VERSION = 1

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
"""


def connect(path: Path, readonly: bool = False) -> sqlite_utils.Database:
    """Open the database; WAL mode so readers never block the writer."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False,
                               isolation_level=None, timeout=30)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                               timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return sqlite_utils.Database(conn)


def create_schema(db: sqlite_utils.Database) -> None:
    db.conn.executescript(SCHEMA)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def check_schema(db: sqlite_utils.Database, where: Path) -> None:
    """Raise NotAnArchive for a corrupted or foreign database."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise NotAnArchive(f"{where}: the archive database is unreadable ({exc})") from None
    if row is None:
        raise NotAnArchive(f"{where}: the database has no dgm schema version")
    if int(row[0]) > SCHEMA_VERSION:
        raise NotAnArchive(f"{where}: schema version {row[0]} is newer than this dgm "
                           f"understands ({SCHEMA_VERSION}); upgrade dgm")
