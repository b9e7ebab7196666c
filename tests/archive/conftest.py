"""Fixtures for the archive tests: real git repositories and SQLite files in tmp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dgm.archive.store import Archive

from archive_helpers import SEED_FILES, DiffMaker, write_tree


@pytest.fixture
def make_diff(tmp_path_factory) -> DiffMaker:
    return DiffMaker(tmp_path_factory.mktemp("diffs"))


@pytest.fixture
def seed_dir(tmp_path) -> Path:
    return write_tree(tmp_path / "seed", SEED_FILES)


@pytest.fixture
def archive(tmp_path):
    a = Archive.create(tmp_path / "arc")
    yield a
    a.close()


@pytest.fixture
def seeded(archive, seed_dir):
    """(archive, seed id)."""
    return archive, archive.add_seed(seed_dir)
