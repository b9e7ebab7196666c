"""The seed coding agent, run in a sandbox against the fake model through the gateway.

Its tools run for real (the shell runs commands, the editor edits files); only
the model is scripted.
"""

import json
import subprocess
from pathlib import Path

from dgm.agents import load_manifest
from dgm.sandbox.base import Limits, Mount
from dgm.sandbox.local import LocalSandbox
from tests.fakes.fake_openai import Fault, call, message, tool_call
from tests.fakes.fixtures import REAL_KEY

AGENT = Path(__file__).resolve().parents[2] / "agents" / "coding"


def make_repo(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n"
                                       "    assert add(2, 3) == 5\n")
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", str(root), *args], check=True)
    return root


def run_agent(tmp_path, gateway, label="000005", extra_env=None, seconds=120):
    repo = make_repo(tmp_path / "repo")
    io = tmp_path / "io"
    (io / "out").mkdir(parents=True)
    (io / "problem.md").write_text("add(2, 3) returns -1; it must return 5.")
    manifest = load_manifest(AGENT)
    cmd = [*manifest.commands["solve"], "--problem-file", "/io/problem.md", "--repo", "/testbed",
           "--out", "/io/out"]
    mounts = [Mount(AGENT, "/agent"), Mount(repo, "/testbed", writable=True),
              Mount(io, "/io", writable=True), *gateway.access.sandbox_mounts()]
    env = {**gateway.access.sandbox_env(label), **(extra_env or {})}
    result = LocalSandbox().run("dgm-sandbox", cmd, mounts=mounts, env=env,
                                limits=Limits(seconds=seconds), workdir="/testbed")
    summary = json.loads((io / "out" / "summary.json").read_text()) \
        if (io / "out" / "summary.json").exists() else {}
    return result, repo, io / "out", summary


def git_diff(repo: Path) -> str:
    return subprocess.run(["git", "-C", str(repo), "diff"], capture_output=True, text=True).stdout


def test_agent_fixes_a_repo_with_real_tools_and_no_key(fake_openai, gateway, tmp_path):
    fake_openai.push(
        tool_call("bash", "Let me look.", command="cat calc.py; env | sort"),
        tool_call("editor", command="view", path="calc.py", view_range=[1, 2]),
        tool_call("editor", command="str_replace", path="calc.py",
                  old_str="return a - b", new_str="return a + b"),
        tool_call("bash", command="python3 -m pytest -q test_calc.py 2>&1 | tail -1"),
        "Fixed add: it subtracted instead of adding.",
    )
    result, repo, out, summary = run_agent(tmp_path, gateway)
    assert result.ok, result.stderr
    assert "-    return a - b\n+    return a + b" in git_diff(repo)
    assert summary["stop_reason"] == "done" and summary["steps"] == 5
    assert summary["tool_calls"] == 4 and summary["protocol"] == "native"
    reqs = fake_openai.completion_requests
    assert len(reqs) == 5 and all(r.authorization == f"Bearer {REAL_KEY}" for r in reqs)
    assert reqs[0].json["model"] == "gpt-4o-mini" and reqs[0].json["tools"]
    tool_results = [m["content"] for m in reqs[-1].messages if m["role"] == "tool"]
    env_dump, view, edit, tests = tool_results
    assert "def add(a, b):" in env_dump and "OPENAI_API_KEY=dgm-" in env_dump
    assert REAL_KEY not in env_dump and "sk-test" not in env_dump
    assert "1\tdef add(a, b):" in view and "Edited" in edit
    assert "1 passed" in tests
    transcript = (out / "transcript.md").read_text()
    assert "## Step 4" in transcript and "**editor**" in transcript and "1 passed" in transcript
    assert "Stopped: done" in transcript
    assert gateway.usage("000005")["calls"] == 5


