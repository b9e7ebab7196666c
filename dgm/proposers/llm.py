"""The llm proposer: a model reads the parent and answers with edits over its codebase.

The prompt holds the parent's files (the relevant ones first when they do not
all fit), its evaluation results, the logs of the tasks it failed, and what its
relatives changed. The answer is SEARCH/REPLACE blocks or a unified diff
(dgm/proposers/edits.py). Edits apply to a private git-tracked copy; if any
block fails, the model gets one retry with each error shown (the blocks that
applied stay applied); if the retry fails too, the proposal is rejected with
every reason. The diff of the copy is the child.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from dgm.archive.diffcheck import check_diff
from dgm.faults import classify, endpoint_fault
from dgm.models.gateway_access import GatewayAccess, GatewayError
from dgm.proposers.base import Proposal, ProposalRejected, ProposeContext, Proposer, Usage
from dgm.proposers.edits import MAX_ANSWER_CHARS, EditError, apply_edits, parse_edits
from dgm.proposers.prompting import (clip, code_listing, evaluation_summary, failed_tasks, failure_logs,
                        mentioned_files, relatives_context)
from dgm.proposers.workcopy import WorkCopy, WorkCopyError

SYSTEM = """You improve an AI agent's source code. The agent is evaluated on benchmark \
tasks; your change should raise its score. You see its files, its results and the logs of \
tasks it failed. Make one focused, substantive improvement (a fix for a failure mode you can \
see in the logs, a better algorithm, a better prompt or tool): not a cosmetic edit.

Answer format:
1. First line: `SUMMARY: <one sentence saying what you change and why>`.
2. Then your edits as SEARCH/REPLACE blocks, each preceded by the file's path relative to \
the agent's root:

path/to/file.py
<<<<<<< SEARCH
the exact existing lines to replace (copied verbatim, enough of them to be unique)
=======
the new lines
>>>>>>> REPLACE

To create a file, leave the SEARCH part empty. A unified diff (--- a/path, +++ b/path, @@ \
hunks) is also accepted. Only paths inside the agent's directory can be edited; keep \
agent.toml's commands working. Do not edit the evaluation or the scorer: they are not in \
the agent's directory."""

RETRY = """Some of your edits could not be applied:
{errors}

{applied}Answer again with corrected SEARCH/REPLACE blocks for the failed edits only \
(SEARCH must quote the file's *current* lines exactly). Keep the SUMMARY line first."""


@dataclass
class LLMProposerConfig:
    code_chars: int = 60_000  # prompt budget for the agent's files
    log_chars: int = 16_000  # for failure logs and artifacts
    results_chars: int = 6_000
    relatives: int = 3
    relatives_chars: int = 10_000
    max_answer_chars: int = MAX_ANSWER_CHARS
    temperature: float | None = 0.7
    max_tokens: int | None = 8192
    # Focused mode (small local models, docs/llm.md): one file or region within
    # ``prompt_tokens``; ``constrained``: the answer is schema-constrained JSON.
    focused: bool = False
    constrained: bool = True
    prompt_tokens: int = 1500
    max_edits: int = 3
    single_line: bool = False
    # Share of focused proposals that are search-space moves when the parent declares a
    # space (dgm/proposers/spacemoves.py); the rest are code edits.
    space_share: float = 0.0


def extract_summary(*answers: str) -> str:
    """The first answer's SUMMARY line (a retry only patches it), else its first line."""
    for text in answers:
        m = re.search(r"^\s*\**SUMMARY\**\s*:\s*(.+)$", text, re.M | re.I)
        if m:
            return m.group(1).strip().strip("*")[:300]
    for line in (answers[0] if answers else "").splitlines():
        if line.strip() and not line.strip().startswith(("```", "<<<", "---", "+++")):
            return line.strip()[:300]
    return "llm edit"


