"""Author and maintain swe-mini tasks (a maintainer's tool; runs our own code unsandboxed).

    python evaluators/swe-mini/tools/taskgen.py new AUTHOR_DIR [--id ID]
    python evaluators/swe-mini/tools/taskgen.py derive [ID ...]      # all tasks when none given
    python evaluators/swe-mini/tools/taskgen.py check [ID ...]       # derive without writing

AUTHOR_DIR holds ``base/`` (the repository at its base commit, existing tests
included), ``fixed/`` (the source files as the gold fix leaves them),
``hidden/`` (test files as the hidden tests leave them: changed or new files),
``problem_statement.md`` and ``meta.txt`` (``repo: owner/name`` and
``version: X``). ``new`` writes tasks/<id>/ with repo/, gold.patch, test.patch
and the statement, then derives the rest.

``derive`` recomputes base_commit, eval.sh and Dockerfile, and FAIL_TO_PASS /
PASS_TO_PASS by running the hidden tests with and without the gold patch
through harness/grade.py: F2P = fails at base and passes with gold, P2P =
passes at both. It refuses a task whose gold run has any failing test or
whose F2P is empty.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SUITE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SUITE))
from dgm_codingkit import gitrepo, miniyaml, taskrepo  # noqa: E402

PASSING = ("PASSED", "XFAIL")


def _diff(base: Path, overlay: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "r"
        gitrepo.make_repo(base, repo)
        gitrepo.write_files(repo, gitrepo.snapshot_files(overlay))
        gitrepo.git(["add", "-A", "."], repo)
        return gitrepo.git(["diff", "--cached", "--no-color", "--no-ext-diff"], repo)


def _run_grader(task: taskrepo.SweTask, patch: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp)
        task.build_testbed(job / "testbed")
        (job / "model.patch").write_text(patch)
        (job / "test.patch").write_text(task.test_patch)
        out = subprocess.run([sys.executable, str(SUITE / "harness" / "grade.py"), "--job", str(job),
                              "--timeout", "120"], check=True, capture_output=True, text=True).stdout
        line = [x for x in out.splitlines() if x.startswith("DGM-GRADE ")][-1]
        res = json.loads(line[len("DGM-GRADE "):])
        if not (res["applied"] and res["test_patch_applied"]):
            raise SystemExit(f"{task.instance_id}: patches do not apply: {res}")
        return res.get("status") or {}


def derive(task_dir: Path, write: bool) -> list[str]:
    """Recompute the derived files of one task; return the names that differ."""
    meta = miniyaml.load((task_dir / "task.yaml").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        meta["base_commit"] = gitrepo.make_repo(task_dir / "repo", Path(tmp) / "r")
    meta["image"] = taskrepo.expected_image(task_dir.name)
    new = {"task.yaml": miniyaml.dump(meta)}
    if write:
        (task_dir / "task.yaml").write_text(new["task.yaml"])
    task = taskrepo.load_task(task_dir) if write else taskrepo.SweTask(
        task_dir.name, task_dir, meta, [], [])
    problems = taskrepo.check_patches(task)
    if problems:
        raise SystemExit(f"{task_dir.name}: " + "; ".join(problems))
    new.update(taskrepo.derived_files(task))
    at_base = _run_grader(task, "")
    with_gold = _run_grader(task, task.gold_patch)
    broken = sorted(t for t, s in with_gold.items() if s not in PASSING + ("SKIPPED",))
    if broken:
        raise SystemExit(f"{task_dir.name}: tests fail with the gold patch: {broken}")
    tests = {"FAIL_TO_PASS": sorted(t for t, s in with_gold.items()
                                    if s in PASSING and at_base.get(t) not in PASSING),
             "PASS_TO_PASS": sorted(t for t, s in with_gold.items()
                                    if s in PASSING and at_base.get(t) in PASSING)}
    spaced = [t for t in with_gold if any(c.isspace() for c in t)]
    if spaced:
        raise SystemExit(f"{task_dir.name}: test ids with whitespace break -rA parsing: {spaced}")
    if not tests["FAIL_TO_PASS"]:
        raise SystemExit(f"{task_dir.name}: no test fails at base and passes with the gold patch")
    new["tests.json"] = json.dumps(tests, indent=2) + "\n"
    changed = [n for n, text in new.items()
               if not (task_dir / n).is_file() or (task_dir / n).read_text() != text]
    if write:
        for name in changed:
            (task_dir / name).write_text(new[name])
        (task_dir / "eval.sh").chmod(0o755)
    return changed


def new_task(author: Path, instance_id: str) -> Path:
    meta_txt = dict(line.split(":", 1) for line in (author / "meta.txt").read_text().splitlines()
                    if line.strip())
    dest = SUITE / "tasks" / instance_id
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(author / "base", dest / "repo",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))
    (dest / "gold.patch").write_text(_diff(author / "base", author / "fixed"))
    (dest / "test.patch").write_text(_diff(author / "base", author / "hidden"))
    shutil.copy(author / "problem_statement.md", dest / "problem_statement.md")
    meta = {"instance_id": instance_id, "repo": meta_txt["repo"].strip(),
            "version": meta_txt["version"].strip(), "base_commit": "0", "split": "test",
            "datasets": [taskrepo.DATASET], "image": taskrepo.expected_image(instance_id),
            "log_parser": "parse_log_pytest", "eval_type": "pass_and_fail"}
    (dest / "task.yaml").write_text(miniyaml.dump(meta))
    (dest / "tests.json").write_text('{"FAIL_TO_PASS": ["x"], "PASS_TO_PASS": []}\n')
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("new")
    n.add_argument("author", type=Path)
    n.add_argument("--id")
    for name in ("derive", "check"):
        sub.add_parser(name).add_argument("ids", nargs="*")
    args = ap.parse_args()
    if args.cmd == "new":
        meta = dict(line.split(":", 1) for line in (args.author / "meta.txt").read_text().splitlines()
                    if line.strip())
        owner, name = meta["repo"].strip().split("/")
        dest = new_task(args.author, args.id or f"{owner}__{name}-1")
        print(f"{dest.name}: derived {derive(dest, write=True)}")
        return
    ids = args.ids or sorted(d.name for d in (SUITE / "tasks").iterdir() if (d / "task.yaml").is_file())
    stale = {}
    for tid in ids:
        changed = derive(SUITE / "tasks" / tid, write=args.cmd == "derive")
        if changed:
            stale[tid] = changed
        print(f"{tid}: {'rewrote' if args.cmd == 'derive' else 'stale'} {changed}" if changed
              else f"{tid}: up to date")
    if args.cmd == "check" and stale:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
