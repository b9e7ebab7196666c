"""DGM's diagnosis step: read a failed task's log and the agent's code, return a JSON plan.

The model answers with one JSON object (fenced or bare) holding
``log_summarization``, ``potential_improvements``, ``improvement_proposal``,
``implementation_suggestion`` and ``problem_description``. Parsing is
tolerant (fences, prose around the object, lists where text was asked for);
a bad answer gets one retry with the parse error shown, then the proposal is
rejected with the reason. Unlike DGM, the prompt never contains hidden test
data: only what the parent's evaluation recorded (the task's log, artifacts).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dgm.errors import DgmError
from dgm.models.gateway_access import GatewayAccess, GatewayError
from dgm.proposers.prompt_files import prompt
from dgm.proposers.prompting import artifacts_for, clip, code_listing, evaluation_summary, failed_tasks, \
    mentioned_files

PLAN_KEYS = ("log_summarization", "potential_improvements", "improvement_proposal",
             "implementation_suggestion", "problem_description")

SYSTEM = """You are a senior engineer improving an AI agent that is evolved by a \
self-improvement loop. Below are the agent's description and its complete source code.

{summary}

{code}

Your job: read the log of a task the agent failed, find what in the agent's design made it \
fail, and identify ONE detailed plan that would make the agent better at such tasks in \
general. The plan must be about the agent's own code (its prompts, tools, control flow, \
error handling), not specific to this one task, and implementable by editing the agent's \
files."""

USER = """# The task the agent failed: {task}

Evaluation results of the agent (all tasks):
{results}

## The failed task's log
{log}

{artifacts}{answer_format}"""

ANSWER_FORMAT = """Answer with exactly one JSON object in a ```json fence, with these string fields:
- "log_summarization": what the agent did and where it went wrong.
- "potential_improvements": a few general improvements to the agent that would help.
- "improvement_proposal": the ONE improvement you choose, described precisely.
- "implementation_suggestion": how to implement it in the agent's code (files, functions).
- "problem_description": the same improvement phrased as a task statement for an engineer \
who will edit the agent's code (do not mention this specific task)."""

NO_TASK = """The agent has no recorded failed task{why}. Propose the most valuable general \
improvement you can see in its code (robustness, error handling, tool quality, prompts)."""


class PlanError(DgmError):
    pass


@dataclass
class Diagnosis:
    plan: dict[str, str]
    task: str | None
    transcript: list[str] = field(default_factory=list)

    def problem_statement(self, summary: str) -> str:
        """DGM's statement: the agent's summary, then what to implement and why."""
        return (f"{summary}\n\n# To Implement\n\n{self.plan['implementation_suggestion']}\n\n"
                f"{self.plan['problem_description']}\n")


def _candidates(text: str) -> list[str]:
    fenced = re.findall(r"```(?:json|JSON)?\s*\n(.*?)```", text, re.S)
    return fenced + [text]


