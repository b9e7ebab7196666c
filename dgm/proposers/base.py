"""The proposer contract: ``propose(parent, context) -> Proposal``.

A proposer never writes the archive. It reads the parent's checked-out code
(``ctx.parent_dir``, a private copy it may scribble on) and whatever archive
context it wants through ``ctx.archive`` (read-only use), and returns a unified
diff relative to the agent's root directory. The scheduler commits it; a diff
that does not apply, escapes the agent, or changes nothing becomes a rejected
proposal with its reason. A proposer that cannot produce a diff at all raises
``ProposalRejected(reason)`` (also recorded, never fatal).
"""

from __future__ import annotations

import abc
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dgm.errors import DgmError


@dataclass
class Usage:
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0


@dataclass
class Proposal:
    diff: str
    summary: str
    usage: Usage = field(default_factory=Usage)
    diagnosis: str | None = None  # e.g. the self proposer's JSON plan
    transcript: str | None = None
    transplant_from: str | None = None  # agent id whose change this re-applies
    inspirations: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


class ProposalRejected(DgmError):
    """The proposer could not produce a usable diff; the message is the reason."""

    def __init__(self, reason: str, usage: Usage | None = None, transcript: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.usage = usage or Usage()
        self.transcript = transcript


@dataclass
class ProposeContext:
    parent_id: str
    parent_dir: Path  # a private checkout of the parent's code
    rng: random.Random
    archive: Any  # dgm.archive.store.Archive; proposers only read from it
    work_dir: Path  # private scratch space for this proposal
    sandbox: Any = None  # dgm.sandbox.base.Sandbox, for proposers that run agent code
    gateway_env: dict[str, str] = field(default_factory=dict)
    log: Callable[[str], None] = lambda line: None


class Proposer(abc.ABC):
    name: str = "abstract"

    @abc.abstractmethod
    def propose(self, ctx: ProposeContext) -> Proposal:
        """Return a Proposal or raise ProposalRejected."""
