"""Proof that no meta-test query label reaches the sandbox.

Every sandboxed call is recorded: its command, environment, mounts and a digest
of every file readable under every mount at the moment the call starts. The
same evaluation then runs again with every meta-test query label changed on
the host. If any query label reached the sandbox, some recorded input would
differ; the test asserts they are byte-identical while the scores differ.
"""

import hashlib
import os

import numpy as np

from icl_helpers import CENTROID_AGENT, SMALL_STAGE
from dgm.sandbox.base import Sandbox
from icl_harness.taskgen import Tasks
from icl_host import episodes


class RecordingSandbox(Sandbox):
    name = "recording"

    def __init__(self, inner: Sandbox):
        self.inner = inner
        self.calls: list[dict] = []

    def run(self, image, command, mounts=(), env=None, limits=None, network=None, workdir="/scratch"):
        seen = {"command": list(command), "env": dict(env or {}), "network": network,
                "workdir": workdir, "mounts": sorted((m.target, m.writable) for m in mounts),
                "sources": {m.target: m.source for m in mounts}}
        for m in mounts:
            files = {}
            for root, _dirs, names in os.walk(m.source):
                for n in names:
                    p = os.path.join(root, n)
                    if "__pycache__" in p:
                        continue
                    with open(p, "rb") as f:
                        files[os.path.relpath(p, m.source)] = hashlib.sha256(f.read()).hexdigest()
            seen[m.target] = files
        self.calls.append(seen)
        return self.inner.run(image, command, mounts, env=env, limits=limits, network=network,
                              workdir=workdir)


def _evaluate(suite, sandbox, make_ctx, name):
    rec = RecordingSandbox(sandbox)
    ctx = make_ctx(name=name)
    ctx.sandbox = rec
    return suite.evaluate(CENTROID_AGENT, 0, ctx), rec.calls


def test_query_labels_never_reach_the_sandbox(make_suite, make_ctx, sandbox, monkeypatch):
    stage = dict(SMALL_STAGE, pools=["digits_heldout", "wine", "iris"])
    honest, calls_a = _evaluate(make_suite(stage), sandbox, make_ctx, "a")

    real = episodes.make_tasks

    def relabelled(*args, **kwargs):  # every query label moved to another slot
        t = real(*args, **kwargs)
        return Tasks(t.cx, t.cy, t.qx, (t.qy + 1 + np.arange(t.qy.shape[1]) % 9) % 10)

    monkeypatch.setattr(episodes, "make_tasks", relabelled)
    changed, calls_b = _evaluate(make_suite(stage), sandbox, make_ctx, "b")  # a new suite: no memoised plan

    assert [r.score for r in honest.results] != [r.score for r in changed.results]
    assert len(calls_a) == len(calls_b) == 2  # meta-train, predict
    for a, b in zip(calls_a, calls_b):
        # the scratch dir's host path differs between the two runs; compare what the agent sees
        assert a["mounts"] == b["mounts"] == [("/agent", False), ("/harness", False), ("/inputs", False),
                                              ("/scratch", True)]
        assert a["command"] == b["command"] and a["env"] == b["env"] and a["network"] is None
        for target in ("/agent", "/harness", "/inputs", "/scratch"):
            assert a[target] == b[target], f"inputs under {target} depend on the query labels"
    assert "episodes.npz" in calls_a[1]["/inputs"] and "episodes.npz" not in calls_a[0]["/inputs"]


def test_scratch_holds_only_what_the_contract_names(make_suite, make_ctx, sandbox):
    suite = make_suite(dict(SMALL_STAGE, pools=["wine"]))
    _, calls = _evaluate(suite, sandbox, make_ctx, "c")
    assert set(calls[0]["/scratch"]) == set() and set(calls[0]["/inputs"]) == {"train_pool.npz"}
    assert set(calls[1]["/inputs"]) == {"train_pool.npz", "episodes.npz"}
    assert set(calls[1]["/scratch"]) - {"train_stats.json", "compute_train.json"} == {"checkpoint/state.json"}
    inputs = calls[1]["sources"]["/inputs"]
    with np.load(inputs / "episodes.npz", allow_pickle=False) as f:
        assert all(k.split("_")[0] in ("n", "cx", "cy", "qx") for k in f.files)
    with np.load(inputs / "train_pool.npz", allow_pickle=False) as f:
        assert sorted(f.files) == ["name", "x", "y"] and str(f["name"]) == "digits_train"
