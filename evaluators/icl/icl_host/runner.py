"""Running an agent's two commands in the sandbox, with the suite's mounts, env and limits.

Mounts: the agent read-only at /agent (also the working directory), the
harness read-only at /harness, the evaluation's scratch directory writable at
/scratch. The environment is an allow-list. Meta-training results are cached
by (agent content, training arguments), so a later stage that trains the same
way reuses the checkpoint instead of training again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from dgm.sandbox.base import Limits, Mount, RunResult, Sandbox

HARNESS_DIR = Path(__file__).resolve().parent.parent / "harness"
SKIP_PARTS = {".git", "__pycache__"}
KEEP_CHECKPOINTS = 32
LOG_TAIL = 4000


def agent_hash(agent_dir: Path) -> str:
    """A digest of every file of the agent (paths and contents), ignoring caches."""
    h = hashlib.sha256()
    for p in sorted(agent_dir.rglob("*")):
        rel = p.relative_to(agent_dir)
        if p.is_file() and not SKIP_PARTS & set(rel.parts) and p.suffix != ".pyc":
            h.update(str(rel).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def dir_bytes(path: Path) -> int:
    """Bytes of the regular files under ``path``, never following symbolic links."""
    total = 0
    for root, _dirs, files in os.walk(path, followlinks=False):
        for name in files:
            st = os.lstat(os.path.join(root, name))
            total += st.st_size if stat.S_ISREG(st.st_mode) else 0
    return total


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
                 scratch: Path, limits: Limits, env: dict[str, str], extra_mounts: list[Mount] = ()):
        self.sandbox, self.image, self.commands = sandbox, image, commands
        self.agent_dir, self.scratch, self.limits, self.env = agent_dir, scratch, limits, env
        self.mounts = [Mount(agent_dir, "/agent"), Mount(HARNESS_DIR, "/harness"),
                       Mount(scratch, "/scratch", writable=True)] + \
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
        if hit is not None and (hit / "call.json").is_file():
            try:  # the cache is shared by concurrent evaluations: any trouble is a miss
                call = Call(**json.loads((hit / "call.json").read_text()))
                shutil.rmtree(ckpt, ignore_errors=True)
                shutil.copytree(hit / "checkpoint", ckpt, symlinks=True)
                os.utime(hit)
                call.cached = True
                return call
            except (OSError, ValueError, TypeError):
                shutil.rmtree(ckpt, ignore_errors=True)
        ckpt.mkdir(parents=True, exist_ok=True)
        res = self._run("meta-train", args, seconds)
        log = tail(res.stdout + ("\n--- stderr ---\n" + res.stderr if res.stderr else ""))
        if not res.ok:
            return Call(False, describe(res, "meta-train"), res.seconds, log, res.image_digest)
        size = dir_bytes(ckpt)
        if size > max_ckpt_mb * 1e6:
            return Call(False, f"meta-train wrote a {size / 1e6:.0f} MB checkpoint, more than the "
                               f"{max_ckpt_mb:g} MB allowed", res.seconds, log, res.image_digest)
        call = Call(True, "", res.seconds, log, res.image_digest, stats=self._stats(),
                    compute=self._json("compute_train.json"))
        if hit is not None:
            try:
                self._store(hit, ckpt, call)
            except OSError:
                pass  # another evaluation stored the same key meanwhile, or the disk is full
        return call

    def predict(self, args: list[str], seconds: float) -> Call:
        res = self._run("predict", args, seconds)
        log = tail(res.stdout + ("\n--- stderr ---\n" + res.stderr if res.stderr else ""))
        return Call(res.ok, "" if res.ok else describe(res, "predict"), res.seconds, log,
                    res.image_digest, compute=self._json("compute_predict.json"))

    def _stats(self) -> dict:
        return self._json("train_stats.json") or {}

    def _json(self, name: str) -> dict | None:
        """A small flat JSON object the agent's side wrote into scratch, or None."""
        path = self.scratch / name
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_size < 65536:
                data = json.loads(path.read_text())
                if isinstance(data, dict):
                    return {k: v for k, v in data.items() if isinstance(v, (int, float, str))}
        except (OSError, ValueError, RecursionError):
            pass
        return None

    @staticmethod
    def _store(dest: Path, ckpt: Path, call: Call) -> None:
        tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(ckpt, tmp / "checkpoint", symlinks=True)
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
