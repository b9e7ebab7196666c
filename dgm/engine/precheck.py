"""A cheap pre-check that turns a broken child away before its first full stage.

Static, on the host (no agent code runs here): every Python file parses; no
new import appears that resolves nowhere (a module of the agent, the standard
library or the host environment; names the parent already imports, e.g.
modules only the sandbox image holds, are accepted); the declared search
space's ranges and constraints hold (unless the parent broke them already).
Then, when a suite offers one, its dynamic check (``Suite.precheck``: e.g.
one training step in the sandbox) runs on the child.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

from dgm.proposers.mutation import python_files
from dgm.proposers.searchspace import NotConstant, SpaceError, load_space


def _imports(files: dict[str, str]) -> set[str] | str:
    names: set[str] = set()
    for path, text in files.items():
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            return f"{path} does not parse: {exc.msg} (line {exc.lineno})"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _unresolved(names: set[str], root: Path) -> set[str]:
    out = set()
    for n in names:
        if (root / f"{n}.py").is_file() or (root / n).is_dir() or n in sys.stdlib_module_names:
            continue
        try:
            if importlib.util.find_spec(n) is not None:  # top level: finds, never imports
                continue
        except (ImportError, ValueError):
            pass
        out.add(n)
    return out


def static_check(child: Path, parent: Path) -> str | None:
    """Why the child cannot work (None: it passes)."""
    files = python_files(child)
    names = _imports(files)
    if isinstance(names, str):
        return names
    parent_names = _imports(python_files(parent))
    known = parent_names if isinstance(parent_names, set) else set()
    new = _unresolved(names, child) - _unresolved(known, parent)
    if new:
        return f"imports {', '.join(sorted(new))}, which resolve nowhere"
    try:
        space = load_space(child)
        if space is not None:
            why = space.violation(space.read(files))
            if why and _parent_valid(parent):
                return f"configuration outside the declared search space: {why}"
    except NotConstant:  # a computed value is the agent's right: its evaluation judges it
        return None
    except (SpaceError, SyntaxError, ValueError) as exc:
        return f"search space unreadable: {exc}"
    return None


def _parent_valid(parent: Path) -> bool:
    try:
        space = load_space(parent)
        return space is None or space.violation(space.read(python_files(parent))) is None
    except (SpaceError, SyntaxError, ValueError):
        return False


def dynamic_check(child: Path, suite_locator: str, *, seed: int, sandbox: str,
                  image: str | None, device: str, env: dict, work: Path) -> str | None:
    """The suite's own quick check of the child, when it has one (``Suite.precheck``)."""
    from dgm.engine.evaluation import Runtime
    from dgm.suites import EvalContext

    try:
        suite = Runtime.suite(suite_locator)
    except Exception:  # the suite's own problem: its stage reports it, not the child's
        return None
    check = getattr(suite, "precheck", None)
    if check is None:
        return None
    work.mkdir(parents=True, exist_ok=True)
    ctx = EvalContext(sandbox=Runtime.sandbox(sandbox, image), workdir=work, seed=seed,
                      device=device, image=image, env=dict(env))
    return check(child, ctx)
