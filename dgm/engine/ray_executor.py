"""Evaluations as Ray tasks, for runs that outgrow one machine (docs/ray.md).

The scheduler stays on the driver and stays the only archive writer: it
submits ``evaluate_stage`` and gets a ``concurrent.futures.Future`` back, as
with the local executor. What changes is where the stage runs:

* The agent's code travels as its commit, in a git bundle made on the driver
  (dgm/archive/bundles.py); workers never see the archive's path.
* Each task asks Ray for resources (CPUs, GPUs when the device is cuda,
  memory) and runs on a node that has them, in that node's own sandbox
  backend and image (``Runtime`` caches them per worker process; the image
  is resolved on the node, not named by the driver).
* A worker or node that dies mid-evaluation is a *system* failure: Ray re-runs
  the task elsewhere up to ``max_retries`` times (evaluating twice is harmless:
  a stage writes nothing). After that the future raises ``EvaluationLost`` and
  the loop records the agent as failed with that reason. An exception raised
  by the evaluation itself is never retried: it reaches the loop as it was
  raised, exactly as with the local executor.

``import ray`` happens only here (it is slow), so only runs with
``--executor ray`` pay for it.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import logging
import os
import socket
import sys
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from dgm.archive.bundles import make_bundle
from dgm.errors import ConfigError, DgmError
from dgm.engine.evaluation import StageTask, evaluate_stage
from dgm.suites import EVALUATORS, StageOutcome

MB = 1024 * 1024
ENV = {  # environment overrides, e.g. DGM_RAY_MAX_RETRIES=0 (see RayOptions)
    "num_cpus": "DGM_RAY_NUM_CPUS", "num_gpus": "DGM_RAY_NUM_GPUS",
    "memory_mb": "DGM_RAY_MEMORY_MB", "max_retries": "DGM_RAY_MAX_RETRIES",
    "scheduling": "DGM_RAY_SCHEDULING", "local_object_store_mb": "DGM_RAY_OBJECT_STORE_MB",
}


class EvaluationLost(DgmError):
    """A stage could not be evaluated: every attempt lost its Ray worker or node."""


@dataclass
class RayOptions:
    """What each evaluation asks of the cluster, and how often a lost one is re-run."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0  # 1 by default when the run's device is cuda
    memory_mb: int | None = None  # reserved per task (Ray's logical ``memory`` resource)
    max_retries: int = 2  # re-runs after a worker or node death; never after an exception
    scheduling: str = "SPREAD"  # or DEFAULT: pack onto the driver's node first
    local_object_store_mb: int = 256  # only for a cluster ``ray.init`` starts itself

    def __post_init__(self) -> None:
        if self.num_cpus <= 0 or self.num_gpus < 0 or self.max_retries < 0 \
                or (self.memory_mb is not None and self.memory_mb <= 0):
            raise ConfigError(f"ray options: num_cpus must be > 0, num_gpus, max_retries >= 0 and "
                              f"memory_mb > 0 (got {self})")
        if self.scheduling not in ("SPREAD", "DEFAULT"):
            raise ConfigError(f"ray options: scheduling must be SPREAD or DEFAULT, not {self.scheduling!r}")

    @classmethod
    def from_config(cls, config: Any, environ: dict[str, str] | None = None) -> "RayOptions":
        """Defaults, then the config's ``ray`` table when it has one, then DGM_RAY_* variables."""
        values: dict[str, Any] = {}
        if str(getattr(config, "device", "cpu")).startswith("cuda"):
            values["num_gpus"] = 1.0
        table = getattr(config, "ray", None)
        if table is not None:
            table = table if isinstance(table, dict) else table.model_dump()
            values.update({k: v for k, v in table.items() if v is not None})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key, var in ENV.items():
            raw = (os.environ if environ is None else environ).get(var)
            if raw is None or raw == "":
                continue
            kind = {"num_cpus": float, "num_gpus": float, "scheduling": str}.get(key, int)
            try:
                values[key] = kind(raw.upper() if kind is str else raw)
            except ValueError:
                raise ConfigError(f"{var} must be a{'n integer' if kind is int else ' number'}, "
                                  f"not {raw!r}") from None
        unknown = set(values) - set(fields)
        if unknown:
            raise ConfigError(f"ray options: unknown key(s) {', '.join(sorted(unknown))}; "
                              f"allowed: {', '.join(fields)}")
        return cls(**values)


