"""SWE-bench instance files (the public dataset's JSON / JSONL) as gradable tasks.

An instance has ``instance_id``, ``repo`` (``owner/name``), ``base_commit``,
``problem_statement``, ``patch`` (gold), ``test_patch``, ``FAIL_TO_PASS`` and
``PASS_TO_PASS`` (lists, or JSON-encoded lists as in the Hugging Face export),
and where present ``version``, ``environment_setup_commit``, ``hints_text``.
A file is JSON Lines (one instance a line) or one JSON array (or an object
with an ``instances`` array).

An ``SweBenchInstance`` offers what ``swegrade.grade_one`` and the agent runner
need: ``build_testbed`` (the repository at ``base_commit``, from the local
mirror, as a one-commit repository), the patches, the test lists, and the
repository's grading spec (``repospecs``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dgm.errors import ConfigError

from .mirror import Mirror
from .patches import split_diff
from .repospecs import RepoSpec

REQUIRED = ("instance_id", "repo", "base_commit", "problem_statement", "patch", "test_patch",
            "FAIL_TO_PASS", "PASS_TO_PASS")


class InstanceError(ConfigError):
    """An instance file that does not follow SWE-bench's format (one clear line)."""


@dataclass
class SweBenchInstance:
    instance_id: str
    repo: str
    base_commit: str
    problem_statement: str
    gold_patch: str
    test_patch: str
    fail_to_pass: list[str]
    pass_to_pass: list[str]
    version: str = ""
    environment_setup_commit: str = ""
    mirror: Mirror | None = None
    spec: RepoSpec | None = None
    extra: dict = field(default_factory=dict)

    def build_testbed(self, dest: Path) -> str:
        """``dest`` = the repository's files at ``base_commit``, committed once (no history)."""
        if self.mirror is None:
            raise InstanceError(f"{self.instance_id}: no repository mirror configured")
        return self.mirror.testbed(self.repo, self.base_commit, dest)

    @property
    def test_files(self) -> list[str]:
        """The test files the hidden tests touch; as SWE-bench, only they are run."""
        files = [b.new for b in split_diff(self.test_patch)[1] if b.new]  # deleted files are not run
        return [p for p in dict.fromkeys(files) if p.endswith(".py")]

    @property
    def image(self) -> str | None:
        return self.spec.image if self.spec else None

    @property
    def grading_spec(self) -> dict:
        """What the in-sandbox grader needs beyond the patches (see harness/grade.py)."""
        spec = self.spec or RepoSpec()
        return {"install": list(spec.install), "pythonpath": list(spec.pythonpath),
                "test_args": list(spec.test_args) + self.test_files, "env": dict(spec.env)}


def _test_list(value, key: str, where: str) -> list[str]:
    if isinstance(value, str):  # the Hugging Face export stores the lists JSON-encoded
        try:
            value = json.loads(value)
        except ValueError:
            raise InstanceError(f"{where}: {key} is neither a list nor a JSON-encoded list") from None
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InstanceError(f"{where}: {key} must be a list of test ids")
    return value


def parse_instance(raw: object, where: str) -> SweBenchInstance:
    if not isinstance(raw, dict):
        raise InstanceError(f"{where}: an instance must be a JSON object")
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise InstanceError(f"{where}: missing {', '.join(missing)}")
    for key in ("instance_id", "repo", "base_commit", "problem_statement", "patch", "test_patch"):
        if not isinstance(raw[key], str):
            raise InstanceError(f"{where}: {key} must be a string")
    iid = raw["instance_id"]
    if not iid or any(c.isspace() or c in "/\\" for c in iid):
        raise InstanceError(f"{where}: bad instance_id {iid!r}")
    if raw["repo"].count("/") != 1:
        raise InstanceError(f"{where}: repo must be owner/name, not {raw['repo']!r}")
    f2p = _test_list(raw["FAIL_TO_PASS"], "FAIL_TO_PASS", where)
    p2p = _test_list(raw["PASS_TO_PASS"], "PASS_TO_PASS", where)
    if not f2p:
        raise InstanceError(f"{where}: FAIL_TO_PASS is empty")
    known = set(REQUIRED) | {"version", "environment_setup_commit"}
    return SweBenchInstance(iid, raw["repo"], raw["base_commit"], raw["problem_statement"], raw["patch"],
                            raw["test_patch"], f2p, p2p, str(raw.get("version") or ""),
                            str(raw.get("environment_setup_commit") or ""),
                            extra={k: v for k, v in raw.items() if k not in known})


def read_instances(path: Path) -> list[SweBenchInstance]:
    """Every instance of a JSON or JSONL file, in file order; duplicate ids are an error."""
    if not path.is_file():
        raise InstanceError(f"instance file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    rows: list[tuple[object, str]] = []
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")) and not _is_jsonl(stripped):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InstanceError(f"{path}: not valid JSON: {exc}") from None
        if isinstance(data, dict):
            data = data.get("instances", [data])
        if not isinstance(data, list):
            raise InstanceError(f"{path}: want a list of instances")
        rows = [(r, f"{path}[{i}]") for i, r in enumerate(data)]
    else:
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append((json.loads(line), f"{path}:{n}"))
                except ValueError as exc:
                    raise InstanceError(f"{path}:{n}: not valid JSON: {exc}") from None
    out, seen = [], set()
    for raw, where in rows:
        inst = parse_instance(raw, where)
        if inst.instance_id in seen:
            raise InstanceError(f"{where}: duplicate instance_id {inst.instance_id}")
        seen.add(inst.instance_id)
        out.append(inst)
    if not out:
        raise InstanceError(f"{path}: no instances")
    return out


def _is_jsonl(text: str) -> bool:
    """An object per line (JSONL) rather than one JSON document."""
    first, _, rest = text.partition("\n")
    if not first.strip().startswith("{") or not rest.strip():
        return False
    try:
        json.loads(first)
        return True
    except ValueError:
        return False
