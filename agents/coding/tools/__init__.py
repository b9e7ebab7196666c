"""The agent's tools. Each module here exposes ``tool_info()`` (name, description,
input_schema) and ``tool_function(**inputs) -> str``; a new tool is a new module
listed in ``TOOL_MODULES``.
"""

from __future__ import annotations

import inspect
from types import ModuleType

from . import bash, editor

TOOL_MODULES: list[ModuleType] = [bash, editor]


def configure(repo: str, bash_timeout: float) -> None:
    bash.configure(repo, bash_timeout)
    editor.configure(repo)


def specs() -> list[dict]:
    return [m.tool_info() for m in TOOL_MODULES]


def run_tool(name: str, arguments: dict) -> str:
    """Run one tool call; any failure becomes an error message for the model, never a crash."""
    for m in TOOL_MODULES:
        if m.tool_info()["name"] == name:
            params = inspect.signature(m.tool_function).parameters
            unknown = sorted(set(arguments) - set(params))
            if unknown:
                return f"Error: unknown arguments {unknown} for tool {name}; it takes {list(params)}"
            try:
                return str(m.tool_function(**arguments))
            except TypeError as exc:
                return f"Error: bad arguments for {name}: {exc}"
            except Exception as exc:  # a tool bug must not end the run
                return f"Error: {name} failed: {type(exc).__name__}: {exc}"
    return f"Error: no tool named {name!r}; available: {[m.tool_info()['name'] for m in TOOL_MODULES]}"


def shutdown() -> None:
    bash.shutdown()
