"""Test agents for the coding suites: real programs run through the `solve` contract.

Each is written into a directory with an agent.toml and runs inside the
sandbox as ``python3 agent.py --problem-file F --repo R --out O``.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

MANIFEST = 'name = "{name}"\ndomain = "coding"\n[commands]\nsolve = ["python3", "agent.py"]\n'

COMMON = '''
import argparse, hashlib, json, os, pathlib, subprocess, sys
ap = argparse.ArgumentParser()
ap.add_argument("--problem-file", required=True)
ap.add_argument("--repo", required=True)
ap.add_argument("--out", required=True)
args = ap.parse_args()
problem = open(args.problem_file).read()
key = hashlib.sha256(problem.encode()).hexdigest()
out = pathlib.Path(args.out)
here = pathlib.Path(__file__).resolve().parent
answers = json.loads((here / "answers.json").read_text()) if (here / "answers.json").exists() else {}
if os.environ.get("EXTRA_FILE"):
    print("EXTRA:" + open(os.environ["EXTRA_FILE"]).read().strip())

def apply(patch):
    subprocess.run(["git", "apply", "-"], cwd=args.repo, input=patch.encode(), check=True)
'''

BODIES = {
    # applies the answer it carries for this problem, if any, and logs a transcript
    "replay": '''
(out / "transcript.md").write_text(f"# replay agent\\nproblem {key[:12]}\\nrepo {args.repo}\\n")
if key in answers:
    apply(answers[key])
    print("applied the stored answer")
else:
    print("no stored answer for this problem")
''',
    # does nothing at all
    "idle": '''
print("thinking... and giving up")
''',
    # answers where it can, adds a test (a conftest.py would be tampering: 0, see
    # tests/integrity), commits to hide its diff, links its transcript
    # to /etc/passwd, exits 3
    "saboteur": '''
if key in answers:
    apply(answers[key])
pathlib.Path(args.repo, "tests", "test_sabotage.py").write_text("def test_always():\\n    pass\\n")
git = ["git", "-c", "user.name=x", "-c", "user.email=x@y", "-C", args.repo]
subprocess.run(git + ["add", "-A"], check=True)
subprocess.run(git + ["commit", "-qm", "hide"], check=True)
(out / "notes.txt").write_text("SAFE-NOTE\\n")
os.symlink("/etc/passwd", out / "transcript.md")
print("SABOTEUR-STDOUT")
sys.exit(3)
''',
    # writes its answer, then hangs past the time limit
    "sleeper": '''
if key in answers:
    apply(answers[key])
sys.stdout.write("answer written, now sleeping\\n")
sys.stdout.flush()
import time
time.sleep(600)
''',
    # asks the model at $OPENAI_BASE_URL for a diff and applies the answer
    "llm": '''
import urllib.request
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"].rstrip("/") + "/chat/completions",
    data=json.dumps({"model": "fake", "messages": [{"role": "user", "content": problem}]}).encode(),
    headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ.get("OPENAI_API_KEY", "")})
reply = json.loads(urllib.request.urlopen(req, timeout=30).read())
apply(reply["choices"][0]["message"]["content"])
(out / "transcript.md").write_text("asked the model, applied its diff\\n")
''',
}


def problem_key(problem: str) -> str:
    return hashlib.sha256(problem.encode()).hexdigest()


def make_agent(root: Path, kind: str, answers: dict[str, str] | None = None) -> Path:
    """An agent directory of the given kind; ``answers`` maps problem text -> diff."""
    d = root / f"agent-{kind}"
    d.mkdir(parents=True)
    (d / "agent.toml").write_text(MANIFEST.format(name=kind))
    (d / "agent.py").write_text(textwrap.dedent(COMMON) + textwrap.dedent(BODIES[kind]))
    if answers:
        (d / "answers.json").write_text(json.dumps({problem_key(p): a for p, a in answers.items()}))
    return d
