"""Running an agent's two commands in the sandbox, with the suite's mounts, env and limits.

Mounts: the agent read-only at /agent (also the working directory), the
harness read-only at /harness, the host's inputs (train pool, episodes)
read-only at /inputs, the evaluation's scratch directory writable at
/scratch. The environment is an allow-list. Meta-training results are cached
by (agent content, training arguments), so a later stage that trains the same
way reuses the checkpoint instead of training again.

Everything the agent leaves in /scratch is read through
:mod:`dgm.sandbox.readback` (no links followed, regular files only, sizes
capped); the host writes its own files only into the inputs directory, which
the agent can never write, and copies checkpoints into and out of the cache
as plain files and directories only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from dgm.sandbox import readback
from dgm.sandbox.base import Limits, Mount, RunResult, Sandbox

HARNESS_DIR = Path(__file__).resolve().parent.parent / "harness"
SKIP_PARTS = {".git", "__pycache__"}
KEEP_CHECKPOINTS = 32
LOG_TAIL = 4000
STATS_BYTES = 65536
STATS_DEPTH = 8


def agent_hash(agent_dir: Path) -> str:
    """A digest of every file of the agent (paths and contents), ignoring caches."""
    h = hashlib.sha256()
    found = []
    for root, dirs, files in os.walk(agent_dir, followlinks=False):
        dirs[:] = [d for d in dirs if d not in SKIP_PARTS]
        for name in files:
            p = Path(root) / name
            if p.suffix != ".pyc" and stat.S_ISREG(os.lstat(p).st_mode):
                found.append(p)
    for p in sorted(found):
        rel = p.relative_to(agent_dir)
        h.update(str(rel).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def dir_bytes(path: Path) -> int:
    """Bytes of the regular files under ``path`` at their apparent size, no links followed.

    Raises :class:`readback.Rejected` when ``path`` itself is not a directory (e.g. a link).
    """
    return readback.tree_bytes(path.parent, path.name)


def tail(text: str, n: int = LOG_TAIL) -> str:
    return text if len(text) <= n else "[...]\n" + text[-n:]


@dataclass
class Call:
    """One sandboxed command's outcome, reduced to what the suite reports."""

    ok: bool
    reason: str
    seconds: float
    log: str
    image_digest: str | None = None
    cached: bool = False
    stats: dict = field(default_factory=dict)
    compute: dict | None = None  # the harness's compute ledger (None: none written)


def describe(res: RunResult, what: str) -> str:
    if res.timed_out:
        return f"{what} timed out ({res.reason or 'time limit reached'})"
    if res.oom_killed:
        return f"{what} ran out of memory"
    return f"{what} failed: {res.reason or f'exit code {res.exit_code}'}"


