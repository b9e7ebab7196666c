"""The viewer and the plots on an archive that a real `dgm run` is writing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from dgm.archive.store import Archive
from dgm.errors import NotAnArchive
from dgm.archive.lineage import Lineage
from dgm.web.plots import PROGRESS_SIZE, TREE_SIZE, plot_all

from web_png import check_image
from web_live import LiveServer

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "tests" / "loop" / "toy"  # the loop's fast offline suite and agent
DGM = str(Path(sys.executable).parent / "dgm")
CHILDREN = 40


def open_when_ready(path: Path, proc: subprocess.Popen, timeout: float = 60) -> Archive:
    """The run creates the archive: open it read-only as soon as its schema is there."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return Archive.open(path, readonly=True)
        except (NotAnArchive, sqlite3.Error):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def test_viewer_follows_a_real_run(tmp_path):
    path = tmp_path / "run"
    proc = subprocess.Popen(
        [DGM, "run", "--archive", str(path), "--suite", str(TOY / "suite"), "--seed-agent",
         str(TOY / "agent"), "--children", str(CHILDREN), "--unsafe", "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    archive = open_when_ready(path, proc)
    server = LiveServer(archive)
    seen = []
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while proc.poll() is None:
                n = http.get("/api/summary").json()["agents"]
                assert len(http.get("/api/tree").json()["nodes"]) >= n  # never behind the summary
                seen.append(n)
                time.sleep(0.05)
            out, err = proc.communicate()
            assert proc.returncode == 0, err
            summary = http.get("/api/summary").json()
            tree = http.get("/api/tree").json()
            best_page = http.get(f"/agent/{summary['best']['id']}")
    finally:
        server.stop()
    assert len(set(seen)) >= 3, f"the viewer saw the archive grow: {sorted(set(seen))}"
    assert seen == sorted(seen)
    dups = archive.query("SELECT COUNT(*) FROM agents WHERE status='duplicate'")[0][0]
    assert summary["agents"] == CHILDREN + 1 + dups and summary["runs"][0]["status"] == "finished"
    lin = Lineage.load(archive)
    assert tree["best_path"] == lin.best_path() and len(tree["nodes"]) == CHILDREN + 1 + dups
    children = {b["name"]: b for b in summary["runs"][0]["bounds"]}["children"]
    assert children == {"name": "children", "limit": CHILDREN, "used": CHILDREN}
    assert best_page.status_code == 200 and "Diff against" in best_page.text
    progress, tree_png = plot_all(archive, tmp_path / "plots")
    check_image(progress, PROGRESS_SIZE)
    check_image(tree_png, TREE_SIZE)
    archive.close()
