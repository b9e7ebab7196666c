"""The key coding-suite checks on the Docker backend (the default where an engine answers).

The full sets (27 gold patches, 164 canonical solutions) run on the fast
backend in test_swe_grading / test_humaneval; here a varied subset keeps the
Docker run short: the first stage of each suite plus the two multi-file tasks.
"""

from __future__ import annotations

import pytest

from dgm.suites import EvalContext

from .agents import make_agent
from .conftest import HUMANEVAL, SWE
from .test_evaluate import gold_answers, small

pytestmark = pytest.mark.docker


DOCKER_SWE = SWE.stage_task_ids(0) + ["swemini__logscan-1", "swemini__stockroom-1"]


def test_gold_patches_resolve_in_docker(docker_sandbox):
    results = SWE.grade_many({t: SWE.tasks[t].gold_patch for t in DOCKER_SWE}, docker_sandbox)
    assert {t: r.log for t, r in results.items() if not r.resolved} == {}
    assert len(results) == 7


def test_empty_and_test_editing_patches_in_docker(docker_sandbox):
    from .test_swe_grading import HOSTILE, TID

    results = SWE.grade_many({"swemini__paginate-1": "", TID: HOSTILE["conftest hook forcing passes"]},
                             docker_sandbox)
    assert not any(r.resolved for r in results.values())


def test_canonical_humaneval_solutions_in_docker(docker_sandbox):
    ids = HUMANEVAL.stage_task_ids(0)
    results = HUMANEVAL.grade_many({t: HUMANEVAL.tasks[t].canonical_patch() for t in ids}, docker_sandbox)
    assert sum(r.resolved for r in results.values()) == len(ids) == 10


def test_agent_contract_in_docker(docker_sandbox, tmp_path):
    ids = ["swemini__kvparse-1", "swemini__paginate-1"]
    agent = make_agent(tmp_path, "saboteur", gold_answers(ids[:1]))
    (tmp_path / "work").mkdir()
    out = small(SWE, ids).evaluate(agent, 0, EvalContext(sandbox=docker_sandbox, workdir=tmp_path / "work"))
    assert [r.resolved for r in out.results] == [True, False], [r.log for r in out.results]
    assert "exited with code 3" in out.results[0].log
    assert "SAFE-NOTE" in out.artifacts[f"{ids[1]}.md"]
    assert "root:x:0:0" not in out.artifacts[f"{ids[1]}.md"]


def test_seed_agent_through_the_gateway_in_docker(gateway, fake_openai, docker_sandbox, tmp_path):
    from .test_evaluate import test_the_seed_agent_solves_a_task_through_the_gateway as seed_test

    seed_test(gateway, fake_openai, docker_sandbox, tmp_path)