class AgentRunner:
    """Runs ``meta-train`` and ``predict`` for one evaluation of one agent."""

    def __init__(self, sandbox: Sandbox, image: str, agent_dir: Path, commands: dict[str, list[str]],
                 scratch: Path, limits: Limits, env: dict[str, str], extra_mounts: list[Mount] = (),
                 inputs: Path | None = None):
        self.sandbox, self.image, self.commands = sandbox, image, commands
        self.agent_dir, self.scratch, self.limits, self.env = agent_dir, scratch, limits, env
        # The host's own files: a fresh directory only the host writes, mounted read-only.
        self.inputs = inputs or readback.fresh_dir(scratch.parent, f"{scratch.name}-inputs-")
        self.mounts = [Mount(agent_dir, "/agent"), Mount(HARNESS_DIR, "/harness"),
                       Mount(self.inputs, "/inputs"), Mount(scratch, "/scratch", writable=True)] + \
            [Mount(m.source, m.target) for m in extra_mounts]  # the engine's, always read-only

    def _run(self, name: str, args: list[str], seconds: float) -> RunResult:
        limits = Limits(**{**self.limits.__dict__, "seconds": seconds})
        return self.sandbox.run(self.image, list(self.commands[name]) + args, self.mounts,
                                env=self.env, limits=limits, network=None, workdir="/agent")

    def meta_train(self, args: list[str], seconds: float, max_ckpt_mb: float,
                   cache: Path | None) -> Call:
        ckpt = self.scratch / "checkpoint"
        key = hashlib.sha256((agent_hash(self.agent_dir) + json.dumps(args)).encode()).hexdigest()[:32]
        hit = cache / key if cache else None
        limit = int(max_ckpt_mb * 1e6)
        if hit is not None and readback.exists(hit, "call.json"):
            try:  # the cache is shared by concurrent evaluations: any trouble is a miss
                call = Call(**readback.read_json(hit, "call.json", 1 << 20))
                shutil.rmtree(ckpt, ignore_errors=True)
                readback.copy_tree(hit, "checkpoint", ckpt, max_bytes=limit)
                os.utime(hit)
                call.cached = True
                return call
            except (OSError, ValueError, TypeError, readback.Rejected):
                shutil.rmtree(ckpt, ignore_errors=True)
        ckpt.mkdir(parents=True, exist_ok=True)
        res = self._run("meta-train", args, seconds)
        log = tail(res.stdout + ("\n--- stderr ---\n" + res.stderr if res.stderr else ""))
        if not res.ok:
            return Call(False, describe(res, "meta-train"), res.seconds, log, res.image_digest)
        try:
            size = dir_bytes(ckpt)
            stats = self._stats()
        except readback.Rejected as exc:
            return Call(False, f"meta-train output rejected: {exc}", res.seconds, log, res.image_digest)
        if size > limit:
            return Call(False, f"meta-train wrote a {size / 1e6:.0f} MB checkpoint, more than the "
                               f"{max_ckpt_mb:g} MB allowed (files count at their apparent size)",
                        res.seconds, log, res.image_digest)
        call = Call(True, "", res.seconds, log, res.image_digest, stats=stats,
                    compute=self._json("compute_train.json"))
        if hit is not None:
            try:
                self._store(hit, self.scratch, call, limit)
            except (OSError, readback.Rejected):
                pass  # another evaluation stored the same key meanwhile, or the disk is full
        return call

    def predict(self, args: list[str], seconds: float) -> Call:
        res = self._run("predict", args, seconds)
        log = tail(res.stdout + ("\n--- stderr ---\n" + res.stderr if res.stderr else ""))
        return Call(res.ok, "" if res.ok else describe(res, "predict"), res.seconds, log,
                    res.image_digest, compute=self._json("compute_predict.json"))

    def _stats(self) -> dict:
        """The scalar entries of train_stats.json; {} if absent; Rejected if hostile (too big, too deep)."""
        if not readback.exists(self.scratch, "train_stats.json"):
            return {}
        data = readback.read_json(self.scratch, "train_stats.json", STATS_BYTES, STATS_DEPTH)
        if not isinstance(data, dict):
            return {}
        return {str(k)[:64]: (v[:200] if isinstance(v, str) else v) for k, v in list(data.items())[:64]
                if isinstance(v, (int, float, str)) and not isinstance(v, bool)}

    def _json(self, name: str) -> dict | None:
        """A small flat JSON object the agent's side wrote into scratch; None if absent or hostile."""
        try:
            if not readback.exists(self.scratch, name):
                return None
            data = readback.read_json(self.scratch, name, STATS_BYTES, STATS_DEPTH)
        except readback.Rejected:
            return None
        if not isinstance(data, dict):
            return None
        return {str(k)[:64]: v for k, v in list(data.items())[:64]
                if isinstance(v, (int, float, str)) and not isinstance(v, bool)}

    @staticmethod
    def _store(dest: Path, scratch: Path, call: Call, limit: int) -> None:
        tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        readback.copy_tree(scratch, "checkpoint", tmp / "checkpoint", max_bytes=limit)
        (tmp / "call.json").write_text(json.dumps({k: v for k, v in call.__dict__.items()
                                                   if k != "cached"}))
        shutil.rmtree(dest, ignore_errors=True)
        try:
            os.replace(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        entries = sorted((p for p in dest.parent.iterdir() if ".tmp" not in p.name),
                         key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP_CHECKPOINTS]:
            shutil.rmtree(old, ignore_errors=True)
