"""Mount, environment and exit-reason rules shared by the backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from dgm.errors import ConfigError
from dgm.sandbox import Mount, protect
from dgm.sandbox.policy import ENGINE_DIR, check_mounts, describe_exit, workdir_for

REPO = ENGINE_DIR.parent


@pytest.mark.parametrize("target", ["relative", "/", "/usr/lib", "/etc", "/proc/x", "/tmp", "/opt/venv"])
def test_reserved_or_bad_targets_are_refused(tmp_path, target):
    with pytest.raises(ConfigError):
        check_mounts([Mount(tmp_path, target)])


def test_overlapping_targets_and_missing_sources(tmp_path):
    with pytest.raises(ConfigError, match="overlap"):
        check_mounts([Mount(tmp_path, "/scratch"), Mount(tmp_path, "/scratch/sub")])
    with pytest.raises(ConfigError, match="does not exist"):
        check_mounts([Mount(tmp_path / "nope", "/agent")])


@pytest.mark.parametrize("source", [REPO, ENGINE_DIR, ENGINE_DIR / "sandbox"])
def test_the_engine_is_never_mounted_writable(source):
    check_mounts([Mount(source, "/code")])  # read-only is fine
    with pytest.raises(ConfigError, match="protected"):
        check_mounts([Mount(source, "/code", writable=True)])


def test_registered_archives_are_protected(tmp_path):
    archive = tmp_path / "archive"
    (archive / "runs").mkdir(parents=True)
    protect(archive)
    for src in (archive, archive / "runs", tmp_path):
        with pytest.raises(ConfigError, match="protected"):
            check_mounts([Mount(src, "/scratch", writable=True)])


def test_unreadable_sources_are_refused_when_the_sandbox_user_is_not_the_owner(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    check_mounts([Mount(private, "/agent")])
    with pytest.raises(ConfigError, match="not readable"):
        check_mounts([Mount(private, "/agent")], world_readable=True)
    private.chmod(0o755)
    check_mounts([Mount(private, "/agent")], world_readable=True)


def test_workdir_falls_back_to_tmp_outside_mounts():
    mounts = [Mount(Path("/x"), "/scratch")]
    assert workdir_for("/scratch/sub", mounts) == "/scratch/sub"
    assert workdir_for("/elsewhere", mounts) == "/tmp"


def test_exit_reasons():
    assert describe_exit(0, False, False, 5) == ""
    assert describe_exit(3, False, False, 5) == "exit code 3"
    assert describe_exit(137, False, False, 5) == "exit code 137 (killed by SIGKILL)"
    assert describe_exit(None, True, False, 2.5) == "timed out after 2.5 s"
    assert describe_exit(137, False, True, 5) == "killed: out of memory"
