"""Prompt texts shipped as package data (dgm/proposers/prompts/*.md), read once each."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def prompt(name: str) -> str:
    """The text of ``prompts/<name>.md`` (without its final newline)."""
    return (resources.files(__package__) / "prompts" / f"{name}.md").read_text().rstrip("\n")