def parse_plan(text: str) -> dict[str, str]:
    """The plan in ``text``; PlanError says what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise PlanError("the answer is empty")
    found: Any = None
    decoder = json.JSONDecoder()
    for cand in _candidates(text):
        for m in re.finditer(r"\{", cand):
            try:
                obj, _ = decoder.raw_decode(cand, m.start())
            except ValueError:
                continue
            if isinstance(obj, dict) and any(k in obj for k in PLAN_KEYS):
                found = obj
                break
        if found is not None:
            break
    if found is None:
        raise PlanError("no JSON object with the plan's fields was found in the answer")
    missing = [k for k in PLAN_KEYS if k not in found]
    if missing:
        raise PlanError(f"the JSON object lacks {missing}")
    plan = {}
    for k in PLAN_KEYS:
        v = found[k]
        if isinstance(v, list):
            v = "\n".join(f"- {x}" if isinstance(x, str) else f"- {json.dumps(x)}" for x in v)
        elif isinstance(v, dict):
            v = json.dumps(v, indent=1)
        elif v is None:
            v = ""
        plan[k] = str(v).strip()
    for k in ("implementation_suggestion", "problem_description"):
        if not plan[k]:
            raise PlanError(f"the field {k!r} is empty")
    return plan


def agent_summary(agent_dir: Path, limit: int = 6000) -> str:
    for name in ("README.md", "README", "readme.md"):
        p = agent_dir / name
        if p.is_file() and not p.is_symlink():  # never read host files into a prompt
            return "# The agent\n\n" + clip(p.read_text(errors="replace"), limit)
    toml = agent_dir / "agent.toml"
    ok = toml.is_file() and not toml.is_symlink()
    return "# The agent\n\n" + (clip(toml.read_text(errors="replace"), limit) if ok
                                 else "(no description)")


def choose_task(archive: Any, agent_id: str, rng: random.Random) -> dict | None:
    """A failed task to diagnose: one with a log when any has one, chosen with ``rng``."""
    failed = failed_tasks(archive, agent_id)
    with_log = [e for e in failed if (e.get("log") or "").strip()]
    pool = with_log or failed
    return rng.choice(pool) if pool else None


def plan_schema() -> dict:
    """The plan as a JSON schema, for servers that constrain output (llama.cpp)."""
    props = {k: {"type": "string", "minLength": 5, "maxLength": 600} for k in PLAN_KEYS}
    return {"type": "json_schema", "json_schema": {"name": "plan", "strict": True, "schema": {
        "type": "object", "properties": props, "required": list(PLAN_KEYS),
        "additionalProperties": False}}}


def focused_code(agent_dir: Path, logs: list[str], rng: random.Random, code_chars: int) -> str:
    """One focused file (focus.py) and the list of all paths, for a small model."""
    from dgm.proposers.focus import choose_focus
    focus = choose_focus(agent_dir, logs, rng, code_chars)
    if focus is None:
        return "(the agent has no text files)"
    return (f"Files of the agent: {', '.join(focus.paths)}\n\n### {focus.path} ({focus.why})\n"
            f"```\n{focus.shown}```")


def diagnose(access: GatewayAccess, label: str, archive: Any, agent_id: str, agent_dir: Path,
             rng: random.Random, code_chars: int = 50_000, log_chars: int = 30_000,
             focused: bool = False, max_tokens: int | None = None) -> Diagnosis:
    """Run the diagnosis call (one retry on a bad plan); raises PlanError or GatewayError.

    ``focused`` (small local models): the prompt shows one file chosen from the logs or the
    agent's declared search space, and the answer is constrained to the plan's JSON schema.
    """
    task = choose_task(archive, agent_id, rng)
    if task is None:
        evals = evaluation_summary(archive, agent_id, 100).startswith("- ")
        user = NO_TASK.format(why=" (it resolved every task it was given)" if evals else
                              " (it has not been evaluated)") + "\n\n" + ANSWER_FORMAT
        focus: list[str] = []
    else:
        log = task.get("log") or "(the evaluation recorded no log)"
        arts = artifacts_for(archive, agent_id, str(task.get("task")))
        art_text = "".join(f"## Artifact {n}\n{clip(t, log_chars // 4)}\n\n" for n, t in
                           list(arts.items())[:4])
        user = USER.format(task=task.get("task"), results=evaluation_summary(archive, agent_id, 4000),
                           log=clip(log, log_chars), artifacts=art_text,
                           answer_format=ANSWER_FORMAT)
        focus = mentioned_files(agent_dir, [log, art_text])
    params: dict[str, Any] = {}
    if focused:
        logs = [task.get("log") or "" for task in ([task] if task else [])]
        code = focused_code(agent_dir, logs, rng, code_chars)
        user = user.replace(ANSWER_FORMAT, prompt("diagnose_format").format(
            paths="see the file list"))
        params["response_format"] = plan_schema()
        summary = agent_summary(agent_dir, limit=min(1500, code_chars // 4))
    else:
        code = code_listing(agent_dir, code_chars, focus + ["agent.toml"])
        summary = agent_summary(agent_dir)
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    system = SYSTEM.format(summary=summary, code=code)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    transcript = [f"## diagnosis prompt\n\n{user}"]
    for attempt in (1, 2):
        answer = access.chat(label, "diagnose", messages, **params)
        transcript.append(f"## diagnosis answer (attempt {attempt})\n\n{clip(answer.text, 50_000)}")
        try:
            return Diagnosis(parse_plan(answer.text), None if task is None else str(task.get("task")),
                             transcript)
        except PlanError as exc:
            if attempt == 2:
                raise PlanError(f"diagnosis answer unusable after one retry: {exc}") from None
            messages += [{"role": "assistant", "content": clip(answer.text, 20_000)},
                         {"role": "user", "content": f"Your answer could not be used: {exc}. "
                          f"Answer again with one JSON object with the fields {list(PLAN_KEYS)}."}]
    raise AssertionError("unreachable")


__all__ = ["Diagnosis", "PlanError", "GatewayError", "diagnose", "parse_plan", "agent_summary"]
