"""Fixtures for the Ray tests: a real two-node Ray cluster on 127.0.0.1."""

import shutil
import tempfile
from pathlib import Path

import pytest

from cluster_helpers import LocalRayCluster


@pytest.fixture(scope="module")
def cluster():
    # Short root: Ray's Unix socket paths under it must stay below 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="dgmray-", dir="/tmp"))
    c = LocalRayCluster(root)
    try:
        c.start_node("head", head=True)
        c.start_node("worker")
        yield c
    finally:
        c.stop()
        shutil.rmtree(root, ignore_errors=True)
