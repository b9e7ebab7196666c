"""Real archives for the viewer's tests, written through the Archive API.

``build_archive`` makes a small archive with every kind of record the viewer
shows (two-stage per-task results, a model proposal with cost and diagnosis,
transcripts, artifacts, rejected proposals, a transplant edge, a run with a
budget) and one agent whose summary is script markup. ``add_synthetic``
appends thousands of agent rows (reusing a real commit) for scale tests.
"""

from __future__ import annotations

import difflib
import json
import random
import time
from pathlib import Path

from dgm.archive.store import Archive
from dgm.proposers.base import Usage
from dgm.suites import TaskResult

XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'

SEED_FILES = {
    "agent.toml": 'name = "toy"\ndomain = "coding"\n\n[commands]\nsolve = ["python", "solve.py"]\n',
    "solve.py": "import sys\n\nTEMPERATURE = 0.7\n\n\ndef solve(problem):\n"
                "    return problem.strip()\n\n\nif __name__ == '__main__':\n"
                "    print(solve(sys.stdin.read()))\n",
    "tools/edit.py": "def edit(path, old, new):\n    text = open(path).read()\n"
                     "    open(path, 'w').write(text.replace(old, new))\n",
}


def file_diff(path: str, old: str | None, new: str) -> str:
    """A git-style unified diff changing (or creating) one file."""
    a = [] if old is None else old.splitlines(keepends=True)
    body = "".join(difflib.unified_diff(a, new.splitlines(keepends=True),
                                        "/dev/null" if old is None else f"a/{path}", f"b/{path}"))
    head = f"diff --git a/{path} b/{path}\n" + ("new file mode 100644\n" if old is None else "")
    return head + body


def results(prefix: str, scores: list[float], log: str = "") -> list[TaskResult]:
    return [TaskResult(f"{prefix}-{i}", s, s >= 0.5, seconds=0.5 + i, log=log or f"task {i}: ok")
            for i, s in enumerate(scores)]


