"""Fuzz: malformed model answers never crash; each is rejected with its reason.

A seeded generator makes 1,200 malformed answers of ten kinds (garbage,
half blocks, paths outside the agent, binary content, 10 MB answers, ...).
All of them go through the llm proposer's parse-and-apply step against a real
agent directory, which must stay byte-for-byte unchanged; a sample also goes
through the whole proposer, gateway and fake model server (answer, retry with
the error shown, rejection).
"""

import hashlib
import random
import shutil
import string
from pathlib import Path

import pytest

from dgm.proposers.base import ProposalRejected, ProposeContext
from dgm.proposers.llm import LLMProposer, try_answer
from dgm.proposers.workcopy import WorkCopy

N_CASES = 1200
BIG = 10 * 1024 * 1024
FILES = {
    "main.py": "import sys\n\n\ndef solve(x):\n    return x + 1\n\n\ndef helper(x):\n    return x + 1\n",
    "lib/util.py": "VALUE = 3\n\n\ndef twice(v):\n    return 2 * v\n",
    "agent.toml": 'name = "fuzz"\ndomain = "coding"\n[commands]\nsolve = ["python3", "main.py"]\n',
}
OUTSIDE = ["../x.py", "../../etc/passwd", "/etc/passwd", "/tmp/evil.py", ".git/config",
           ".git/hooks/pre-commit", "lib/../../x.py", "~/.bashrc", "C:/win.py", "a/./../../b",
           "lib/.git/x", "..", "/", "\\\\server\\share"]


def valid_block(rng: random.Random) -> str:
    return rng.choice([
        "main.py\n<<<<<<< SEARCH\ndef solve(x):\n    return x + 1\n=======\ndef solve(x):\n"
        "    return x + 2\n>>>>>>> REPLACE\n",
        "lib/util.py\n```python\n<<<<<<< SEARCH\nVALUE = 3\n=======\nVALUE = 4\n>>>>>>> REPLACE\n```\n",
        "--- a/lib/util.py\n+++ b/lib/util.py\n@@ -4,2 +4,2 @@\n def twice(v):\n-    return 2 * v\n"
        "+    return 3 * v\n",
    ])


def garbage(rng, n=None):
    alphabet = string.printable + "éü中文🙂\u200b<>=`"
    return "".join(rng.choice(alphabet) for _ in range(n or rng.randint(0, 3000)))


def half_block(rng):
    block = valid_block(rng)
    if block.startswith("---"):
        head = block.index("@@")
        return block[:rng.randint(0, head)]  # headers cut before any hunk
    start = block.index("<<<<<<<")
    end = block.index(">>>>>>> REPLACE") + len(">>>>>>> REPLACE") - 1
    return block[:rng.randint(start, end)]


def outside_path(rng):
    path = rng.choice(OUTSIDE)
    body = garbage(rng, 40).replace("\x00", "").replace("\x0b", "").replace("\x0c", "")
    return f"{path}\n<<<<<<< SEARCH\n=======\n{body}\n>>>>>>> REPLACE\n"


def binary(rng):
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 400))).decode("latin-1")
    if rng.random() < 0.5:
        raw += "\x00"
        return raw if rng.random() < 0.5 else valid_block(rng) + raw
    ctrl = "".join(chr(rng.choice([0, 1, 2, 7, 8, 27, 127])) for _ in range(rng.randint(1, 5)))
    return f"lib/new.py\n<<<<<<< SEARCH\n=======\nX = '{ctrl}'\n>>>>>>> REPLACE\n"


