"""Tests of the agent's tools; they need no model. Run: python3 -m pytest -q tests"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import bash, editor, run_tool  # noqa: E402
from llm import parse_text_tool_calls  # noqa: E402


def test_bash_session_keeps_state(tmp_path):
    s = bash.BashSession(str(tmp_path))
    try:
        assert s.run("mkdir sub && cd sub && export X=42") == ""
        assert s.run("pwd").endswith("/sub")
        assert s.run("echo $X") == "42"
        assert "[exit code 3]" in s.run("(exit 3)")
    finally:
        s.close()


def test_bash_timeout_restarts_the_shell(tmp_path):
    s = bash.BashSession(str(tmp_path))
    try:
        s.run("export Y=1")
        out = s.run("sleep 5", timeout=0.5)
        assert "timed out" in out
        assert s.run("echo ${Y:-unset}") == "unset"
    finally:
        s.close()


def test_bash_syntax_error_and_stdin(tmp_path):
    s = bash.BashSession(str(tmp_path))
    try:
        assert "Syntax error" in s.run("if then fi (")
        assert s.run("cat; echo after") == "after"  # stdin is /dev/null, no hang
        assert "exited" in s.run("exit 7")
        assert s.run("echo again") == "again"
    finally:
        s.close()


def test_editor_commands(tmp_path):
    editor.configure(str(tmp_path))
    assert "Created" in editor.tool_function("create", "a.py", file_text="x = 1\ny = 2\nx = 1\n")
    assert "2\ty = 2" in editor.tool_function("view", "a.py", view_range=[2, 2])
    assert "occurs 2 times" in editor.tool_function("str_replace", "a.py", old_str="x = 1",
                                                    new_str="x = 3")
    assert "Edited" in editor.tool_function("str_replace", "a.py", old_str="y = 2\nx = 1",
                                            new_str="y = 5\nx = 1")
    assert "not found" in editor.tool_function("str_replace", "a.py", old_str="zzz", new_str="")
    assert "Inserted" in editor.tool_function("insert", "a.py", insert_line=0, new_str="# top")
    assert (tmp_path / "a.py").read_text() == "# top\nx = 1\ny = 5\nx = 1\n"
    assert "a.py" in editor.tool_function("view", ".")
    assert editor.tool_function("view", "missing.py").startswith("Error")


def test_run_tool_reports_bad_calls():
    assert "unknown arguments" in run_tool("editor", {"command": "view", "path": ".", "bogus": 1})
    assert "no tool named" in run_tool("nope", {})


def test_text_protocol_parsing():
    calls = parse_text_tool_calls('ok\n<tool_use>\n{"name": "bash", "input": {"command": "ls"}}'
                                  '\n</tool_use>\n<tool_use>{bad json</tool_use>')
    assert calls[0].name == "bash" and calls[0].arguments == {"command": "ls"}
    assert calls[1].error
