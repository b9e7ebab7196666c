"""The foundation-model path inside the real sandboxes (docker, bwrap).

The agent reaches the model only through the gateway's mounted socket: its
calls succeed, while the real key is nowhere in its environment and it has no
network. Docker/bwrap rule as in tests/sandbox: skip where unavailable, fail in CI.
"""

import json
import random
import subprocess
from pathlib import Path

import pytest

from dgm.archive.store import Archive
from dgm.proposers.base import ProposeContext
from dgm.proposers.selfmod import SelfProposer, SelfProposerConfig
from dgm.sandbox import BwrapSandbox, DockerSandbox, docker_available, in_ci
from dgm.sandbox.base import Limits, Mount
from dgm.sandbox.select import bwrap_available
from tests.fakes.fake_openai import tool_call
from tests.fakes.fixtures import REAL_KEY

AGENT = Path(__file__).resolve().parents[2] / "agents" / "coding"
PROBE = ("env | sort; id -u; python3 -c \"import socket; s = socket.socket(); s.settimeout(3); "
         "s.connect(('1.1.1.1', 80))\" 2>&1 | tail -1")


def _unavailable(why: str) -> None:
    if in_ci():
        pytest.fail(f"CI must run this test: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module", params=[pytest.param("docker", marks=pytest.mark.docker),
                                        pytest.param("bwrap", marks=pytest.mark.bwrap)])
def real_sandbox(request):
    if request.param == "docker":
        ok, why = docker_available()
        if not ok:
            _unavailable(why)
        from dgm.sandbox.image import ensure_image
        sb = DockerSandbox(ensure_image(echo=lambda line: None))
    else:
        ok, why = bwrap_available()
        if not ok:
            _unavailable(why)
        sb = BwrapSandbox()
    yield sb
    sb.close()


def test_agent_calls_model_without_key_or_network(real_sandbox, fake_openai, gateway, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    io = tmp_path / "io"
    (io / "out").mkdir(parents=True)
    (io / "problem.md").write_text("Set x to 2 in a.py.")
    fake_openai.push(tool_call("bash", command=PROBE),
                     tool_call("editor", command="str_replace", path="a.py", old_str="x = 1",
                               new_str="x = 2"),
                     "Done.")
    mounts = [Mount(AGENT, "/agent"), Mount(repo, "/testbed", writable=True),
              Mount(io, "/io", writable=True), *gateway.access.sandbox_mounts()]
    r = real_sandbox.run("dgm-sandbox", ["python3", "/agent/coding_agent.py", "--problem-file",
                                         "/io/problem.md", "--repo", "/testbed", "--out", "/io/out"],
                         mounts=mounts, env=gateway.access.sandbox_env("000011"),
                         limits=Limits(seconds=120), workdir="/testbed")
    assert r.ok, r.stderr[-2000:]
    assert (repo / "a.py").read_text() == "x = 2\n"
    assert json.loads((io / "out" / "summary.json").read_text())["stop_reason"] == "done"
    probe = [m["content"] for m in fake_openai.completion_requests[-1].messages
             if m["role"] == "tool"][0]
    assert "OPENAI_API_KEY=dgm-" in probe and "DGM_GATEWAY_SOCKET=/run/dgm-gateway/" in probe
    assert REAL_KEY not in probe and "sk-test" not in probe
    assert "\n0\n" not in probe  # not root
    assert "Error" in probe.splitlines()[-1]  # no route to the internet
    assert all(q.authorization == f"Bearer {REAL_KEY}" for q in fake_openai.completion_requests)
    assert gateway.usage("000011")["calls"] == 3


def test_self_proposer_in_a_real_sandbox(real_sandbox, fake_openai, gateway, tmp_path):
    plan = {"log_summarization": "s", "potential_improvements": "p",
            "improvement_proposal": "Allow longer bash timeouts.",
            "implementation_suggestion": "Raise the cap in tools/bash.py to 900 s.",
            "problem_description": "Long test suites hit the 600 s cap of the bash tool."}
    steps = [tool_call("editor", command="str_replace", path="tools/bash.py",
                       old_str="min(float(timeout or self.default_timeout), 600.0)",
                       new_str="min(float(timeout or self.default_timeout), 900.0)"),
             "Raised it."]
    fake_openai.fallback = lambda req: steps.pop(0) if "tools" in req else json.dumps(plan)
    archive = Archive.create(tmp_path / "archive")
    try:
        seed = archive.add_seed(AGENT, summary="seed")
        parent = archive.materialize(seed, tmp_path / "parent")
        ctx = ProposeContext(seed, parent, random.Random(0), archive, tmp_path / "work",
                             sandbox=real_sandbox)
        proposal = SelfProposer(gateway.access, SelfProposerConfig(seconds=120)).propose(ctx)
        assert "+        limit = min(float(timeout or self.default_timeout), 900.0)" in proposal.diff
        assert archive.add_child(seed, proposal.diff, summary=proposal.summary,
                                 proposer="self").ok
    finally:
        archive.close()
