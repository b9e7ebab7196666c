"""Which failures are the host's (retried) and which are the agent's (recorded)."""

from __future__ import annotations

import errno

import pytest

from dgm.archive.store import Archive
from dgm.faults import FaultTracker, HostFault, classify, git_fault, reason_cause
from dgm.models.gateway_access import GatewayError
from dgm.archive.gitstore import GitError

from .helpers import TOY


@pytest.mark.parametrize("exc,cause", [
    (OSError(errno.ENOSPC, "No space left on device"), "disk"),
    (OSError(errno.EROFS, "Read-only file system"), "disk"),
    (OSError(errno.EIO, "Input/output error"), "disk"),
    (OSError(errno.ENOENT, "No such file"), None),
    (GitError(["read-tree", "x"], "fatal: failed to unpack tree object x"), "git-store"),
    (GitError(["write-tree"], "error: insufficient permission for adding an object"), "git-store"),
    (GatewayError("model call failed (502): upstream connection failed", 502), "endpoint"),
    (GatewayError("cannot reach the gateway", 0), "endpoint"),
    (GatewayError("model call failed (400): context too long", 400), None),
    (GatewayError("budget spent", 402), None),
    (ValueError("a proposer bug"), None),
    (RuntimeError("wrapped"), None),
])
def test_classify(exc, cause):
    got = classify(exc)
    assert (got.cause if got else None) == cause


def test_causes_are_followed_through_the_chain():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("evaluation failed") from inner
    except RuntimeError as outer:
        assert classify(outer).cause == "disk"


def test_docker_errors_are_engine_faults():
    import docker.errors

    assert classify(docker.errors.APIError("500 Server Error: is not running")).cause == "engine"


@pytest.mark.parametrize("stderr,cause", [
    ("error: patch failed: predict.py:1\nerror: predict.py: patch does not apply", None),
    ("error: corrupt patch at line 7", None),
    ("error: unable to write file predict.py: No space left on device", "disk"),
    ("fatal: Out of diskspace", "disk"),
    ("error: unable to read sha1 file of predict.py (abc)", "git-store"),
])
def test_git_apply_complaints_versus_store_failures(stderr, cause):
    assert git_fault(stderr, applying=True) == cause


def test_prepare_child_tells_a_bad_patch_from_a_broken_store(tmp_path):
    with Archive.create(tmp_path / "a") as a:
        seed = a.add_seed(TOY / "agent")
        bad = "--- a/predict.py\n+++ b/predict.py\n@@ -1 +1 @@\n-no such line\n+x\n"
        assert a.prepare_child(seed, bad, "s").reason.startswith("diff does not apply")
        tree = a.agent(seed).tree
        store = a.git.path
        obj = store / "objects" / tree[:2] / tree[2:]
        obj.unlink()  # the store is broken: no proposal's fault
        with pytest.raises(HostFault) as info:
            a.prepare_child(seed, "--- a/predict.py\n+++ b/predict.py\n@@ -5 +5 @@\n-slope = 1.0\n"
                                  "+slope = 1.5\n", "s")
        assert info.value.cause == "git-store"


def test_the_tracker_counts_consecutive_failures_of_one_cause():
    t = FaultTracker(host_limit=3, reject_limit=2, backoff_base=0.5, backoff_max=2)
    assert not t.failure("disk", "full", host=True)
    assert t.backoff() == 0.5
    assert not t.failure("endpoint", "down", host=True)  # another cause starts afresh
    assert not t.failure("endpoint", "down", host=True)
    assert t.backoff() == 1.0
    assert t.failure("endpoint", "down again", host=True)
    assert t.stalled() == "stalled: 3 consecutive endpoint faults, last: down again"
    t.success()
    assert not t.failure(reason_cause("diff does not apply: x"), "diff does not apply: x", host=False)
    assert t.failure(reason_cause("diff does not apply: y 12"), "diff does not apply: y", host=False)
    assert "2 consecutive proposal failures (diff does not apply)" in t.stalled()
