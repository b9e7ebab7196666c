"""Agent text never reaches the operator's terminal with its escape sequences.

The payload carries what a hostile agent would send: clear screen, window
title, an OSC 52 clipboard write, an OSC 8 hyperlink, C1 controls, a cursor
move, bidi overrides and rich markup. Every command that shows agent text
(show, tree, status, diff, the progress view) prints the words without the
sequences; the control is the same words without the tricks, shown unchanged.
"""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dgm.archive.store import Archive
from dgm.cli.app import app
from dgm.termsafe import SafeConsole, clean, markup

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "archive"))
from archive_helpers import SEED_FILES, DiffMaker, TaskResult, edit, write_tree  # noqa: E402

EVIL = ("pwned\x1b[2J\x1b[H\x1b]0;owned title\x07\x1b]52;c;Y3VybCBldmlsfHNo\x07"
        "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\\x9b31m\x9d2;t\x9c\u202ereversed"
        "\x1b[1A[bold red]markup[/]\x1bP1$qm\x1b\\ end")
WORDS = ["pwned", "click", "reversed", "[bold red]markup[/]", "end"]
SEQUENCES = ["\x1b", "\x9b", "\x9d", "\x9c", "\u202e", "\x07"]


def assert_safe(text: str) -> None:
    for s in SEQUENCES:
        assert s not in text, f"{s!r} reached the terminal"
    assert "owned title" not in text and "Y3VybCBldmlsfHNo" not in text and "evil.example" not in text


def test_clean_removes_every_sequence_and_keeps_the_words():
    out = clean(EVIL)
    assert_safe(out)
    for w in WORDS:
        assert w in out
    plain = "pwned click reversed [bold red]markup[/] end\n\ttabbed"
    assert clean(plain) == plain  # control: text without tricks is untouched
    assert markup("[red]x[/]") == "\\[red]x\\[/]"


def test_safe_console_prints_clean_text():
    buf = io.StringIO()
    con = SafeConsole(file=buf, force_terminal=False, width=200)
    con.print(EVIL, markup=False, highlight=False)
    con.print(f"summary: {markup(EVIL)}")
    assert_safe(buf.getvalue())
    assert buf.getvalue().count("[bold red]markup[/]") == 2  # shown literally, not as markup


@pytest.fixture
def hostile_archive(tmp_path):
    path = tmp_path / "arc"
    seed = write_tree(tmp_path / "seed", SEED_FILES)
    make_diff = DiffMaker(tmp_path / "diffs")
    with Archive.create(path) as a:
        s = a.add_seed(seed, summary="seed " + EVIL)
        c = a.add_child(s, make_diff(SEED_FILES, edit(SEED_FILES, "main.py", f"# {EVIL}\n")),
                        summary=EVIL, proposer="mutation", diagnosis=EVIL).agent_id
        a.record_evaluation(c, "toy", 0, [TaskResult("t1\x1b[2J", 0.0, False,
                                                     log="agent ok\ntampering: " + EVIL)],
                            artifacts={"a\x1b]52;c;eA==\x07": EVIL})
        a.set_status(c, "evaluating")
        a.set_status(c, "admitted", reason=EVIL)
    return path


@pytest.mark.parametrize("cmd", [["show", "2"], ["tree"], ["status"]])
def test_commands_show_agent_text_without_its_sequences(hostile_archive, cmd):
    r = CliRunner().invoke(app, [*cmd, "--archive", str(hostile_archive)])
    assert r.exit_code == 0, r.output
    assert_safe(r.output)
    assert "pwned" in r.output
    if cmd[0] == "show":
        assert "tampering" in r.output


def test_diff_on_a_terminal_is_cleaned(hostile_archive):
    """``dgm diff`` on a real pty: cleaned. Into a pipe it stays byte-exact (it is a patch)."""
    dgm = os.path.join(os.path.dirname(sys.executable), "dgm")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(dgm, [dgm, "diff", "2", "--archive", str(hostile_archive)])
    out = b""
    while True:
        r, _, _ = select.select([fd], [], [], 30)
        if not r:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    os.waitpid(pid, 0)
    text = out.decode("utf-8", "replace")
    assert "pwned" in text and "main.py" in text
    assert_safe(text)
    piped = subprocess.run([dgm, "diff", "2", "--archive", str(hostile_archive)], capture_output=True,
                           text=True, check=True).stdout
    assert "\x1b]52;c;Y3VybCBldmlsfHNo\x07" in piped  # control: a pipe gets the patch as stored


def test_progress_view_is_cleaned():
    from dgm.engine.progress import RichReporter

    buf = io.StringIO()
    rep = RichReporter(3, console=SafeConsole(file=buf, force_terminal=False, width=200))
    rep.child("000002", "rejected", 0.0, EVIL)
    rep.message(EVIL)
    rep.close()
    rep.progress.stop()
    assert_safe(buf.getvalue())
    assert "pwned" in buf.getvalue()