def huge(rng):
    return rng.choice([lambda: "y" * BIG, lambda: valid_block(rng) * (BIG // 100),
                       lambda: valid_block(rng) + "z" * BIG])()


def unmatched(rng):
    junk = garbage(rng, 30).replace("\x00", "").replace("\n", " ").replace("\r", " ") + "QQQ"
    return f"main.py\n<<<<<<< SEARCH\n{junk}\n=======\nx = 1\n>>>>>>> REPLACE\n"


def ambiguous(rng):
    return "main.py\n<<<<<<< SEARCH\n    return x + 1\n=======\n    return x\n>>>>>>> REPLACE\n"


def stray_markers(rng):
    marker = rng.choice(["=======", ">>>>>>> REPLACE", "  ========  ", ">>>>>>>>REPLACE"])
    parts = [valid_block(rng), marker, garbage(rng, 50).replace("\x00", "")]
    rng.shuffle(parts)
    return "\n".join(parts)


def broken_diff(rng):
    return rng.choice([
        "@@ -1,2 +1,2 @@\n-a\n+b\n",
        "--- a/main.py\n+++ b/main.py\nno hunk here\n",
        "--- a/main.py\n+++ b/main.py\n@@ -1 +1 @@\n-not in file\n+x\n",
        "--- a/nope.py\n+++ b/nope.py\n@@ -1 +1 @@\n-a\n+b\n",
        "--- a/../up.py\n+++ b/../up.py\n@@ -1 +1 @@\n-a\n+b\n",
        "--- /dev/null\n+++ b/main.py\n@@ -0,0 +1 @@\n+exists already\n",
        "rename from main.py\nrename to other.py\n",
        "--- /dev/null\n+++ /dev/null\n@@ -0,0 +1 @@\n+x\n",
    ])


def mutated(rng):
    lines = "main.py\n<<<<<<< SEARCH\ndef solve(x):\n=======\ndef solve(y):\n>>>>>>> REPLACE".split("\n")
    choice = rng.randrange(4)
    if choice == 0:
        del lines[3]  # the divider
    elif choice == 1:
        del lines[5]  # the REPLACE marker
    elif choice == 2:
        del lines[0]  # the path
    else:
        lines[2] = garbage(rng, 20).replace("\n", "") + "#nomatch"
    return "\n".join(lines)


KINDS = [garbage, half_block, outside_path, binary, unmatched, ambiguous, stray_markers,
         broken_diff, mutated]


def make_cases(seed=1234, n=N_CASES):
    rng = random.Random(seed)
    cases = [(k.__name__, k(rng)) for k in (KINDS[i % len(KINDS)] for i in range(n - 6))]
    cases += [("huge", huge(rng)) for _ in range(6)]
    return cases


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if ".git" in p.relative_to(root).parts:
            continue
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def fuzz_agent(tmp_path):
    root = tmp_path / "agent"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_a_thousand_malformed_answers_are_rejected_with_reasons(fuzz_agent, tmp_path):
    cases = make_cases()
    assert len(cases) >= 1000
    copy = WorkCopy.create(fuzz_agent, tmp_path / "wc")
    before = tree_hash(copy.root)
    outside_before = sorted(p.name for p in tmp_path.iterdir())
    kinds_seen = set()
    for kind, text in cases:
        applied, errors = try_answer(text, copy)
        assert errors, f"{kind} answer was not rejected: {text[:200]!r}"
        assert all(isinstance(e, str) and e.strip() for e in errors)
        if applied:  # a valid block next to a broken one applied: undo for the next case
            shutil.rmtree(copy.root)
            copy = WorkCopy.create(fuzz_agent, tmp_path / "wc")
        assert tree_hash(copy.root) == before, f"{kind} changed the agent: {text[:200]!r}"
        kinds_seen.add(kind)
    assert kinds_seen == {k.__name__ for k in KINDS} | {"huge"}
    assert sorted(p.name for p in tmp_path.iterdir()) == outside_before
    assert not Path("/tmp/evil.py").exists()


def test_whole_proposer_rejects_malformed_answers(fake_openai, gateway, fuzz_agent, tmp_path):
    rng = random.Random(99)
    sample = [k(rng) for k in KINDS for _ in range(2)] + [huge(rng), "y" * BIG]
    proposer = LLMProposer(gateway.access)
    for i, text in enumerate(sample):
        fake_openai.push(text, text)  # the answer and the same answer again on retry
        ctx = ProposeContext(parent_id="000001", parent_dir=fuzz_agent, rng=random.Random(i),
                             archive=None, work_dir=tmp_path / f"w{i}")
        with pytest.raises(ProposalRejected) as info:
            proposer.propose(ctx)
        reason = info.value.reason
        assert reason.startswith(("edits rejected after one retry", "model call failed")), reason
        assert info.value.usage.prompt_tokens > 0
        assert "## user (retry)" in (info.value.transcript or "")
    assert fake_openai.completions == 2 * len(sample)
    # the retry message shows the model its errors
    retry = fake_openai.completion_requests[1].messages[-1]["content"]
    assert "could not be applied" in retry
    for rel, text in FILES.items():
        assert (fuzz_agent / rel).read_text() == text
