"""Query labels cannot be derived from anything public (issue 11, item 2).

The oracle agent (tests/icl/agents/oracle) knows the whole public code, the
stage parameters with their task seed, and the pools themselves: it runs with
the unsandboxed backend, so even the data sets a real sandbox hides are open to
it. It regenerates every cell and predicts the regenerated query labels. With
the host's secret salt it scores at chance; handed the salt (the control) it
scores 1, so its regeneration is right and only the secret stops it.
"""

import json

import numpy as np
import pytest

from dgm.sandbox.local import LocalSandbox
from dgm.suites import EvalContext
from icl_helpers import REPO

from pathlib import Path

ORACLE = Path(__file__).resolve().parent / "agents" / "oracle"
STAGE = {"pools": ["digits_heldout", "wine", "breast_cancer"], "n_ctx": [10, 50], "tasks": 30,
         "n_query": 40, "task_seed": 0, "first_task": 0, "diag_tasks": 4, "seen_tasks": 4,
         "steps": 1, "meta_train_timeout": 120, "predict_timeout": 300}


def _run(suite, tmp_path, name, salt, reveal: bool):
    env = {"ORACLE_REPO": str(REPO), "ORACLE_PARAMS": json.dumps(STAGE)}
    if reveal:
        env["ORACLE_SALT"] = salt
    work = tmp_path / name
    work.mkdir()
    ctx = EvalContext(sandbox=LocalSandbox(), workdir=work, seed=0, secret=salt, env=env)
    return suite.evaluate(ORACLE, 0, ctx)


@pytest.mark.slow
def test_oracle_that_knows_all_public_inputs_scores_at_chance(make_suite, tmp_path):
    salt = "5eed" * 8
    suite = make_suite(STAGE)
    out = _run(suite, tmp_path, "blind", salt, reveal=False)
    assert "failure.txt" not in out.artifacts, out.artifacts.get("failure.txt")
    rec = json.loads(out.artifacts["stage.json"])
    # at chance: the open score is 0 within 3 standard errors (180 tasks)...
    assert abs(rec["score"]) < 3 * rec["se"] + 0.01, rec["score"]
    # ...and far below every learning reference
    assert rec["score"] < rec["references"]["nn1"]["score"] - 0.3
    plan = suite.plan(0, salt)
    for g in plan.groups:  # accuracy per cell next to the cell's chance
        acc = np.mean([float(r.log.split("acc ")[1].split()[0]) for r in out.results
                       if r.task_id.startswith(g.name + "/")])
        assert abs(acc - plan.base[g.name]["chance"].mean()) < 0.1, g.name

    # The control: the very same oracle, handed the secret, recomputes every label.
    shown = _run(suite, tmp_path, "shown", salt, reveal=True)
    assert json.loads(shown.artifacts["stage.json"])["score"] == pytest.approx(1.0)


def test_unsalted_public_recomputation_differs_from_the_hosts_tasks(make_suite):
    """Fast form of the same claim: same seed and pool, the salt changes every label and feature."""
    from icl_host import episodes, pools
    pool = pools.load_pool("wine")
    public = episodes.cell(pool, 10, 40, 30, task_seed=0)
    host = episodes.cell(pool, 10, 40, 30, task_seed=0, salt="5eed" * 8)
    again = episodes.cell(pool, 10, 40, 30, task_seed=0, salt="5eed" * 8)
    assert np.array_equal(host.tasks.qy, again.tasks.qy)        # one salt: the same tasks for all
    assert (public.tasks.qy != host.tasks.qy).mean() > 0.5       # ~2/3 differ for 3 classes
    other = episodes.cell(pool, 10, 40, 30, task_seed=0, salt="feed" * 8)
    assert not np.array_equal(other.tasks.cx, host.tasks.cx)     # another archive, other tasks


def test_the_salt_never_reaches_the_sandbox(make_suite, make_ctx, tmp_path):
    """Everything a sandboxed call receives (argv, env, mounted files) lacks the salt."""
    from icl_helpers import CENTROID_AGENT, SMALL_STAGE
    seen = []

    class Spy(LocalSandbox):
        def run(self, image, command, mounts=(), env=None, **kw):
            files = b"".join(p.read_bytes() for m in mounts for p in Path(m.source).rglob("*")
                             if p.is_file() and m.target == "/scratch")
            seen.append((" ".join(command), json.dumps(env or {}), files))
            return super().run(image, command, mounts, env=env, **kw)

    salt = "c0ffee" * 6
    work = tmp_path / "w"
    work.mkdir()
    out = make_suite(SMALL_STAGE).evaluate(CENTROID_AGENT, 0, EvalContext(sandbox=Spy(), workdir=work,
                                                                           secret=salt))
    assert out.score > 0.3 and len(seen) == 2
    for cmd, env, files in seen:
        assert salt not in cmd and salt not in env and salt.encode() not in files
