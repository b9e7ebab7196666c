"""The llm proposer's focused mode: one file, constrained edits, one retry with the errors.

Used for small local models (dgm/localmodel): the prompt is built from
``focus.choose_focus`` within the model's token budget, the answer is JSON
constrained by ``constrained.response_format`` (or, with ``constrained=False``,
free-form SEARCH/REPLACE blocks, for comparison), every edit is checked in
memory, and only a fully valid answer is written to the child's copy. A bad
answer gets one retry that quotes each error; a second bad answer is a rejected
proposal whose reason and transcript hold the model's actual answers.
"""

from __future__ import annotations

import uuid

from ..diffcheck import check_diff
from ..gateway_access import GatewayError
from .base import Proposal, ProposalRejected, ProposeContext
from .constrained import apply_in_memory, parse_free_answer, parse_json_answer, response_format
from .edits import EditError
from .focus import Focus, choose_focus
from .prompt_files import prompt
from .prompting import clip, evaluation_summary, failed_tasks, failure_logs
from .workcopy import WorkCopy, WorkCopyError

CHARS_PER_TOKEN = 3  # conservative for code with BPE tokenizers


def build_focused_prompt(ctx: ProposeContext, budget_tokens: int, constrained: bool,
                         max_edits: int = 3) -> tuple[Focus | None, list[dict]]:
    chars = budget_tokens * CHARS_PER_TOKEN
    raw_logs = [e.get("log") or "" for e in failed_tasks(ctx.archive, ctx.parent_id)]
    logs = failure_logs(ctx.archive, ctx.parent_id, chars // 8, max_tasks=3)
    focus = choose_focus(ctx.parent_dir, raw_logs + [logs], ctx.rng, chars * 11 // 20)
    if focus is None:
        return None, []
    fmt = prompt("format_json" if constrained else "format_blocks").format(
        path=focus.path, n=max_edits, edits="edit" if max_edits == 1 else f"1 to {max_edits} edits")
    user = prompt("focused_user").format(
        path=focus.path, why=focus.why, code=focus.shown,
        paths=", ".join(focus.paths)[:chars // 10],
        results=evaluation_summary(ctx.archive, ctx.parent_id, chars // 8), logs=logs, format=fmt)
    return focus, [{"role": "system", "content": prompt("focused_system")},
                   {"role": "user", "content": user}]


def propose_focused(proposer, ctx: ProposeContext) -> Proposal:
    cfg = proposer.config
    constrained = cfg.constrained
    label = f"{ctx.parent_id}:llm:{uuid.uuid4().hex[:8]}"
    transcript: list[str] = []

    def reject(reason: str) -> ProposalRejected:
        return ProposalRejected(reason, proposer._usage(label), "\n\n".join(transcript))

    focus, messages = build_focused_prompt(ctx, cfg.prompt_tokens, constrained, cfg.max_edits)
    if focus is None:
        raise reject("the parent has no editable text file")
    transcript.append(f"## focus\n\n{focus.path} ({focus.why})")
    transcript.append(f"## user\n\n{messages[1]['content']}")
    params = proposer._params()
    if constrained:
        params["response_format"] = response_format(
            focus, cfg.max_edits, replace_chars=120 if cfg.single_line else 800,
            single_line=cfg.single_line)  # short strings: a tiny model rambles to the token limit
    summary = ""
    for attempt in (1, 2):
        try:
            answer = proposer.access.chat(label, "propose", messages, **params)
        except GatewayError as exc:
            raise reject(f"model call failed: {exc}") from None
        transcript.append(f"## assistant (attempt {attempt})\n\n{clip(answer.text, 50_000)}")
        try:
            if constrained:
                summary, edits = parse_json_answer(answer.text)
            else:
                edits = parse_free_answer(answer.text)
                from .llm import extract_summary
                summary = extract_summary(answer.text)
            new_text, applied, errors = apply_in_memory(focus, edits, whole_lines=constrained)
        except EditError as exc:
            new_text, applied, errors = focus.text, [], [str(exc)]
        if answer.finish_reason == "length" and errors:
            errors.append("your answer was cut off at the token limit: write fewer, shorter edits")
        ctx.log(f"llm proposer (focused, {'constrained' if constrained else 'free'}): attempt "
                f"{attempt}: {len(applied)} edits valid, {len(errors)} errors")
        if not errors:
            break
        if attempt == 2:
            raise reject("edits rejected after one retry: " + " | ".join(errors)[:4000]
                         + f" | last answer: {clip(answer.text, 600)}")
        retry = prompt("focused_retry").format(errors="\n".join(f"- {e}" for e in errors))
        messages = messages + [{"role": "assistant", "content": clip(answer.text, 8_000)},
                               {"role": "user", "content": retry}]
        transcript.append(f"## user (retry)\n\n{retry}")
    try:
        copy = WorkCopy.create(ctx.parent_dir, ctx.work_dir / "child")
        (copy.root / focus.path).write_text(new_text)
        diff = copy.diff()
    except (WorkCopyError, OSError) as exc:
        raise reject(f"cannot write the child: {exc}") from None
    reason = check_diff(diff)
    if reason:
        raise reject(f"the edits applied but {reason}")
    return Proposal(diff=diff, summary=(summary or "llm edit")[:300], usage=proposer._usage(label),
                    transcript="\n\n".join(transcript),
                    meta={"applied": applied, "gateway_label": label, "focus": focus.path,
                          "constrained": constrained, "attempts": attempt})
