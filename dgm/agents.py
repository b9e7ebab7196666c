"""Agent manifests: every agent directory has an ``agent.toml``.

``name``, ``domain`` (``coding`` | ``metalearning``) and ``[commands]``: the
argv lists the harness runs, relative to the agent's directory mounted at
``/agent`` inside the sandbox. Domains fix which commands must exist:
metalearning needs ``meta-train`` and ``predict``, coding needs ``solve``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from .errors import ConfigError, validation_error

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
    return parse_manifest(path.read_text(), str(path))
