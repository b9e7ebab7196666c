"""dgm init/status/tree/show/diff/export/check through typer's runner and the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import networkx as nx
import pytest
from typer.testing import CliRunner

from dgm.archive.store import Archive
from dgm.cli.app import app

from archive_helpers import SEED_FILES, TaskResult, edit, write_tree

DGM = os.path.join(os.path.dirname(sys.executable), "dgm")


def flat(text: str) -> str:
    """Rich wraps to the terminal width; compare with whitespace collapsed."""
    return " ".join(text.split())


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("DGM_ARCHIVE_ROOT", str(tmp_path / "archive"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args])
    return invoke


def one_error_line(result) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def snapshot(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def populated(tmp_path, seed_dir, make_diff):
    """An archive: seed 1 -> 2 (admitted .8) -> 4 (admitted .9); 1 -> 3 (rejected .2)."""
    path = tmp_path / "pop"
    with Archive.create(path) as a:
        s = a.add_seed(seed_dir, summary="the seed")
        v2 = edit(SEED_FILES, "main.py", "print('two')\n")
        usage = SimpleNamespace(model="gpt-test", prompt_tokens=100, completion_tokens=20,
                                cost=0.25)
        c2 = a.add_child(s, make_diff(SEED_FILES, v2), summary="print two", proposer="llm",
                         usage=usage, diagnosis="main prints nothing").agent_id
        # the gateway metered that proposal's call (billed to the parent): the one ledger
        a.record_usage(s, "gpt-test", 100, 20, 0.25, purpose=f"{s}:llm:0a1b")
        c3 = a.add_child(s, make_diff(SEED_FILES, edit(SEED_FILES, "README.md", "3\n")),
                         summary="readme three", proposer="mutation").agent_id
        c4 = a.add_child(c2, make_diff(v2, edit(v2, "tools/util.py", "X = 4\n")),
                         summary="util four", proposer="mutation").agent_id
        a.add_child(s, "garbage", summary="bad", proposer="llm")
        for agent, score, status in ((c2, 0.8, "admitted"), (c3, 0.2, "rejected"),
                                     (c4, 0.9, "admitted")):
            a.record_evaluation(agent, "toy", 1, [TaskResult("t1", score, score > 0.5),
                                                  TaskResult("t2", score, False)],
                                artifacts={"failures": f"t2 failed for {agent}"})
            a.set_status(agent, "evaluating")
            a.set_status(agent, status)
    return path


# -- init ------------------------------------------------------------------------
def test_init_with_seed(cli, tmp_path, seed_dir):
    r = cli("init", "--archive", tmp_path / "new", "--seed", seed_dir)
    assert r.exit_code == 0, r.output
    assert "created archive" in flat(r.stdout) and "seed agent 000001" in flat(r.stdout)
    with Archive.open(tmp_path / "new", readonly=True) as a:
        assert a.count() == 1 and a.check() == []


def test_init_default_location_and_newest_default(cli, tmp_path, seed_dir):
    assert cli("init").exit_code == 0
    (first,) = (tmp_path / "archive").iterdir()
    os.utime(first / "dgm.db", (1, 1))  # make it look old
    second = tmp_path / "archive" / "zz-second"
    assert cli("init", "--archive", second, "--seed", seed_dir).exit_code == 0
    r = cli("status")
    assert r.exit_code == 0 and "zz-second" in r.stdout and "1 agents" in flat(r.stdout)


@pytest.mark.parametrize("toml", [None, 'name = "x"\ndomain = "painting"\n[commands]\n',
                                  "this is [ not toml"])
def test_init_with_a_bad_seed_writes_nothing(cli, tmp_path, toml):
    bad = tmp_path / "notagent"
    write_tree(bad, {"main.py": "x\n", **({"agent.toml": toml} if toml else {})})
    before = snapshot(tmp_path)
    line = one_error_line(cli("init", "--seed", bad))
    assert "agent.toml" in line
    line = one_error_line(cli("init", "--archive", tmp_path / "explicit", "--seed", bad))
    assert snapshot(tmp_path) == before  # no archive/ and no explicit/ directory


def test_init_refuses_an_existing_archive(cli, populated):
    before = snapshot(populated)
    assert "already holds an archive" in one_error_line(cli("init", "--archive", populated))
    assert snapshot(populated) == before


# -- bad archives -------------------------------------------------------------------
@pytest.mark.parametrize("cmd", [["status"], ["tree"], ["show", "1"], ["diff", "1"],
                                 ["export"], ["check"]])
def test_bad_archive_paths(cli, tmp_path, cmd):
    assert "does not exist" in one_error_line(cli(*cmd, "--archive", tmp_path / "missing"))
    assert not (tmp_path / "missing").exists()
    (tmp_path / "plain").mkdir(exist_ok=True)
    assert "not a dgm archive" in one_error_line(cli(*cmd, "--archive", tmp_path / "plain"))
    assert list((tmp_path / "plain").iterdir()) == []
    assert "no archive found" in one_error_line(cli(*cmd))  # nothing under archive/


def test_corrupted_database(cli, populated):
    (populated / "dgm.db").write_bytes(b"definitely not sqlite\n" * 500)
    before = snapshot(populated)
    for cmd in (["status"], ["tree"], ["check"], ["show", "2"]):
        assert "unreadable" in one_error_line(cli(*cmd, "--archive", populated))
    assert snapshot(populated) == before


def test_unknown_agent_suggests_close_ids(cli, populated):
    line = one_error_line(cli("show", "000005", "--archive", populated))
    assert "unknown agent '000005'" in line and "did you mean" in line and "000004" in line
    line = one_error_line(cli("diff", "2", "000040", "--archive", populated))
    assert "000040" in line


# -- the commands ----------------------------------------------------------------------
def test_status(cli, populated):
    r = cli("status", "--archive", populated)
    out = flat(r.stdout)
    assert r.exit_code == 0
    assert "4 agents" in out and "admitted 2, proposed 1, rejected 1" in out
    assert "best: 000004 score 0.900 util four" in out
    assert "proposals rejected: 1" in out and "cost $0.2500" in out and "tokens 120" in out


def test_tree(cli, populated):
    r = cli("tree", "--archive", populated)
    assert r.exit_code == 0
    out = r.stdout
    for agent, mark in (("000001", "?"), ("000002", "✓"), ("000003", "✗"), ("000004", "✓")):
        assert f"{mark} {agent}" in out
    assert "0.900" in out and "print two" in out
    lines = out.splitlines()
    # 4 is drawn under 2 (deeper indentation)
    assert lines[[i for i, ln in enumerate(lines) if "000004" in ln][0] - 1].count("000002") == 1
    shallow = cli("tree", "--archive", populated, "--max-depth", "1").stdout
    assert "000002" in shallow and "000004" not in shallow
    assert "000002" not in cli("tree", "--archive", populated, "--max-depth", "0").stdout
    best = cli("tree", "--archive", populated, "--best-path").stdout
    assert "000004" in best and "000003" not in best
    high = cli("tree", "--archive", populated, "--min-score", "0.85").stdout
    assert "000004" in high and "000002" in high and "000003" not in high  # ancestors kept


def test_tree_of_an_empty_archive(cli, tmp_path):
    assert cli("init", "--archive", tmp_path / "e").exit_code == 0
    r = cli("tree", "--archive", tmp_path / "e")
    assert r.exit_code == 0 and "(empty archive)" in r.stdout
    assert "(empty)" in cli("status", "--archive", tmp_path / "e").stdout


def test_show(cli, populated):
    r = cli("show", "2", "--archive", populated)
    out = flat(r.stdout)
    assert r.exit_code == 0
    with Archive.open(populated, readonly=True) as a:
        commit = a.agent("000002").commit_sha
    for text in ("000002", commit, "parent 000001", "status admitted", "proposer llm",
                 "score 0.800", "print two", "children 000004", "gpt-test", "cost $0.2500",
                 "main prints nothing", "toy/1/failures"):
        assert text in out, text
    assert "evaluations" in out and "toy" in out


def test_diff(cli, populated):
    r = cli("diff", "4", "--archive", populated)
    assert r.exit_code == 0 and "+X = 4" in r.stdout and "print('two')" not in r.stdout
    r = cli("diff", "4", "1", "--archive", populated)
    assert "+X = 4" in r.stdout and "+print('two')" in r.stdout
    r = cli("diff", "1", "--archive", populated)
    assert "+++ b/agent.toml" in r.stdout


def test_export(cli, populated, tmp_path):
    r = cli("export", "--archive", populated)
    g = nx.node_link_graph(json.loads(r.stdout), edges="links")
    assert set(g.edges) == {("000001", "000002"), ("000001", "000003"), ("000002", "000004")}
    gml = cli("export", "--format", "graphml", "--archive", populated).stdout
    assert set(nx.parse_graphml(gml).nodes) == set(g.nodes)
    out = tmp_path / "tree.dot"
    r = cli("export", "-f", "dot", "-o", out, "--archive", populated)
    assert r.exit_code == 0 and f"wrote {out}" in flat(r.stdout)
    assert '"000002" -> "000004";' in out.read_text()
    assert "unknown export format 'svg'" in one_error_line(
        cli("export", "-f", "svg", "--archive", populated))
    assert "No such file or directory" in one_error_line(
        cli("export", "-o", tmp_path / "no" / "dir.json", "--archive", populated))


def test_check(cli, populated):
    r = cli("check", "--archive", populated)
    assert r.exit_code == 0 and "ok: 4 agents" in flat(r.stdout)
    subprocess.run(["git", f"--git-dir={populated / 'repo.git'}", "update-ref", "-d",
                    "refs/dgm/agents/000003"], check=True)
    subprocess.run(["git", f"--git-dir={populated / 'repo.git'}", "update-ref",
                    "refs/dgm/agents/000077", "refs/dgm/agents/000001"], check=True)
    r = cli("check", "--archive", populated)
    assert r.exit_code == 1
    out = flat(r.stdout)
    assert "problem: agent 000003: no ref refs/dgm/agents/000003" in out
    assert "problem: ref refs/dgm/agents/000077 has no agent row" in out
    assert "2 problem(s) in 4 agents" in r.stderr
    assert "Traceback" not in r.output


# -- the installed script, in a subprocess ---------------------------------------------
def run_dgm(*args, cwd=None, env_extra=None):
    env = {**os.environ, "COLUMNS": "200", **(env_extra or {})}
    return subprocess.run([DGM, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)


def test_installed_script_end_to_end(tmp_path, seed_dir):
    r = run_dgm("init", "--seed", seed_dir, cwd=tmp_path)  # default: ./archive/<timestamp>
    assert r.returncode == 0, r.stderr
    (arc,) = (tmp_path / "archive").iterdir()
    r = run_dgm("tree", cwd=tmp_path)
    assert r.returncode == 0 and "000001" in r.stdout
    r = run_dgm("check", "--archive", arc)
    assert r.returncode == 0 and "ok: 1 agents" in r.stdout
    r = run_dgm("export", "-f", "dot", "--archive", arc)
    assert r.returncode == 0 and r.stdout.startswith("digraph dgm {")
    r = run_dgm("show", "1", "--archive", arc)
    assert r.returncode == 0 and "seed agent from" in r.stdout


def test_installed_script_errors_are_one_line(tmp_path, populated):
    write_tree(tmp_path / "noagent", {"x.py": "1\n"})
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "repo.git").mkdir()
    (tmp_path / "bad" / "repo.git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "bad" / "dgm.db").write_bytes(os.urandom(4096))
    cases = [
        (["init", "--seed", tmp_path / "noagent"], "no agent.toml"),
        (["status", "--archive", tmp_path / "missing"], "does not exist"),
        (["tree", "--archive", tmp_path / "noagent"], "not a dgm archive"),
        (["check", "--archive", tmp_path / "bad"], "unreadable"),
        (["show", "000009", "--archive", populated], "unknown agent"),
    ]
    for args, words in cases:
        r = run_dgm(*args, cwd=tmp_path)
        assert r.returncode != 0, args
        assert "Traceback" not in r.stderr + r.stdout, args
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and words in lines[0], (args, r.stderr)
    assert not (tmp_path / "archive").exists()  # the failed init wrote nothing
    r = run_dgm("--debug", "show", "000009", "--archive", populated)
    assert r.returncode != 0 and "Traceback" in r.stderr and "UnknownAgent" in r.stderr
