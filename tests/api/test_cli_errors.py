"""One error family at the command line: an unsafe agent tree is one line (it was a bare
ValueError with a traceback), and a closed pipe ends `dgm diff` quietly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dgm
from dgm.archive.store import Archive

DGM = str(Path(sys.executable).parent / "dgm")


def _archive_with_a_link_out(tmp_path: Path) -> Path:
    path = tmp_path / "a"
    src = tmp_path / "seed"
    src.mkdir()
    (src / "agent.toml").write_text('name = "x"\ndomain = "coding"\n[commands]\nsolve = ["true"]\n')
    with Archive.create(path) as a:
        aid = a.add_seed(src)
        git = a.git
        blob = git.git("hash-object", "-w", "--stdin", input=b"../../etc/passwd").decode().strip()
        ok = git.git("hash-object", "-w", "--stdin", input=(src / "agent.toml").read_bytes()).decode().strip()
        tree = git.git("mktree", input=f"100644 blob {ok}\tagent.toml\n120000 blob {blob}\tevil\n"
                       .encode()).decode().strip()
        commit = git.commit_tree(tree, None, "crafted")
        a.db.execute("UPDATE agents SET commit_sha=?, tree=? WHERE id=?", [commit, tree, aid])
        git.set_ref(aid, commit)
    return path


def test_an_unsafe_tree_is_one_line_from_the_cli_and_a_dgm_error_from_the_api(tmp_path):
    arch = _archive_with_a_link_out(tmp_path)
    r = subprocess.run([DGM, "replay", "1", "--archive", str(arch), "--export", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "link out of the agent" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    with dgm.open_archive(arch) as a:
        try:
            a.materialize(1, tmp_path / "out2")
        except dgm.DgmError as exc:
            assert isinstance(exc, dgm.UnsafeTree) and isinstance(exc, ValueError)
        else:
            raise AssertionError("materialised a tree with a link out of the agent")


def test_dgm_diff_into_a_closed_pipe_exits_quietly(tmp_path):
    src = tmp_path / "seed"
    src.mkdir()
    (src / "agent.toml").write_text('name = "x"\ndomain = "coding"\n[commands]\nsolve = ["true"]\n')
    (src / "big.py").write_text("".join(f"X{i} = {i}\n" for i in range(60_000)))  # > a pipe's 64 KiB
    arch = tmp_path / "a"
    with Archive.create(arch) as a:
        a.add_seed(src)
    p = subprocess.Popen([DGM, "diff", "1", "--archive", str(arch)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout.read(100).startswith(b"diff --git")
    p.stdout.close()  # as `| head` does
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0 and err == "", err


def test_a_broken_pipe_reaching_the_error_handler_is_not_an_error_line(capsys):
    """BrokenPipeError is an OSError: it used to be caught as one and printed as
    ``error: [Errno 32] Broken pipe``."""
    import pytest
    import typer

    from dgm.cli.common import cli_errors

    @cli_errors
    def write_into_a_closed_pipe():
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(typer.Exit) as info:
        write_into_a_closed_pipe()
    assert info.value.exit_code == 0 and capsys.readouterr().err == ""
