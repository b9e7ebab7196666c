"""The seed coding agent: a model with a bash shell and a file editor, in a loop.

    python3 /agent/coding_agent.py --problem-file FILE --repo DIR --out DIR

It reads the problem statement, works on the git checkout at ``--repo`` (its
changes there are its answer; the harness takes the ``git diff``), and writes a
readable transcript to ``<out>/transcript.md`` and ``<out>/summary.json``.
It stops when the model answers without a tool call, or at the step or token
limit, or when the run's budget is spent. Settings (flags override env):
DGM_AGENT_MODEL, DGM_AGENT_MAX_STEPS, DGM_AGENT_MAX_TOKENS,
DGM_AGENT_BASH_TIMEOUT, DGM_AGENT_TOOL_PROTOCOL (auto|native|text).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openai  # noqa: E402

import tools  # noqa: E402
from llm import BudgetExhausted, Model, Reply, ToolsUnsupported, text_protocol_prompt  # noqa: E402

SYSTEM = """You are an expert software engineer working in a repository checked out at \
{repo}. You solve the task you are given by inspecting the code, editing files and running \
commands with your tools. Work step by step:
1. Explore the repository to find the code that matters.
2. If you can, reproduce the problem (a small script or the existing tests).
3. Make a minimal, correct change in the repository's source files.
4. Run the relevant tests to check your change; fix what breaks.
Your changes to the files in {repo} are your answer. Do not stop before the change is made. \
When you are finished, reply with a short summary of what you changed and no tool call."""

USER = """<problem_description>
{problem}
</problem_description>

The repository is at {repo}. Make the changes the problem description asks for."""


class Transcript:
    """A markdown log written as the run goes, so a killed run still leaves one."""

    def __init__(self, path: Path):
        self.path = path
        self.path.write_text("")

    def add(self, text: str) -> None:
        with open(self.path, "a") as fh:
            fh.write(text.rstrip("\n") + "\n\n")

    @staticmethod
    def fence(text: str, limit: int = 20_000) -> str:
        if len(text) > limit:
            text = text[:limit] + f"\n[... {len(text) - limit} characters not shown ...]"
        ticks = "````" if "```" in text else "```"
        return f"{ticks}\n{text}\n{ticks}"


def env_default(name: str, default: str) -> str:
    return os.environ.get(name) or default


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problem-file", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", default=env_default("DGM_AGENT_MODEL", "gpt-4o-mini"))
    ap.add_argument("--max-steps", type=int, default=int(env_default("DGM_AGENT_MAX_STEPS", "40")))
    ap.add_argument("--max-tokens", type=int,
                    default=int(env_default("DGM_AGENT_MAX_TOKENS", "400000")))
    ap.add_argument("--bash-timeout", type=float,
                    default=float(env_default("DGM_AGENT_BASH_TIMEOUT", "120")))
    ap.add_argument("--protocol", choices=["auto", "native", "text"],
                    default=env_default("DGM_AGENT_TOOL_PROTOCOL", "auto"))
    return ap.parse_args(argv)


def is_context_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "context" in text and ("length" in text or "maximum" in text or "too long" in text)


def elide_oldest(messages: list[dict]) -> bool:
    """Shrink the oldest long tool result to free context; False when nothing is left."""
    for m in messages[2:]:
        content = m.get("content")
        if m["role"] in ("tool", "user") and isinstance(content, str) and len(content) > 300:
            m["content"] = content[:150] + "\n[... elided to save context ...]"
            return True
    return False


def run(args: argparse.Namespace) -> dict:
    repo = str(Path(args.repo).resolve())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    problem = Path(args.problem_file).read_text()
    tools.configure(repo, args.bash_timeout)
    model = Model(args.model, tools.specs(), args.protocol)
    log = Transcript(out / "transcript.md")
    system = SYSTEM.format(repo=repo)
    if model.protocol == "text":
        system += text_protocol_prompt(tools.specs())
    messages: list[dict] = [{"role": "system", "content": system},
                            {"role": "user", "content": USER.format(problem=problem, repo=repo)}]
    log.add(f"# Coding agent run\n\nmodel `{args.model}`, protocol {model.protocol}, "
            f"repo `{repo}`, limits: {args.max_steps} steps, {args.max_tokens} tokens")
    log.add("## Task\n\n" + problem)
    stats = {"model": args.model, "steps": 0, "tool_calls": 0, "prompt_tokens": 0,
             "completion_tokens": 0, "stop_reason": "", "protocol": model.protocol}
    start = time.monotonic()
    while True:
        if stats["steps"] >= args.max_steps:
            stats["stop_reason"] = f"step limit ({args.max_steps})"
            break
        if stats["prompt_tokens"] + stats["completion_tokens"] >= args.max_tokens:
            stats["stop_reason"] = f"token limit ({args.max_tokens})"
            break
        try:
            reply: Reply = model.chat(messages)
        except ToolsUnsupported as exc:
            log.add(f"_The endpoint rejected native tools ({str(exc)[:200]}); "
                    "switching to the text tool protocol._")
            model.protocol = stats["protocol"] = "text"
            messages[0]["content"] = system + text_protocol_prompt(tools.specs())
            continue
        except BudgetExhausted as exc:
            stats["stop_reason"] = f"budget exhausted: {exc}"
            break
        except openai.APIStatusError as exc:
            if is_context_error(exc) and elide_oldest(messages):
                log.add("_Context too long: elided the oldest tool output and retried._")
                continue
            stats["stop_reason"] = f"model error {exc.status_code}: {str(exc)[:500]}"
            break
        except openai.OpenAIError as exc:
            stats["stop_reason"] = f"model error: {type(exc).__name__}: {str(exc)[:500]}"
            break
        stats["steps"] += 1
        stats["prompt_tokens"] += reply.prompt_tokens
        stats["completion_tokens"] += reply.completion_tokens
        log.add(f"## Step {stats['steps']}\n\n{reply.text.strip() or '_(no text)_'}")
        messages.append(model.assistant_message(reply))
        if not reply.tool_calls:
            stats["stop_reason"] = "done" if reply.finish_reason != "length" else \
                "the model's answer was cut off"
            break
        results = []
        for call in reply.tool_calls:
            stats["tool_calls"] += 1
            output = f"Error: {call.error}" if call.error else tools.run_tool(call.name, call.arguments)
            log.add(f"**{call.name}** `{json.dumps(call.arguments)[:2000]}`\n\n" + log.fence(output))
            results.append((call, output))
        messages.extend(model.result_messages(results))
    tools.shutdown()
    stats["seconds"] = round(time.monotonic() - start, 2)
    log.add(f"## End\n\nStopped: {stats['stop_reason']}. {stats['steps']} steps, "
            f"{stats['tool_calls']} tool calls, {stats['prompt_tokens']} prompt + "
            f"{stats['completion_tokens']} completion tokens, {stats['seconds']} s.")
    (out / "summary.json").write_text(json.dumps(stats, indent=1))
    return stats


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not Path(args.problem_file).is_file():
        print(f"coding agent: no problem file at {args.problem_file}", file=sys.stderr)
        return 2
    if not Path(args.repo).is_dir():
        print(f"coding agent: the repository {args.repo} is not a directory", file=sys.stderr)
        return 2
    stats = run(args)
    print(json.dumps(stats))
    return 1 if stats["stop_reason"].startswith("model error") else 0


if __name__ == "__main__":
    sys.exit(main())
