"""The self proposer, DGM's self-referential step: the parent agent improves its own code.

1. A diagnosis call (dgm/proposers/diagnose.py) reads one of the parent's failed
   tasks and its code and writes a plan with a problem statement.
2. The parent agent runs in the sandbox with *its own code* as the repository
   to edit: the parent is mounted read-only at ``/agent`` (the code that runs),
   a git-tracked copy of it writable at ``/testbed`` (the code it edits), the
   problem statement at ``/io/problem.md``; it reaches the model only through
   the gateway (socket mount, label key), never with the real key.
3. ``git diff`` of ``/testbed`` against its base commit is the child.

Host-side safety: the copy's changes are read with a private git directory
(workcopy.py), so git on the host never reads a repository the agent wrote,
and the agent's transcript is read without following symlinks.

The agent's exit status does not decide anything: like DGM, a run that times
out or crashes after editing still yields its diff; a run that changed
nothing is a rejected proposal with the agent's last output as the reason.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from dgm.agents import load_manifest
from dgm.archive.diffcheck import check_diff
from dgm.errors import ConfigError
from dgm.faults import classify, endpoint_fault
from dgm.models.gateway_access import GatewayAccess, GatewayError
from dgm.sandbox import readback
from dgm.sandbox.base import Limits, Mount
from dgm.proposers.base import Proposal, ProposalRejected, ProposeContext, Proposer, Usage
from dgm.proposers.diagnose import Diagnosis, PlanError, agent_summary, diagnose
from dgm.proposers.prompting import clip
from dgm.proposers.workcopy import WorkCopy, WorkCopyError

SELF_CONTEXT = """The repository at {repo} is the source code of a coding agent: your own \
code (the copy that runs you is read-only; edit this one). Your changes to it become a new \
version of the agent, which will then be evaluated on coding tasks. Keep its command line \
(agent.toml [commands]) working, keep it runnable with only the Python standard library and \
the openai package, and run its tests{tests} after editing."""


@dataclass
class SelfProposerConfig:
    image: str = "dgm-sandbox"
    seconds: float = 1800.0  # DGM's self-improvement timeout
    memory_mb: int = 4096
    cpus: float = 2.0
    via: str = "socket"  # how the sandbox reaches the gateway: socket | tcp
    code_chars: int = 50_000
    log_chars: int = 30_000
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. DGM_AGENT_MAX_STEPS
    # A small local model: the diagnosis sees one focused file and answers schema-constrained
    # JSON of at most ``diagnose_tokens`` tokens.
    focused: bool = False
    diagnose_tokens: int | None = None


def read_plain_file(directory: Path, name: str, limit: int) -> str | None:
    """Read a file the sandbox wrote (the first ``limit`` bytes), through readback: no links, plain files."""
    got = readback.read_text(directory, name, limit, tail=False)
    return got[0] if got else None


def _sum(a: Usage, b: Usage) -> Usage:
    models = ",".join(sorted({m for m in (a.model + "," + b.model).split(",") if m}))
    return Usage(models, a.prompt_tokens + b.prompt_tokens,
                 a.completion_tokens + b.completion_tokens, a.cost + b.cost)


class SelfProposer(Proposer):
    name = "self"

    def __init__(self, access: GatewayAccess, config: SelfProposerConfig | None = None):
        self.access = access
        self.config = config or SelfProposerConfig()

    def _usage(self, *labels: str) -> Usage:
        total = Usage()
        for label in labels:
            try:
                total = _sum(total, self.access.usage(label))
            except GatewayError:
                pass
        return total

    def propose(self, ctx: ProposeContext) -> Proposal:
        cfg = self.config
        tag = uuid.uuid4().hex[:8]
        diag_label, run_label = f"{ctx.parent_id}:diagnose:{tag}", f"{ctx.parent_id}:self:{tag}"
        transcript: list[str] = []

        def reject(reason: str) -> ProposalRejected:
            return ProposalRejected(reason, self._usage(diag_label, run_label),
                                    "\n\n".join(transcript))

        if ctx.sandbox is None:
            raise reject("the self proposer needs a sandbox to run the parent agent in")
        try:
            manifest = load_manifest(ctx.parent_dir)
        except ConfigError as exc:
            raise reject(f"the parent is not a runnable agent: {exc}") from None
        if "solve" not in manifest.commands:
            raise reject(f"self-modification needs a coding agent with a 'solve' command; "
                         f"{manifest.name!r} is a {manifest.domain} agent")
        try:
            diag: Diagnosis = diagnose(self.access, diag_label, ctx.archive, ctx.parent_id,
                                       ctx.parent_dir, ctx.rng, cfg.code_chars, cfg.log_chars,
                                       focused=cfg.focused, max_tokens=cfg.diagnose_tokens)
        except (PlanError, GatewayError) as exc:  # a dead endpoint is retried, not rejected
            raise (endpoint_fault(exc) or reject(f"diagnosis failed: {exc}")) from None
        transcript += diag.transcript
        ctx.log(f"self proposer: diagnosed {diag.task or '(no task)'}: "
                f"{diag.plan['improvement_proposal'][:120]}")

        try:
            copy = WorkCopy.create(ctx.parent_dir, ctx.work_dir / "testbed", agent_git=True)
        except (WorkCopyError, OSError) as exc:
            raise (classify(exc) or reject(f"cannot copy the parent: {exc}")) from None
        io = ctx.work_dir / "io"
        shutil.rmtree(io, ignore_errors=True)
        (io / "out").mkdir(parents=True)
        has_tests = (ctx.parent_dir / "tests").is_dir()
        statement = diag.problem_statement(agent_summary(ctx.parent_dir)) + "\n" + \
            SELF_CONTEXT.format(repo="/testbed", tests=" (python3 -m pytest -q tests)"
                                if has_tests else "")
        (io / "problem.md").write_text(statement)
        command = [*manifest.commands["solve"], "--problem-file", "/io/problem.md",
                   "--repo", "/testbed", "--out", "/io/out"]
        mounts = [Mount(ctx.parent_dir, "/agent"), Mount(copy.root, "/testbed", writable=True),
                  Mount(io, "/io", writable=True), *self.access.sandbox_mounts(cfg.via)]
        env = {**cfg.extra_env, **self.access.sandbox_env(run_label, cfg.via)}
        limits = Limits(seconds=cfg.seconds, memory_mb=cfg.memory_mb, cpus=cfg.cpus)
        ctx.log(f"self proposer: running {manifest.name} on its own code ({cfg.seconds:g} s limit)")
        result = ctx.sandbox.run(cfg.image, command, mounts=mounts, env=env, limits=limits,
                                 network=None, workdir="/testbed")
        agent_transcript = read_plain_file(io / "out", "transcript.md", 2_000_000)
        if agent_transcript is not None:
            transcript.append("## self-modification run\n\n" + clip(agent_transcript, 200_000))
        run_note = result.reason or "exit code 0"
        try:
            diff = copy.diff()
        except WorkCopyError as exc:
            raise reject(f"cannot read the agent's changes ({run_note}): {exc}") from None
        if not diff.strip():
            tail = clip((result.stderr or result.stdout or "").strip(), 600)
            raise reject(f"the agent made no change to its code ({run_note})"
                         + (f"; its last output: {tail}" if tail else ""))
        reason = check_diff(diff)
        if reason:
            raise reject(f"the agent's change is unusable: {reason}")
        plan = diag.plan
        summary = plan["improvement_proposal"].strip().splitlines()[0][:300] or "self-modification"
        return Proposal(diff=diff, summary=summary, usage=self._usage(diag_label, run_label),
                        diagnosis=json.dumps({**plan, "task": diag.task}),
                        transcript="\n\n".join(transcript),
                        meta={"run": run_note, "seconds": result.seconds,
                              "gateway_labels": [diag_label, run_label],
                              "changed_files": copy.changed_files()})


__all__ = ["SelfProposer", "SelfProposerConfig"]
