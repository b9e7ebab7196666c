"""Agent manifests: every agent directory has an ``agent.toml``.

``name``, ``domain`` (``coding`` | ``metalearning``) and ``[commands]``: the
argv lists the harness runs, relative to the agent's directory mounted at
``/agent`` inside the sandbox. Domains fix which commands must exist:
metalearning needs ``meta-train`` and ``predict``, coding needs ``solve``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from dgm.errors import ConfigError, validation_error
from dgm.textfiles import read_utf8

REQUIRED_COMMANDS = {"metalearning": ("meta-train", "predict"), "coding": ("solve",)}


class AgentManifest(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    domain: Literal["coding", "metalearning"]
    commands: dict[str, list[str]]
    description: str = ""

    @model_validator(mode="after")
    def _commands_for_domain(self) -> "AgentManifest":
        missing = [c for c in REQUIRED_COMMANDS[self.domain] if c not in self.commands]
        if missing:
            raise ValueError(f"domain {self.domain!r} needs commands {missing}")
        return self


def parse_manifest(text: str, where: str = "agent.toml") -> AgentManifest:
    """Parse and validate an agent.toml's text; raises ConfigError with the key at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    try:
        return AgentManifest.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, where) from None


def load_manifest(agent_dir: Path) -> AgentManifest:
    """Read ``agent_dir/agent.toml``; a missing file is a clear ConfigError."""
    path = Path(agent_dir) / "agent.toml"
    if not path.is_file():
        raise ConfigError(f"{agent_dir} is not an agent: it has no agent.toml")
    return parse_manifest(read_utf8(path), str(path))


def check_agent_dir(agent_dir: Path) -> None:
    """Refuse a seed whose links lead out of it (the archive would hold a link no checkout
    may write, or the host file it names); raises a one-line ConfigError."""
    top = os.path.realpath(agent_dir)
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                real = os.path.realpath(p)
                if real != top and not real.startswith(top + os.sep):
                    rel = os.path.relpath(p, top)
                    raise ConfigError(f"{agent_dir}: {rel!r} is a link out of the agent "
                                      f"(to {os.readlink(p)!r}); an agent holds only its own files")
