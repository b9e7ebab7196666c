"""The llm proposer through the real `dgm run`: the scripted model answers with
SEARCH/REPLACE blocks (one that applies; one that does not, then a corrected retry);
the children are committed and evaluated, their usage and cost recorded."""

from __future__ import annotations

import pytest

from dgm.archive.store import Archive
from tests.e2e_llm.helpers import ROOT, SECRET, TOY, db_dump, run_dgm
from tests.e2e_llm.scripted import ProposerModel, search_replace, unique_line
from tests.fakes.fake_openai import FakeOpenAI

META = ROOT / "agents" / "metalearner"


def test_llm_proposer_children_with_a_corrected_retry_on_the_toy_suite(tmp_path):
    model = ProposerModel([
        (search_replace("predict.py", "slope = 1.0", "slope = 3.0", "fit the slope"), None),
        (search_replace("predict.py", "slope = 2.5", "slope = 2.9", "fit the offset"),  # no match
         search_replace("predict.py", "offset = 0.5", "offset = 2.0")),
    ])
    arch = tmp_path / "archive"
    with FakeOpenAI(fallback=model) as fake:
        r = run_dgm(["run", "--proposer", "llm", "--model-url", fake.url, "--suite", str(TOY / "suite"),
                     "--seed-agent", str(TOY / "agent"), "--children", "2", "--workers", "1",
                     "--unsafe", "--quiet", "--archive", str(arch)], timeout=180)
        requests = fake.completion_requests
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (model.proposals, model.retries) == (2, 1) and len(requests) == 3
    retry = requests[2].messages[-1]["content"]
    assert "could not be applied" in retry and "block 1 (predict.py): SEARCH text not found" in retry
    assert requests[0].messages[0]["content"].startswith("You improve an AI agent's source code")
    assert "### predict.py" in requests[0].messages[1]["content"]
    assert all(q.authorization == f"Bearer {SECRET}" for q in requests)

    with Archive.open(arch, readonly=True) as a:
        assert a.check() == [] and a.run_info()["status"] == "finished"
        children = a.query("SELECT id, status, proposer, summary FROM agents "
                           "WHERE parent IS NOT NULL ORDER BY seq")
        assert [(s, p) for _, s, p, _ in children] == [("admitted", "llm")] * 2
        first, second = (c[0] for c in children)
        assert children[0][3] == "fit the slope" and children[1][3] == "fit the offset"
        assert "-slope = 1.0\n+slope = 3.0" in a.diff(first)
        assert "-offset = 0.5\n+offset = 2.0" in a.diff(second)
        for child in (first, second):
            assert a.query("SELECT COUNT(*) FROM evaluations WHERE agent=?", [child])[0][0] >= 3
        props = {p["agent"]: p for p in a.proposals()}
        assert props[first]["cost"] > 0 and props[second]["cost"] > props[first]["cost"] / 4
        usage = a.query("SELECT purpose, prompt_tokens, cost FROM usage ORDER BY id")
        assert len(usage) == 3 and all(":llm:" in p and pt > 0 and c > 0 for p, pt, c in usage)
        # the second proposal's cost is both of its calls (first answer and retry)
        label = [p for p, _, _ in usage][1]
        assert [p for p, _, _ in usage][2] == label
        assert props[second]["cost"] == pytest.approx(sum(c for p, _, c in usage if p == label))
        transcript = a.query("SELECT text FROM transcripts WHERE agent=? AND kind='proposal'",
                             [second])[0][0]
        assert "## user (retry)" in transcript
    assert SECRET not in db_dump(arch)
    r = run_dgm(["check", "--archive", str(arch)], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.docker
@pytest.mark.slow
def test_llm_proposer_on_the_metalearner_with_the_icl_suite(need_docker, tmp_path):
    line = unique_line(META / "config.py", r'^\s+"lr": ')
    changed = line.replace('"lr": ', '"lr": 0.5 * ')
    model = ProposerModel([(search_replace("config.py", line, changed,
                                           "halve the small model's learning rate"), None)])
    arch = tmp_path / "archive"
    with FakeOpenAI(fallback=model) as fake:
        r = run_dgm(["run", "--proposer", "llm", "--model-url", fake.url, "--seed-agent", str(META),
                     "--suite", "icl", "--max-stages", "1", "--children", "1", "--workers", "1",
                     "--sandbox", "docker", "--quiet", "--archive", str(arch)], timeout=600)
        prompt = fake.completion_requests[0].messages[1]["content"]
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "### config.py" in prompt and "# Its evaluation results" in prompt
    with Archive.open(arch, readonly=True) as a:
        assert a.check() == []
        (seed,), = a.query("SELECT id FROM agents WHERE parent IS NULL")
        (child, status, proposer), = a.query(
            "SELECT id, status, proposer FROM agents WHERE parent IS NOT NULL")
        assert proposer == "llm" and status in ("admitted", "rejected")
        assert f"-{line}\n+{changed}" in a.diff(child)
        for agent in (seed, child):
            tasks = a.query("SELECT task, score FROM evaluations WHERE agent=? AND suite='icl' "
                            "AND stage=0", [agent])
            # (acc - chance) / (ceiling - chance): at most 1, negative below chance (docs/icl.md)
            assert len(tasks) >= 2 and all(-10 <= s <= 1 for _, s in tasks)
            assert sum(s for _, s in tasks) > 0  # a real meta-learner ran, not a crash
        prop, = a.proposals(child)
        assert prop["cost"] > 0 and prop["prompt_tokens"] > 1000
        # the parent's per-task results from its real evaluation reached the model
        seed_tasks = [t for t, in a.query("SELECT task FROM evaluations WHERE agent=?", [seed])]
        assert "- suite icl, stage 0: mean score " in prompt
        assert f"/{len(seed_tasks)} tasks resolved" in prompt
        assert sum(f"  - {t}: score " in prompt for t in seed_tasks) >= min(10, len(seed_tasks))