def build_archive(path: Path) -> dict[str, str]:
    """Write the test archive at ``path``; returns role -> agent id."""
    seed_dir = path.parent / (path.name + "-seed")
    for name, text in SEED_FILES.items():
        (seed_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (seed_dir / name).write_text(text)
    ids: dict[str, str] = {}
    with Archive.create(path) as a:
        a.save_run("run-1", status="running", seed=7, config=json.dumps(
            {"children": 10, "wall_seconds": 3600, "workers": 2, "max_stages": None,
             "model": {"budget_usd": 0.05, "budget_tokens": None, "timeout_s": 120.0}}))
        seed = ids["seed"] = a.add_seed(seed_dir, summary="seed agent", run="run-1")
        a.set_status(seed, "evaluating")
        a.record_evaluation(seed, "toy", 1, results("s1", [1.0, 0.0, 0.0]), run="run-1")
        a.set_status(seed, "admitted")

        solve = SEED_FILES["solve.py"]
        better = solve.replace("TEMPERATURE = 0.7", "TEMPERATURE = 0.2").replace(
            "return problem.strip()", "return problem.strip().lower()")
        r = a.add_child(seed, file_diff("solve.py", solve, better), run="run-1",
                        summary="Lower the temperature and normalise case", proposer="llm",
                        usage=Usage("gpt-4o-mini", 1200, 340), diagnosis="The agent fails on "
                        "mixed-case inputs; normalise them.", seconds=4.2)
        child = ids["child"] = r.agent_id
        a.db.execute("UPDATE proposals SET cost=0.0123 WHERE id=?", [r.proposal_id])
        # the gateway metered the proposal's call too, billed to the parent's label: the
        # ledger holds it once, and proposals.cost is its attribution
        a.record_usage(seed, "gpt-4o-mini", 1200, 340, 0.0123, run="run-1", purpose=f"{seed}:llm:0a1b")
        a.record_transcript(child, "system: improve the agent\nassistant: lower the temperature",
                            run="run-1", kind="proposer")
        a.record_usage(child, "gpt-4o-mini", 800, 120, 0.0021, run="run-1", purpose="diagnose")
        a.set_status(child, "evaluating")
        a.record_evaluation(child, "toy", 1, results("s1", [1.0, 1.0, 0.0]), run="run-1",
                            artifacts={"failures": "s1-2: expected 'abc', got 'ABC'"})
        a.record_evaluation(child, "toy", 2, results("s2", [1.0, 1.0, 0.0, 1.0, 0.5]), run="run-1")
        a.set_status(child, "admitted")
        a.record_event("admitted", run="run-1", agent=child, score=0.69)

        helper = "def helper(x):\n    return x * 2\n"
        r = a.add_child(child, file_diff("tools/helper.py", None, helper), summary="Add a helper tool",
                        proposer="mutation", run="run-1")
        best = ids["best"] = r.agent_id
        a.set_status(best, "evaluating")
        a.record_evaluation(best, "toy", 1, results("s1", [1.0, 1.0, 1.0]), run="run-1")
        a.record_evaluation(best, "toy", 2, results("s2", [1.0, 1.0, 1.0, 1.0, 0.5]), run="run-1")
        a.set_status(best, "admitted")

        evil = solve.replace("TEMPERATURE = 0.7", "TEMPERATURE = 0.9")
        r = a.add_child(seed, file_diff("solve.py", solve, evil), summary=XSS, proposer="llm",
                        run="run-1", usage=Usage("gpt-4o-mini", 10, 10), diagnosis=XSS,
                        transplant_from=child)
        xss = ids["xss"] = r.agent_id
        a.record_transcript(xss, f"assistant: {XSS}</pre><script>window.__pwned=3</script>",
                            run="run-1")
        a.set_status(xss, "evaluating")
        a.record_evaluation(xss, "toy", 1, results("s1", [0.0, 0.0, 0.0],
                                                    log=f"</pre>{XSS}"), run="run-1")
        a.set_status(xss, "rejected", "stage 1 score 0.000 below threshold 0.400")

        r = a.add_child(child, file_diff("solve.py", better, better + "\n# broken\n"),
                        summary="Crashes in the sandbox", proposer="mutation", run="run-1")
        ids["failed"] = r.agent_id
        a.set_status(r.agent_id, "failed", "harness exited 1")

        r = a.add_child(best, file_diff("solve.py", better, better.replace("0.2", "0.1")),
                        summary="Still being evaluated", proposer="mutation", run="run-1")
        ids["evaluating"] = r.agent_id
        a.set_status(r.agent_id, "evaluating")
        a.record_evaluation(r.agent_id, "toy", 1, results("s1", [1.0, 0.0, 1.0]), run="run-1")

        bad = a.add_child(best, "diff --git a/nope.py b/nope.py\n--- a/nope.py\n+++ b/nope.py\n"
                                "@@ -1 +1 @@\n-x\n+y\n", summary="edit a missing file",
                          proposer="llm", run="run-1")
        assert not bad.ok
    return ids


def add_synthetic(a: Archive, n: int, seed: int = 0) -> None:
    """Append ``n`` agent rows in a random bushy tree, reusing the first agent's commit."""
    rng = random.Random(seed)
    first = a.agents()[0]
    rows = a.query("SELECT id, depth FROM agents ORDER BY seq")
    depth = {i: d for i, d in rows}
    ids = [i for i, _ in rows]
    seq = a.query("SELECT MAX(seq) FROM agents")[0][0]
    now = time.time()
    batch, evals = [], []
    for _ in range(n):
        seq += 1
        aid = f"{seq:06d}"
        parent = ids[min(len(ids) - 1, int(len(ids) * rng.random() ** 0.6))]
        status = rng.choice(["admitted"] * 6 + ["rejected"] * 3 + ["failed"])
        score = None if status == "failed" else round(rng.random(), 3)
        batch.append([aid, seq, first.commit, first.tree, parent, None, status, None, "mutation",
                      depth[parent] + 1, depth[parent] + 1, f"synthetic change {seq}", score, now, now])
        if score is not None:
            evals.append([aid, "toy", 1, "t0", score, int(score >= 0.5), 0.1, None, None, "", None, now])
        depth[aid] = depth[parent] + 1
        ids.append(aid)
    with a.db.conn:
        a.db.conn.executemany("INSERT INTO agents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
        a.db.conn.executemany("INSERT INTO evaluations (agent, suite, stage, task, score, resolved, "
                              "seconds, image, seed, log, run, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                              evals)
