"""The bad-input table: each case is one clear line, a non-zero exit, and nothing written."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dgm.archive.store import Archive

from .helpers import DGM, ROOT, TOY, can_mount, dgm, fill, small_tmpfs, toy_args


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A finished toy archive with a seed and 5 children (ids 000001..000006)."""
    arch = tmp_path_factory.mktemp("built") / "archive"
    r = dgm(toy_args(arch, 5, "--workers", "1"), timeout=180)
    assert r.returncode == 0, r.stderr
    return arch


def snapshot(root: Path) -> dict:
    """Every path under ``root`` with its size and mtime: what 'nothing written' compares."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def copy_agent(dest: Path) -> Path:
    shutil.copytree(TOY / "agent", dest)
    return dest


def case_non_utf8_config(tmp):
    (tmp / "dgm.toml").write_bytes(b"[run]\nchildren = 2 # \xff\xfe\n")
    return ["run", "--config", str(tmp / "dgm.toml"), *toy_args(tmp / "a", 1)[1:]], "not UTF-8"


def case_non_utf8_agent_toml(tmp):
    seed = copy_agent(tmp / "seed")
    (seed / "agent.toml").write_bytes((seed / "agent.toml").read_bytes() + b"# \xff\n")
    return ["run", "--archive", str(tmp / "a"), "--suite", str(TOY / "suite"), "--seed-agent",
            str(seed), "--unsafe", "--quiet"], "not UTF-8"


def case_scorer_fails_to_import(tmp):
    suite = tmp / "suite"
    shutil.copytree(TOY / "suite", suite)
    (suite / "scorer.py").write_text("import a_module_that_does_not_exist\n")
    (suite / "suite.toml").write_text((suite / "suite.toml").read_text().replace(
        'name = "toy"', 'name = "toy-broken"'))
    return ["run", "--archive", str(tmp / "a"), "--suite", str(suite), "--seed-agent",
            str(TOY / "agent"), "--unsafe", "--quiet"], "fails to import"


def case_seed_with_an_outward_link(tmp):
    seed = copy_agent(tmp / "seed")
    os.symlink("/etc/passwd", seed / "passwd")
    return ["run", "--archive", str(tmp / "a"), "--suite", str(TOY / "suite"), "--seed-agent",
            str(seed), "--unsafe", "--quiet"], "link out of the agent"


def case_init_seed_with_an_outward_link(tmp):
    seed = copy_agent(tmp / "seed")
    os.symlink("../../..", seed / "up")
    return ["init", "--archive", str(tmp / "a"), "--seed", str(seed)], "link out of the agent"


def case_device_tpu(tmp):
    return [*toy_args(tmp / "a", 1), "--device", "tpu"], "device"


def case_markup_in_the_message(tmp):
    return ["run", "--proposer", "llm", "--archive", str(tmp / "a"), "--suite", str(TOY / "suite"),
            "--seed-agent", str(TOY / "agent"), "--unsafe"], "set base_url under [run.model]"


RUN_CASES = [case_non_utf8_config, case_non_utf8_agent_toml, case_scorer_fails_to_import,
             case_seed_with_an_outward_link, case_init_seed_with_an_outward_link, case_device_tpu,
             case_markup_in_the_message]


def check_one_line(r: subprocess.CompletedProcess, needle: str) -> None:
    err = r.stderr if isinstance(r.stderr, str) else r.stderr.decode("utf-8", "replace")
    assert r.returncode not in (0, None), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert needle in err, err


@pytest.mark.parametrize("case", RUN_CASES, ids=lambda c: c.__name__[5:])
def test_bad_input_before_a_run(tmp_path, case):
    args, needle = case(tmp_path)
    before = snapshot(tmp_path)
    # no local model to fall back on: without an endpoint the message names [run.model]
    r = dgm(args, timeout=60, env={"DGM_MODEL_DIR": str(tmp_path / "no-models")})
    check_one_line(r, needle)
    assert not (tmp_path / "a").exists()
    assert snapshot(tmp_path) == before  # no staging directory, nothing else


ARCHIVE_CASES = [
    (["show", "1" * 100_000], "unknown agent"),
    (["show", "%5"], "unknown agent"),  # an SQL wildcard matches nothing
    (["show", "_0000"], "unknown agent"),
    (["diff", "00000%"], "unknown agent"),
    (["show", "a:b:c:d"], "'a:b:c:d'"),  # printed as written, no emoji
    (["show", b"\xff\xfe"], "unknown agent"),  # not UTF-8 on the command line
    (["tree", "--archive", "MISSING"], "no archive"),
]


@pytest.mark.parametrize("args,needle", ARCHIVE_CASES, ids=lambda a: str(a)[:30])
def test_bad_input_to_an_archive(built, tmp_path, args, needle):
    arch = tmp_path / "archive"
    shutil.copytree(built, arch)
    argv = [a if a != "MISSING" else str(tmp_path / "missing") for a in args]
    if "--archive" not in argv:
        argv += ["--archive", str(arch)]
    before = snapshot(arch)
    r = subprocess.run([DGM, *argv], capture_output=True, cwd=ROOT, timeout=60)
    r.stderr = r.stderr.decode("utf-8", "replace")
    check_one_line(r, needle)
    assert snapshot(arch) == before


def test_exact_id_matching_still_accepts_ids_and_prefixes(built):
    for text in ("5", "000005", "00000"):
        r = dgm(["show", text, "--archive", str(built)], timeout=60)
        if text == "00000":  # a prefix of six ids: ambiguous
            check_one_line(r, "unknown agent")
        else:
            assert r.returncode == 0 and "000005" in r.stdout, r.stderr


def test_diff_with_a_missing_git_object(built, tmp_path):
    arch = tmp_path / "archive"
    shutil.copytree(built, arch)
    store = arch / "repo.git"
    for obj in (store / "objects").glob("??/*"):  # every blob goes
        oid = obj.parent.name + obj.name
        kind = subprocess.run(["git", f"--git-dir={store}", "cat-file", "-t", oid],
                              capture_output=True, text=True).stdout.strip()
        if kind == "blob":
            obj.unlink()
    before = snapshot(arch)
    r = dgm(["diff", "2", "--archive", str(arch)], timeout=60)
    check_one_line(r, "git store")
    assert snapshot(arch) == before


def test_replay_export_of_an_agent_with_an_outward_link(tmp_path):
    seed = copy_agent(tmp_path / "seed")
    os.symlink("/etc/passwd", seed / "passwd")
    arch = tmp_path / "archive"
    with Archive.create(arch) as a:  # the archive API itself does not refuse it
        a.add_seed(seed)
    out = tmp_path / "out"
    r = dgm(["replay", "1", "--archive", str(arch), "--export", str(out)], timeout=60)
    check_one_line(r, "link out of the agent")
    assert not out.exists()
    out.mkdir()
    r = dgm(["replay", "1", "--archive", str(arch), "--export", str(out)], timeout=60)
    check_one_line(r, "link out of the agent")
    assert list(out.iterdir()) == []


@pytest.mark.skipif(not can_mount(), reason="needs root to mount a small tmpfs")
@pytest.mark.parametrize("command", ["init", "run"])
def test_archive_creation_on_a_full_disk(tmp_path, command):
    with small_tmpfs(tmp_path / "disk", "2m") as disk:
        filler = fill(disk)
        args = (["init", "--archive", str(disk / "a"), "--seed", str(TOY / "agent")]
                if command == "init" else toy_args(disk / "a", 1))
        r = dgm(args, timeout=60)
        check_one_line(r, "No space left on device")
        assert sorted(p.name for p in disk.iterdir()) == [filler.name]  # no staging left


def test_read_only_commands_write_nothing_and_work_on_read_only_media(built, tmp_path):
    arch = tmp_path / "archive"
    shutil.copytree(built, arch)
    assert not list(arch.glob("dgm.db-*"))  # at rest: no WAL files
    before = snapshot(arch)
    for args in (["status"], ["tree"], ["show", "2"], ["diff", "2"], ["check"],
                 ["export", "--format", "json"]):
        r = dgm([*args, "--archive", str(arch)], timeout=60)
        assert r.returncode == 0, (args, r.stderr)
    assert snapshot(arch) == before and not list(arch.glob("dgm.db-*"))
    if not can_mount():
        return
    ro = tmp_path / "ro"
    ro.mkdir()
    subprocess.run(["mount", "--bind", "-o", "ro", str(arch), str(ro)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
        for args in (["status"], ["show", "2"], ["check"]):
            r = dgm([*args, "--archive", str(ro)], timeout=60)
            assert r.returncode == 0, (args, r.stderr)
    finally:
        subprocess.run(["umount", str(ro)], check=False)


def test_a_staging_dir_is_never_selected_and_a_dead_creators_is_removed(built, tmp_path):
    root = tmp_path / "archive"
    root.mkdir()
    real = root / "20260101-000000"
    shutil.copytree(built, real)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = root / f".20991231-000000.creating-{dead.pid}"
    shutil.copytree(built, stale)  # newer, looks complete: must still never be picked
    os.utime(stale / "dgm.db")
    r = dgm(["status"], env={"DGM_ARCHIVE_ROOT": str(root)}, timeout=60)
    flat = "".join(r.stdout.split())  # rich wraps long paths
    assert r.returncode == 0 and str(real) in flat and "creating" not in flat, r.stdout
    r = dgm(["init"], env={"DGM_ARCHIVE_ROOT": str(root)}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert not stale.exists()  # its creator is dead: removed by the next creation


def test_two_runs_racing_for_one_new_archive(tmp_path):
    """Both validate, both build; exactly one becomes the archive, the other says so."""
    arch = tmp_path / "archive"
    procs = [subprocess.Popen([DGM, *toy_args(arch, 1)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(timeout=180), p.stderr.read()) for p in procs]
    winners = [e for c, e in results if c == 0]
    losers = [e for c, e in results if c != 0]
    assert len(winners) >= 1
    for err in losers:  # a loser either saw it exist at validation or lost the rename
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert "exists" in err or "is being written by" in err, err  # lost the rename, or came after
    assert not [p for p in tmp_path.iterdir() if ".creating-" in p.name]
    with Archive.open(arch, readonly=True) as a:
        assert a.check() == [] and a.query("SELECT COUNT(*) FROM runs")[0][0] == 1
