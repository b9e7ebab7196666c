"""A scripted foundation model for whole `dgm run`s, served by the fake OpenAI server.

One callable answers every chat request the run makes. It tells the callers
apart by what they send, as a hosted model would see them:

* the **diagnosis** call (self proposer): no tools, the diagnosis system prompt;
* the **llm proposer**: no tools, the proposer's system prompt (retries carry
  the "could not be applied" message);
* the **coding agent**: tools; its first user message holds the problem. Either
  a swe-mini task (recognised by the statement's first line) or, when it holds
  "# To Implement", the agent's own code during self-modification.

The agent's conversation is replayed in full on every request, so the step is
the number of assistant messages so far: no state is kept between requests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tests.fakes.fake_openai import completion, tool_call

REPO = Path(__file__).resolve().parents[2]
SWE_TASKS = REPO / "evaluators" / "swe-mini" / "tasks"

DIAGNOSIS_SYSTEM = "You are a senior engineer improving an AI agent"
PROPOSER_SYSTEM = "You improve an AI agent's source code"

PLAN = {
    "log_summarization": "The agent printed its environment, then gave up without editing.",
    "potential_improvements": ["show more tool output", "insist on making a change"],
    "improvement_proposal": "Keep up to 20,000 characters of bash output.",
    "implementation_suggestion": "In tools/bash.py raise MAX_OUTPUT from 12_000 to 20_000.",
    "problem_description": "The bash tool cuts long outputs at 12,000 characters; keep 20,000.",
}
# What the agent does to its own code when asked to implement PLAN.
SELF_STEPS = [
    tool_call("bash", command="git status --short; env | grep -E '^(OPENAI|DGM)_' | sort; "
              "grep -n 'MAX_OUTPUT =' tools/bash.py"),
    tool_call("editor", command="str_replace", path="tools/bash.py",
              old_str="MAX_OUTPUT = 12_000", new_str="MAX_OUTPUT = 20_000"),
    tool_call("bash", command="python3 -m pytest -q -p no:cacheprovider tests 2>&1 | tail -1"),
    "Raised MAX_OUTPUT to 20,000 characters; the agent's tests pass.",
]


def gold_edits(task_id: str) -> list[dict]:
    """The task's gold patch as editor str_replace calls, one per hunk (what a model that
    found the fix would type)."""
    calls, path, old, new = [], None, None, None

    def flush() -> None:
        if old is not None:
            calls.append(tool_call("editor", command="str_replace", path=path,
                                   old_str="\n".join(old), new_str="\n".join(new)))

    for line in (SWE_TASKS / task_id / "gold.patch").read_text().splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else line[4:]
        elif line.startswith(("diff --git", "index ", "--- ")):
            continue
        elif line.startswith("@@"):
            flush()
            old, new = [], []
        elif old is not None:
            tag, text = (line[:1] or " "), line[1:]
            if tag in " -":
                old.append(text)
            if tag in " +":
                new.append(text)
    flush()
    return calls


def task_of(problem: str) -> str | None:
    """The swe-mini task whose statement the agent was given."""
    for d in sorted(SWE_TASKS.iterdir()):
        first = (d / "problem_statement.md").read_text().splitlines()[0].strip()
        if first and first in problem:
            return d.name
    return None


def _step(request: dict) -> int:
    return sum(1 for m in request.get("messages", []) if m.get("role") == "assistant")


def _system(request: dict) -> str:
    msgs = request.get("messages") or [{}]
    return str(msgs[0].get("content") or "")


@dataclass
class CodingModel:
    """Scripts the whole coding run: diagnosis, self-modification, swe-mini tasks.

    ``solve``: tasks fixed with the gold patch's hunks (then the tests are run);
    ``probe_env``: the task where the agent first runs ``env`` (then gives up);
    every other task: the agent gives up at once. ``seen`` counts requests by kind.
    """

    solve: tuple[str, ...] = ("swemini__paginate-1",)
    probe_env: str = "swemini__kvparse-1"
    seen: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int | None = None  # report this many per call (a fixed cost per call)

    def __call__(self, request: dict) -> Any:
        kind, answer = self.answer(request)
        self.seen[kind] = self.seen.get(kind, 0) + 1
        if self.prompt_tokens is None:
            return answer
        msg = {"role": "assistant", "content": answer} if isinstance(answer, str) else answer
        return completion(request, msg, {"prompt_tokens": self.prompt_tokens,
                                         "completion_tokens": 0,
                                         "total_tokens": self.prompt_tokens})

    def answer(self, request: dict) -> tuple[str, Any]:
        if "tools" not in request:
            if _system(request).startswith(DIAGNOSIS_SYSTEM):
                return "diagnose", f"My analysis:\n```json\n{json.dumps(PLAN, indent=1)}\n```"
            raise AssertionError(f"unexpected tool-less request: {_system(request)[:200]!r}")
        problem = str(request["messages"][1]["content"])
        step = _step(request)
        if "# To Implement" in problem:
            return "self", SELF_STEPS[min(step, len(SELF_STEPS) - 1)]
        task = task_of(problem)
        if task in self.solve:
            steps = [*gold_edits(task),
                     tool_call("bash", command="python3 -m pytest -q -p no:cacheprovider 2>&1 "
                               "| tail -1"),
                     "Fixed the bug described in the issue."]
            return f"task:{task}", steps[min(step, len(steps) - 1)]
        if task == self.probe_env and step == 0:
            return f"task:{task}", tool_call("bash", command="env | sort")
        return f"task:{task}", "I could not find the cause of this problem."


def search_replace(path: str, search: str, replace: str, summary: str | None = None) -> str:
    head = f"SUMMARY: {summary}\n\n" if summary else ""
    return (f"{head}{path}\n```python\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n"
            f">>>>>>> REPLACE\n```\n")


def unique_line(path: Path, pattern: str = r"^\S.*=") -> str:
    """A line of ``path`` that occurs once and matches ``pattern`` (to SEARCH for)."""
    lines = path.read_text().splitlines()
    return next(ln for ln in lines if re.search(pattern, ln) and lines.count(ln) == 1)


@dataclass
class ProposerModel:
    """Scripts the llm proposer: each entry of ``answers`` is (first answer, retry answer or
    None), used in order of the proposals the run makes; the retry answers the request that
    carries the "could not be applied" message."""

    answers: list[tuple[Callable[[dict], str] | str, Callable[[dict], str] | str | None]]
    proposals: int = 0
    retries: int = 0

    def __call__(self, request: dict) -> Any:
        system = _system(request)
        if "tools" in request or not system.startswith(PROPOSER_SYSTEM):
            raise AssertionError(f"unexpected request: {system[:200]!r}")
        retry = "could not be applied" in str(request["messages"][-1]["content"])
        if retry:
            self.retries += 1
            first, second = self.answers[self.proposals - 1]
            item = second
        else:
            self.proposals += 1
            first, _ = self.answers[min(self.proposals, len(self.answers)) - 1]
            item = first
        if item is None:
            raise AssertionError("the script has no retry answer for this proposal")
        return item(request) if callable(item) else item