def test_text_protocol_fallback(fake_openai, gateway, tmp_path):
    fake_openai.push(
        Fault("status", status=400, body=json.dumps(
            {"error": {"message": "this model does not support tools"}})),
        'I will fix it.\n<tool_use>\n{"name": "editor", "input": {"command": "str_replace", '
        '"path": "calc.py", "old_str": "a - b", "new_str": "a + b"}}\n</tool_use>',
        "Done.",
    )
    result, repo, out, summary = run_agent(tmp_path, gateway)
    assert result.ok, result.stderr
    assert summary["protocol"] == "text" and summary["stop_reason"] == "done"
    assert "+    return a + b" in git_diff(repo)
    last = fake_openai.completion_requests[-1]
    assert "tools" not in last.json and "<tool_use>" in last.messages[0]["content"]
    assert '<tool_result name="editor">' in last.messages[-1]["content"]


def test_step_limit_bad_calls_and_unknown_tools(fake_openai, gateway, tmp_path):
    bad_json = message(tool_calls=[{"id": "c1", "type": "function",
                                    "function": {"name": "bash", "arguments": "{not json"}}])
    fake_openai.push(bad_json, tool_call("teleport", where="mars"),
                     message(tool_calls=[call("bash", command="echo one"),
                                         call("bash", command="echo two")]))
    fake_openai.fallback = tool_call("bash", command="true")
    result, repo, out, summary = run_agent(tmp_path, gateway,
                                           extra_env={"DGM_AGENT_MAX_STEPS": "4"})
    assert result.ok, result.stderr
    assert summary["stop_reason"] == "step limit (4)" and summary["tool_calls"] == 5
    msgs = fake_openai.completion_requests[-1].messages
    tool_msgs = [m["content"] for m in msgs if m["role"] == "tool"]
    assert "not valid JSON" in tool_msgs[0] and "no tool named 'teleport'" in tool_msgs[1]
    assert tool_msgs[2:4] == ["one", "two"]


def test_budget_exhaustion_stops_the_agent_cleanly(fake_openai, make_gateway, tmp_path):
    # room for a few calls' worst case (~3.4k tokens with the tools), not for many
    gw = make_gateway(budget_tokens=3600, max_output_tokens=200)
    fake_openai.fallback = tool_call("bash", command="echo hi")
    result, repo, out, summary = run_agent(tmp_path, gw)
    assert result.ok, result.stderr
    assert summary["stop_reason"].startswith("budget exhausted")
    assert 1 <= summary["steps"] == fake_openai.completions < 5
    assert gw.meter.total.tokens <= 3600  # never over the budget
    assert "budget exhausted" in (out / "transcript.md").read_text()


def test_model_error_after_gateway_retries_is_reported(fake_openai, make_gateway, tmp_path):
    gw = make_gateway(max_retries=1)
    fake_openai.push(Fault("500"), Fault("500"))
    result, repo, out, summary = run_agent(tmp_path, gw)
    assert result.exit_code == 1
    assert summary["stop_reason"].startswith("model error 500")
    assert fake_openai.completions == 2  # the agent's client did not retry on top


def test_bad_command_line(tmp_path):
    import sys
    r = subprocess.run([sys.executable, str(AGENT / "coding_agent.py"), "--problem-file",
                        str(tmp_path / "missing.md"), "--out", str(tmp_path), "--repo", "/nope"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "no problem file" in r.stderr


def test_agent_own_tool_tests_pass(tmp_path):
    import sys
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                       cwd=AGENT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_token_limit_stops_the_agent(fake_openai, gateway, tmp_path):
    fake_openai.fallback = tool_call("bash", command="echo again")
    result, repo, out, summary = run_agent(tmp_path, gateway,
                                           extra_env={"DGM_AGENT_MAX_TOKENS": "1500"})
    assert result.ok, result.stderr
    assert summary["stop_reason"] == "token limit (1500)"
    assert summary["prompt_tokens"] + summary["completion_tokens"] >= 1500
    assert 1 <= summary["steps"] < 10