# -- worker side -------------------------------------------------------------
def run_stage(task: StageTask) -> StageOutcome:
    """Evaluate one stage on a Ray worker (this node's sandbox, the shipped commit)."""
    suite = Path(task.suite)
    if suite.is_absolute() and not (suite / "suite.toml").is_file():
        raise DgmError(f"suite directory {suite} does not exist on {socket.gethostname()}: every "
                       "node needs the suites at the same path (see docs/ray.md)")
    for source, target in getattr(task, "mounts", []):
        if not Path(source).exists():  # e.g. the model gateway's socket directory
            raise DgmError(f"{source} (mounted at {target}) is on the driver, not on "
                           f"{socket.gethostname()}: suites whose agents call the model gateway "
                           "run with the local executor for now (see docs/ray.md)")
    outcome = evaluate_stage(task)
    outcome.artifacts["evaluated_on"] = _where()
    return outcome


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` on a worker (Ray only wraps Python functions itself)."""
    return fn(*args)


def _where() -> str:
    try:
        import ray
        node = ray.get_runtime_context().get_node_id()[:12]
    except Exception:  # not in a Ray worker (a direct call, in tests)
        node = "-"
    return f"{socket.gethostname()} (ray node {node})"


def portable_suite(locator: str) -> str:
    """A suite of this checkout's evaluators/ travels by name; any other by its path."""
    path = Path(locator)
    try:
        real = path.resolve()  # a link into evaluators/ names the suite it points at
        if path.is_absolute() and real.parent == EVALUATORS.resolve():
            return real.name
    except OSError:
        pass
    return locator


# -- driver side -------------------------------------------------------------
def _probe(address: str) -> None:
    """Fail in seconds on an unreachable address (``ray.init`` would wait for minutes)."""
    if address == "auto":
        return
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--ray-address must be HOST:PORT (e.g. 10.0.0.5:6379), not {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise DgmError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); "
                       "start one with `ray start --head --port=PORT` or fix --ray-address") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


@contextlib.contextmanager
def _held_stderr():
    """Send file descriptor 2 to a temporary file; its text is in ``held["text"]`` after."""
    held = {"text": ""}
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield held
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            held["text"] = tmp.read().decode("utf-8", "replace")


def _translate(exc: BaseException, options: RayOptions) -> BaseException:
    """Ray's exceptions as the loop should record them (see module docstring)."""
    import ray.exceptions as rex

    if isinstance(exc, rex.RayTaskError):  # the evaluation itself raised: pass it on as is
        cause = getattr(exc, "cause", None)
        return cause if isinstance(cause, BaseException) else exc
    if isinstance(exc, rex.TaskCancelledError):
        return cf.CancelledError("the evaluation was cancelled")
    first = _first_line(exc)
    if isinstance(exc, rex.OutOfMemoryError):
        what = "Ray's memory monitor killed it (node out of memory)"
    else:
        what = "the Ray worker or node running it died"
    return EvaluationLost(f"lost after {options.max_retries + 1} attempt(s): {what} "
                          f"({type(exc).__name__}: {first})")


class RayExecutor:
    """Runs ``evaluate_stage`` (or any picklable function) as Ray tasks; futures back."""

    name = "ray"

    def __init__(self, workers: int, address: str | None = None, options: RayOptions | None = None):
        self.workers = workers
        self.address = address
        self.options = options or RayOptions()
        self._lock = threading.Lock()
        self._pending: dict[Any, cf.Future] = {}
        self._bundles: OrderedDict[str, bytes] = OrderedDict()
        self._remotes: dict[Callable, Any] = {}
        self._owns = self._connect()
        try:
            self._check_capacity()
        except BaseException:
            self.shutdown(wait=False)
            raise

    def _connect(self) -> bool:
        """Connect (or start a local cluster); True when this executor must disconnect."""
        if self.address:
            _probe(self.address)
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
        import ray

        if ray.is_initialized():  # someone in this process connected already: share it
            return False
        common: dict[str, Any] = dict(logging_level=logging.WARNING, log_to_driver=False, namespace="dgm")
        if not self.address:  # a private single-node cluster sized to the run
            try:
                ray.init(num_cpus=max(1, int(self.workers * self.options.num_cpus + 0.999)),
                         object_store_memory=self.options.local_object_store_mb * MB,
                         include_dashboard=False, **common)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise DgmError(f"cannot start a local Ray instance: {_first_line(exc)}") from None
            return True
        # Ray's C++ client logs a warning a second while it retries (a wrong token, say);
        # hold its stderr and turn a failure into one line.
        with _held_stderr() as held:
            try:
                ray.init(address=self.address, **common)
                failure = None
            except (ConnectionError, RuntimeError, ValueError) as exc:
                failure = _first_line(exc)
        if failure is None:
            sys.stderr.write(held["text"])
            return True
        why = ("the cluster refused this machine's token: set RAY_AUTH_TOKEN (or ~/.ray/auth_token) "
               "to the cluster's" if "InvalidAuthToken" in held["text"] else
               f"{failure} (a missing or wrong RAY_AUTH_TOKEN, or another Ray or Python version "
               "than the cluster's, fails like this)")
        raise DgmError(f"cannot connect to the Ray cluster at {self.address}: {why}; see docs/ray.md")

    def _check_capacity(self) -> None:
        """A request no node can ever satisfy would wait forever: say so now."""
        import ray

        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
        o = self.options
        need = {"CPU": o.num_cpus, "GPU": o.num_gpus, "memory": (o.memory_mb or 0) * MB}
        if any(all(n.get(k, 0.0) >= v for k, v in need.items() if v) for n in nodes):
            return
        have = "; ".join(f"CPU {n.get('CPU', 0):g}, GPU {n.get('GPU', 0):g}, "
                         f"memory {n.get('memory', 0) / MB:.0f} MB" for n in nodes) or "no nodes"
        raise ConfigError(f"no node of the Ray cluster can run an evaluation asking for CPU {o.num_cpus:g}, "
                          f"GPU {o.num_gpus:g}, memory {o.memory_mb or 0} MB (nodes: {have}); "
                          "add such a node or lower the request (DGM_RAY_NUM_CPUS, DGM_RAY_NUM_GPUS, "
                          "DGM_RAY_MEMORY_MB)")

    def _ray_options(self, name: str) -> dict[str, Any]:
        o = self.options
        opts: dict[str, Any] = dict(num_cpus=o.num_cpus, num_gpus=o.num_gpus, max_retries=o.max_retries,
                                    retry_exceptions=False, scheduling_strategy=o.scheduling, name=name)
        if o.memory_mb:
            opts["memory"] = o.memory_mb * MB
        return opts

    def bundle(self, repo: str, commit: str) -> bytes:
        """The agent's bundle, made once per commit (its stages share it)."""
        with self._lock:
            if commit in self._bundles:
                self._bundles.move_to_end(commit)
                return self._bundles[commit]
        data = make_bundle(repo, commit)
        with self._lock:
            self._bundles[commit] = data
            while len(self._bundles) > 64:
                self._bundles.popitem(last=False)
        return data

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        """Like ``Executor.submit``; a failure to ship the task also comes back in the future."""
        out: cf.Future = cf.Future()
        out.set_running_or_notify_cancel()
        try:
            ref = self._submit(fn, *args)
        except Exception as exc:  # e.g. no bundle could be made: the agent fails, the run goes on
            out.set_exception(exc)
            return out
        with self._lock:
            self._pending[ref] = out
        ref.future().add_done_callback(lambda f, ref=ref: self._done(ref, f))
        return out

    def _submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        import ray

        if fn is evaluate_stage and len(args) == 1 and isinstance(args[0], StageTask):
            task = args[0]
            if task.bundle is None:
                task = dataclasses.replace(task, bundle=self.bundle(task.repo, task.commit), repo="")
            # The driver's image tag names a build on the driver; each node resolves its
            # own (DGM_SANDBOX_IMAGE there, or its content-hashed local build), and the
            # digest it really ran is what the evaluation records.
            task = dataclasses.replace(task, suite=portable_suite(task.suite), image=None)
            fn, args = run_stage, (task,)
            name = f"dgm-eval {task.commit[:10]} {Path(task.suite).name} stage {task.stage + 1}"
        else:  # any picklable callable, builtins included
            name = f"dgm {getattr(fn, '__name__', 'task')}"
            fn, args = call, (fn, *args)
        remote = self._remotes.get(fn)
        if remote is None:
            remote = self._remotes[fn] = ray.remote(fn)
        return remote.options(**self._ray_options(name)).remote(*args)

    def _done(self, ref: Any, fut: cf.Future) -> None:
        with self._lock:
            out = self._pending.pop(ref, None)
        if out is None:
            return
        exc = fut.exception() if not fut.cancelled() else cf.CancelledError()
        if exc is None:
            out.set_result(fut.result())
        else:
            out.set_exception(_translate(exc, self.options))

    def shutdown(self, wait: bool = True) -> None:
        import ray

        if wait:
            with self._lock:
                waiting = list(self._pending.values())
            cf.wait(waiting)
        else:
            with self._lock:  # whoever pops a future sets it: _done or this
                pending, self._pending = self._pending, {}
            for ref, out in pending.items():
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # already finished, or the cluster is gone
                    pass
                out.set_exception(cf.CancelledError("executor shut down"))
        if self._owns and ray.is_initialized():
            ray.shutdown()
            self._owns = False
