"""In-sandbox: write what an agent changed in a work tree as one git diff.

    python3 capture.py --git-dir BASE_GIT --work-tree TREE --out PATCH

BASE_GIT is a private copy of the testbed's git directory taken *before* the
agent ran, so nothing the agent did to ``TREE/.git`` (history rewrites, config
with hooks or filters, a moved HEAD) affects the diff. New files are included
(``git add -A``), binary changes are written with ``--binary``, ``.gitignore``
in the tree is honoured and build debris is excluded via BASE_GIT/info/exclude.
Exit code 0 with the diff written (possibly empty), 2 on error.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--git-dir", required=True)
    ap.add_argument("--work-tree", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "LANG": "C.UTF-8", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_DIR": args.git_dir, "GIT_WORK_TREE": args.work_tree}
    base = ["git", "-c", "safe.directory=*", "-c", "core.autocrlf=false", "-c", "core.fsmonitor=false",
            "-c", "core.hooksPath=/dev/null"]
    for cmd in (["add", "-A", "--", "."],
                ["diff", "--cached", "--binary", "--no-color", "--no-ext-diff", "--no-textconv",
                 "--full-index", "HEAD"]):
        proc = subprocess.run(base + cmd, cwd=args.work_tree, env=env, capture_output=True)
        if proc.returncode != 0:
            sys.stderr.write(f"git {' '.join(cmd)} failed:\n{proc.stderr.decode(errors='replace')}")
            return 2
    with open(args.out, "wb") as fh:
        fh.write(proc.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
