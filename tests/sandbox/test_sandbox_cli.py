"""`dgm sandbox`: info, run (with exit codes), the --unsafe rule."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dgm.cli.sandbox_cmds import app

runner = CliRunner()


def test_info_names_the_backends():
    r = runner.invoke(app, ["info"])
    assert r.exit_code == 0, r.output
    assert "docker:" in r.output and "bwrap:" in r.output and "auto picks:" in r.output


@pytest.mark.bwrap
def test_run_passes_output_and_exit_code(bwrap_sb, tmp_path):
    (tmp_path / "x.txt").write_text("from the host")
    r = runner.invoke(app, ["run", "--sandbox", "bwrap", "-m", f"{tmp_path}:/scratch:rw", "-e", "A=1", "--",
                            "sh", "-c", "cat x.txt; echo $A; exit 4"])
    assert r.exit_code == 4, r.output
    assert "from the host" in r.output and "1" in r.output and "[bwrap] exit code 4" in r.output


def test_unsafe_needs_the_flag():
    r = runner.invoke(app, ["run", "--sandbox", "unsafe", "--", "true"])
    assert r.exit_code == 2 and "--unsafe" in r.output
    r = runner.invoke(app, ["run", "--unsafe", "--", "true"])
    assert r.exit_code == 0 and "NOT isolated" in r.output
