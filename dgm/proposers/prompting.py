"""Prompt material shared by the llm and self proposers, each part under a size budget.

* ``code_listing``: the agent's file tree and its text files; when they do not
  all fit, the relevant ones first (files named in failure logs, the command
  entry points, files its relatives changed), the rest listed but not shown.
* ``evaluation_summary`` / ``failure_logs``: the parent's per-task results and
  the logs and artifacts of the tasks it failed.
* ``relatives_context``: what the parent's ancestors and the archive's best
  agents changed, with their scores.

The archive is only read, and every read is guarded: a missing or broken
archive yields a note in the prompt, never an exception.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", "node_modules", ".venv"}
MAX_SHOWN_FILE = 120_000


def clip(text: str, limit: int) -> str:
    """Keep the head and the tail of ``text`` within ``limit`` characters."""
    text = text or ""
    if len(text) <= limit:
        return text
    head = limit * 2 // 5
    tail = max(0, limit - head - 60)
    return f"{text[:head]}\n[... {len(text) - head - tail} characters cut ...]\n{text[-tail:] if tail else ''}"


def _text_files(root: Path) -> list[tuple[str, str | None, int]]:
    """(relative path, text or None if binary/too big, size) for every file."""
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts) or not p.is_file() or p.is_symlink():
            continue
        size = p.stat().st_size
        text = None
        if size <= MAX_SHOWN_FILE:
            try:
                text = p.read_text()
                if "\x00" in text:
                    text = None
            except (UnicodeDecodeError, OSError):
                text = None
        out.append((rel.as_posix(), text, size))
    return out


def mentioned_files(root: Path, texts: Iterable[str]) -> list[str]:
    """Agent files named in logs (tracebacks, /agent/... paths, bare names), most cited first."""
    names = [rel for rel, _, _ in _text_files(root)]
    counts: dict[str, int] = {}
    blob = "\n".join(texts)
    for rel in names:
        n = len(re.findall(r"(?<![\w.-])" + re.escape(rel) + r"(?![\w-])", blob))
        if n:
            counts[rel] = n
    return sorted(counts, key=lambda r: -counts[r])


def code_listing(root: Path, budget: int, focus: Iterable[str] = ()) -> str:
    """The file tree plus file contents (``focus`` first, then small files) within ``budget``."""
    files = _text_files(root)
    order = {rel: i for i, rel in enumerate(focus)}
    ranked = sorted(files, key=lambda f: (f[0] not in order, order.get(f[0], 0),
                                          not f[0].endswith((".py", ".toml", ".md")), f[2]))
    shown: dict[str, str] = {}
    used = 0
    for rel, text, size in ranked:
        if text is None:
            continue
        block = f"### {rel}\n```\n{text}{'' if text.endswith(chr(10)) or not text else chr(10)}```\n"
        if used + len(block) > budget:
            continue
        shown[rel] = block
        used += len(block)
    tree = []
    for rel, text, size in files:
        note = "" if rel in shown else (" (binary or too large, not shown)" if text is None
                                        else " (not shown: over the prompt budget)")
        tree.append(f"- {rel} ({size} bytes){note}")
    body = "".join(shown[rel] for rel, _, _ in files if rel in shown)
    return "Files of the agent (paths relative to its root):\n" + "\n".join(tree) + "\n\n" + body


def _safe(call: Any, default: Any) -> Any:
    try:
        return call()
    except Exception:  # the archive is context, not a precondition
        return default


def evaluation_summary(archive: Any, agent_id: str, limit: int = 6000) -> str:
    evals = _safe(lambda: archive.evaluations(agent_id), []) if archive is not None else []
    if not evals:
        return "No evaluation results are recorded for this agent yet."
    groups: dict[tuple, list[dict]] = {}
    for e in evals:
        groups.setdefault((e.get("suite"), e.get("stage")), []).append(e)
    lines = []
    for (suite, stage), rows in groups.items():
        mean = sum(float(r.get("score") or 0) for r in rows) / len(rows)
        solved = sum(1 for r in rows if r.get("resolved"))
        lines.append(f"- suite {suite}, stage {stage}: mean score {mean:.3f}, "
                     f"{solved}/{len(rows)} tasks resolved")
        for r in sorted(rows, key=lambda r: (bool(r.get("resolved")), float(r.get("score") or 0))):
            first = (r.get("log") or "").strip().splitlines()[:1]
            lines.append(f"  - {r.get('task')}: score {float(r.get('score') or 0):.3f}"
                         f"{' resolved' if r.get('resolved') else ' FAILED'}"
                         f"{(' | ' + first[0][:160]) if first else ''}")
    return clip("\n".join(lines), limit)


def failed_tasks(archive: Any, agent_id: str) -> list[dict]:
    evals = _safe(lambda: archive.evaluations(agent_id), []) if archive is not None else []
    return [e for e in evals if not e.get("resolved")]


def artifacts_for(archive: Any, agent_id: str, task: str | None = None) -> dict[str, str]:
    arts = _safe(lambda: archive.artifacts(agent_id), {}) if archive is not None else {}
    if task is None:
        return dict(arts)
    return {k: v for k, v in arts.items() if task in k}


def failure_logs(archive: Any, agent_id: str, limit: int, max_tasks: int = 6) -> str:
    """Logs of failed tasks (lowest scores first) and the stage artifacts, within ``limit``."""
    failed = sorted(failed_tasks(archive, agent_id), key=lambda e: float(e.get("score") or 0))
    parts = []
    per = max(800, limit // (max_tasks + 2))
    for e in failed[:max_tasks]:
        parts.append(f"#### task {e.get('task')} (suite {e.get('suite')}, stage {e.get('stage')}, "
                     f"score {float(e.get('score') or 0):.3f})\n{clip(e.get('log') or '(no log)', per)}")
    arts = artifacts_for(archive, agent_id)
    for name, text in list(arts.items())[:max_tasks]:
        parts.append(f"#### artifact {name}\n{clip(text or '', per)}")
    if not parts:
        return "No failure logs or artifacts are recorded for this agent."
    return clip("\n\n".join(parts), limit)


def _score(row: Any) -> str:
    s = getattr(row, "score", None)
    return "unscored" if s is None else f"{s:.3f}"


def relatives_context(archive: Any, agent_id: str, k: int = 3, limit: int = 12000) -> str:
    """Summaries (and diffs, clipped) of the parent's ancestors and the archive's best agents."""
    if archive is None:
        return "No archive context."
    parts = []
    ancestors = _safe(lambda: archive.ancestors(agent_id), [])[:k]
    for aid in ancestors:
        row = _safe(lambda: archive.agent(aid), None)
        if row is not None:
            parts.append(f"- ancestor {aid} (score {_score(row)}): {row.summary or ''}")
    per = max(500, limit // (2 * k + 2))
    for row in _safe(lambda: archive.best(k), []):
        if row.id == agent_id:
            continue
        diff = _safe(lambda: archive.diff(row.id), "") if row.parent else ""
        parts.append(f"- top agent {row.id} (score {_score(row)}, parent {row.parent}): "
                     f"{row.summary or ''}" + (f"\n```diff\n{clip(diff, per)}\n```" if diff else ""))
    return clip("\n".join(parts), limit) if parts else "No other agents in the archive yet."
