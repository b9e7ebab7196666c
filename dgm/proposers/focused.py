"""The llm proposer's focused mode: one question a small model can answer, one retry.

Used for small local models (dgm/models/local). A proposal asks one of two things:

* **a code edit**: the prompt shows one file (``focus.choose_focus``) within the
  model's token budget; the answer is JSON constrained by
  ``constrained.response_format`` (or, with ``constrained=False``, free-form
  SEARCH/REPLACE blocks, for comparison);
* **a search-space move** (``space_share`` of the proposals, when the parent declares
  a search space): the prompt lists the parameters with their values and valid new
  values, and the schema admits only those (``spacemoves``).

Every answer is checked in memory and only a fully valid one is written to the
child's copy. A bad answer gets one retry that quotes each error; a second bad
answer is a rejected proposal whose reason and transcript hold the model's answers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable

from dgm.archive.diffcheck import check_diff
from dgm.models.gateway_access import GatewayError
from dgm.proposers import spacemoves
from dgm.proposers.base import Proposal, ProposalRejected, ProposeContext
from dgm.proposers.constrained import apply_in_memory, parse_free_answer, parse_json_answer, response_format
from dgm.proposers.edits import EditError
from dgm.proposers.focus import Focus, choose_focus
from dgm.proposers.prompt_files import prompt
from dgm.proposers.prompting import clip, evaluation_summary, failed_tasks, failure_logs
from dgm.proposers.searchspace import AST_LOCK
from dgm.proposers.workcopy import WorkCopy, WorkCopyError

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


Checked = tuple[str, dict[str, str], list[str], list[str]]  # summary, new texts, applied, errors


@dataclass
class Question:
    """One kind of question: its prompt, its answer format and how an answer is checked."""
    kind: str  # "code" or "space"
    messages: list[dict]
    retry: str  # prompt file of the retry
    check: Callable[[str], Checked]
    response_format: dict | None = None
    meta: dict = field(default_factory=dict)


def code_question(ctx: ProposeContext, cfg) -> Question | None:
    constrained = cfg.constrained
    focus, messages = build_focused_prompt(ctx, cfg.prompt_tokens, constrained, cfg.max_edits)
    if focus is None:
        return None

    def check(text: str) -> Checked:
        try:
            if constrained:
                summary, edits = parse_json_answer(text)
            else:
                from dgm.proposers.llm import extract_summary
                edits, summary = parse_free_answer(text), extract_summary(text)
            new_text, applied, errors = apply_in_memory(focus, edits, whole_lines=constrained)
        except EditError as exc:
            return "", {}, [], [str(exc)]
        return summary, {focus.path: new_text}, applied, errors

    fmt = None
    if constrained:  # short strings: a tiny model rambles to the token limit
        fmt = response_format(focus, cfg.max_edits, replace_chars=120 if cfg.single_line else 800,
                              single_line=cfg.single_line)
    return Question("code", messages, "focused_retry", check, fmt,
                    {"focus": focus.path, "why": focus.why, "constrained": constrained})


def space_question(ctx: ProposeContext, cfg) -> Question | None:
    with AST_LOCK:
        m = spacemoves.menu(ctx.parent_dir, ctx.rng)
    if m is None:
        return None
    chars = cfg.prompt_tokens * CHARS_PER_TOKEN
    n = max(1, min(cfg.max_edits, len(m.offers)))
    user = prompt("space_user").format(
        listing=m.listing(), results=evaluation_summary(ctx.archive, ctx.parent_id, chars // 6),
        logs=failure_logs(ctx.archive, ctx.parent_id, chars // 8, max_tasks=2),
        changes="one change" if n == 1 else f"1 to {n} changes")
    messages = [{"role": "system", "content": prompt("space_system")},
                {"role": "user", "content": user}]

    def check(text: str) -> Checked:
        try:
            summary, changes = spacemoves.parse_answer(text)
        except EditError as exc:
            return "", {}, [], [str(exc)]
        with AST_LOCK:
            new, applied, errors = spacemoves.apply(m, changes)
        # what changed leads the summary: a small model's own sentence is often empty talk
        moves = "; ".join(applied)
        return (f"{moves}: {summary}" if summary else moves), new, applied, errors

    return Question("space", messages, "space_retry", check, spacemoves.response_format(m, n),
                    {"focus": ",".join(sorted({p.file for p in m.space.params})),
                     "why": "the declared search space", "constrained": True})


def choose_question(ctx: ProposeContext, cfg) -> Question | None:
    """A search-space move (``cfg.space_share`` of the time, when there is a space), else a
    code edit; either falls back to the other when the parent offers no such question."""
    order = [space_question, code_question]
    if not (cfg.space_share > 0 and ctx.rng.random() < cfg.space_share):
        order.reverse()
    for ask in order:
        q = ask(ctx, cfg)
        if q is not None:
            return q
    return None


def propose_focused(proposer, ctx: ProposeContext) -> Proposal:
    cfg = proposer.config
    label = f"{ctx.parent_id}:llm:{uuid.uuid4().hex[:8]}"
    transcript: list[str] = []

    def reject(reason: str) -> ProposalRejected:
        return ProposalRejected(reason, proposer._usage(label), "\n\n".join(transcript))

    q = choose_question(ctx, cfg)
    if q is None:
        raise reject("the parent has no editable text file")
    messages = q.messages
    transcript.append(f"## focus\n\n{q.meta['focus']} ({q.meta['why']})")
    transcript.append(f"## user\n\n{messages[1]['content']}")
    params = proposer._params()
    if q.response_format is not None:
        params["response_format"] = q.response_format
    for attempt in (1, 2):
        try:
            answer = proposer.access.chat(label, "propose", messages, **params)
        except GatewayError as exc:
            raise reject(f"model call failed: {exc}") from None
        transcript.append(f"## assistant (attempt {attempt})\n\n{clip(answer.text, 50_000)}")
        summary, new_texts, applied, errors = q.check(answer.text)
        if answer.finish_reason == "length" and errors:
            errors.append("your answer was cut off at the token limit: write fewer, shorter edits")
        ctx.log(f"llm proposer (focused, {q.kind}, "
                f"{'constrained' if q.meta['constrained'] else 'free'}): attempt {attempt}: "
                f"{len(applied)} edits valid, {len(errors)} errors")
        if not errors:
            break
        if attempt == 2:
            raise reject("edits rejected after one retry: " + " | ".join(errors)[:4000]
                         + f" | last answer: {clip(answer.text, 600)}")
        retry = prompt(q.retry).format(errors="\n".join(f"- {e}" for e in errors))
        messages = messages + [{"role": "assistant", "content": clip(answer.text, 8_000)},
                               {"role": "user", "content": retry}]
        transcript.append(f"## user (retry)\n\n{retry}")
    try:
        copy = WorkCopy.create(ctx.parent_dir, ctx.work_dir / "child")
        for rel, text in new_texts.items():
            (copy.root / rel).write_text(text)
        diff = copy.diff()
    except (WorkCopyError, OSError) as exc:
        raise reject(f"cannot write the child: {exc}") from None
    reason = check_diff(diff)
    if reason:
        raise reject(f"the edits applied but {reason}")
    return Proposal(diff=diff, summary=(summary or "llm edit")[:300], usage=proposer._usage(label),
                    transcript="\n\n".join(transcript),
                    meta={"applied": applied, "gateway_label": label, "focus": q.meta["focus"],
                          "question": q.kind, "constrained": q.meta["constrained"],
                          "attempts": attempt})