def build_prompt(ctx: ProposeContext, cfg: LLMProposerConfig) -> str:
    logs_text = failure_logs(ctx.archive, ctx.parent_id, cfg.log_chars)
    raw_logs = [e.get("log") or "" for e in failed_tasks(ctx.archive, ctx.parent_id)]
    focus = mentioned_files(ctx.parent_dir, raw_logs + [logs_text]) + ["agent.toml"]
    return "\n\n".join([
        f"# The agent {ctx.parent_id}\n\n" + code_listing(ctx.parent_dir, cfg.code_chars, focus),
        "# Its evaluation results\n\n" + evaluation_summary(ctx.archive, ctx.parent_id,
                                                           cfg.results_chars),
        "# Logs of tasks it failed\n\n" + logs_text,
        "# Its relatives in the archive\n\n" + relatives_context(
            ctx.archive, ctx.parent_id, cfg.relatives, cfg.relatives_chars),
        "Propose your improvement now, in the answer format above.",
    ])


def try_answer(text: str, copy: WorkCopy, max_chars: int = MAX_ANSWER_CHARS) -> tuple[list[str], list[str]]:
    """Parse and apply one answer to ``copy``; returns (applied, errors). Never raises."""
    try:
        edits = parse_edits(text, max_chars)
    except EditError as exc:
        return [], [str(exc)]
    report = apply_edits(copy.root, edits)
    return report.applied, report.errors


class LLMProposer(Proposer):
    name = "llm"

    def __init__(self, access: GatewayAccess, config: LLMProposerConfig | None = None):
        self.access = access
        self.config = config or LLMProposerConfig()

    def _params(self) -> dict:
        p: dict = {}
        if self.config.temperature is not None:
            p["temperature"] = self.config.temperature
        if self.config.max_tokens is not None:
            p["max_tokens"] = self.config.max_tokens
        return p

    def _usage(self, label: str) -> Usage:
        try:
            return self.access.usage(label)
        except GatewayError:
            return Usage(model=self.access.model("propose"))

    def propose(self, ctx: ProposeContext) -> Proposal:
        if self.config.focused:
            from dgm.proposers.focused import propose_focused
            return propose_focused(self, ctx)
        label = f"{ctx.parent_id}:llm:{uuid.uuid4().hex[:8]}"
        transcript: list[str] = []

        def reject(reason: str) -> ProposalRejected:
            return ProposalRejected(reason, self._usage(label), "\n\n".join(transcript))

        try:
            copy = WorkCopy.create(ctx.parent_dir, ctx.work_dir / "child")
        except (WorkCopyError, OSError) as exc:
            raise (classify(exc) or reject(f"cannot copy the parent: {exc}")) from None
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": build_prompt(ctx, self.config)}]
        transcript.append(f"## user\n\n{messages[1]['content']}")
        answers: list[str] = []
        all_applied: list[str] = []
        for attempt in (1, 2):
            try:
                answer = self.access.chat(label, "propose", messages, **self._params())
            except GatewayError as exc:  # an endpoint that does not answer is no proposal's fault
                raise (endpoint_fault(exc) or reject(f"model call failed: {exc}")) from None
            answers.append(answer.text)
            transcript.append(f"## assistant (attempt {attempt})\n\n{clip(answer.text, 100_000)}")
            applied, errors = try_answer(answer.text, copy, self.config.max_answer_chars)
            all_applied += applied
            if answer.finish_reason == "length" and errors:
                errors.append("your answer was cut off at the token limit: send fewer, "
                              "shorter blocks")
            ctx.log(f"llm proposer: attempt {attempt}: {len(applied)} edits applied, "
                    f"{len(errors)} failed")
            if not errors:
                break
            if attempt == 2:
                raise reject("edits rejected after one retry: " + " | ".join(errors)[:4000])
            note = ("These edits were applied and stay applied: " + "; ".join(applied) + "\n\n"
                    if applied else "")
            retry = RETRY.format(errors="\n".join(f"- {e}" for e in errors), applied=note)
            messages += [{"role": "assistant", "content": clip(answer.text, 60_000)},
                         {"role": "user", "content": retry}]
            transcript.append(f"## user (retry)\n\n{retry}")
        try:
            diff = copy.diff()
        except WorkCopyError as exc:
            raise reject(f"cannot compute the diff: {exc}") from None
        reason = check_diff(diff)
        if reason:
            raise reject(f"the edits applied ({'; '.join(all_applied)[:500]}) but {reason}")
        return Proposal(diff=diff, summary=extract_summary(*answers), usage=self._usage(label),
                        transcript="\n\n".join(transcript),
                        meta={"applied": all_applied, "gateway_label": label})
