"""The per-repository spec table of the swe-bench suite (as swebench's MAP_REPO_VERSION_TO_SPECS).

``evaluators/swe-bench/specs.toml`` (and, merged over it, a user's file named by
the ``specs`` option) says for each ``owner/name`` how its testbed is set up
and tested; ``[default]`` covers plain pytest repositories::

    [default]
    runner = "pytest"        # the only runner dgm's hardened grader drives
    install = []             # shell commands run in the testbed before the tests (no network)
    pythonpath = ["."]       # put on sys.path (relative to the testbed)
    test_args = []           # extra pytest arguments, before the hidden test files
    env = {}                 # extra environment for install and tests
    image = ""               # an environment image with the repo's dependencies ("" = the suite's)

    [repos."owner/name"]     # any of the keys above
    [repos."owner/name".versions."1.2"]   # per-version overrides (SWE-bench's version field)
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dgm.errors import ConfigError, validation_error

RUNNERS = ("pytest",)


class RepoSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    runner: str = "pytest"
    install: list[str] = Field(default_factory=list)
    pythonpath: list[str] = Field(default_factory=lambda: ["."])
    test_args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    image: str = ""
    note: str = ""


class _Entry(RepoSpec):
    versions: dict[str, dict] = Field(default_factory=dict)


class SpecTable:
    def __init__(self, files: list[Path]):
        self.default: dict = {}
        self.repos: dict[str, dict] = {}
        for path in files:
            self._merge(path)

    def _merge(self, path: Path) -> None:
        if not path.is_file():
            raise ConfigError(f"spec table {path} does not exist")
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        unknown = set(data) - {"default", "repos"}
        if unknown:
            raise ConfigError(f"{path}: unknown tables {', '.join(sorted(unknown))} (want default, repos)")
        try:
            RepoSpec.model_validate(data.get("default", {}))
            for repo, entry in data.get("repos", {}).items():
                _Entry.model_validate(entry)
                for v in entry.get("versions", {}).values():
                    RepoSpec.model_validate(v)
        except ValidationError as exc:
            raise validation_error(exc, str(path)) from None
        self.default.update(data.get("default", {}))
        for repo, entry in data.get("repos", {}).items():
            merged = self.repos.setdefault(repo, {})
            versions = {**merged.get("versions", {}), **entry.get("versions", {})}
            merged.update(entry)
            merged["versions"] = versions

    def spec_for(self, repo: str, version: str = "") -> RepoSpec:
        entry = dict(self.repos.get(repo, {}))
        versions = entry.pop("versions", {})
        spec = RepoSpec.model_validate({**self.default, **entry, **versions.get(version, {})})
        if spec.runner not in RUNNERS:
            raise ConfigError(f"{repo}: runner {spec.runner!r} is not supported by dgm's grader "
                              f"(supported: {', '.join(RUNNERS)}){'; ' + spec.note if spec.note else ''}")
        return spec
