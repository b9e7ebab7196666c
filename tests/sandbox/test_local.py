"""The unsafe backend cleans up its per-run HOME/TMPDIR."""

from __future__ import annotations

import os

from dgm.sandbox import LocalSandbox


def test_unsafe_run_leaves_no_temporary_home():
    r = LocalSandbox().run("", ["sh", "-c", "echo $HOME; touch $TMPDIR/x"])
    home = r.stdout.strip()
    assert r.exit_code == 0 and home.startswith("/") and "dgm-unsafe-" in home
    assert not os.path.exists(home)
