"""Static tamper check of an answer: does the diff touch the test machinery?

An answer to a coding task changes the code under test, never the machinery
that runs the tests. A diff that adds, changes or removes any of

- ``conftest.py``, ``sitecustomize.py``, ``usercustomize.py``, a ``*.pth`` file;
- a module or package named ``pytest``, ``_pytest``, ``pluggy`` or ``py`` (which
  would shadow the real ones), or a ``pytest_*`` plugin module;
- pytest configuration: ``pytest.ini``, ``tox.ini``, ``setup.cfg`` with a
  ``[tool:pytest]`` section, ``pyproject.toml`` with ``[tool.pytest...]``;

or whose added lines import or name ``pytest``/``_pytest``/``pluggy`` or
declare ``pytest_plugins`` / pytest hooks in code that is not a test file, is
graded 0 with the reason "tampering". This is a heuristic: it catches the plain
forms; code that builds those names at run time is also watched by the
in-process plugin and cross-checked by the separate per-test runs, and the
residual risk is stated in docs/security.md.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from .patches import is_test_path, split_diff

_SHADOW = {"pytest", "_pytest", "pluggy", "py"}
_CFG_SECTION = {"setup.cfg": re.compile(r"^\+?\s*\[tool:pytest\]", re.M),
                "pyproject.toml": re.compile(r"^\+?\s*\[\s*tool\.pytest", re.M)}
_CODE_REF = re.compile(r"\b(?:import\s+(?:_?pytest|pluggy)\b|from\s+(?:_?pytest|pluggy)\b|_pytest\b|"
                       r"pytest_plugins\b|def\s+pytest_\w+|PYTEST_\w+|__import__\(\s*['\"]_?pytest)")


def _path_reason(path: str) -> str | None:
    parts = PurePosixPath(path.strip("/")).parts
    if not parts:
        return None
    name = parts[-1]
    stem = name[:-3] if name.endswith(".py") else name
    if name == "conftest.py":
        return "changes conftest.py"
    if name in ("sitecustomize.py", "usercustomize.py") or stem in ("sitecustomize", "usercustomize"):
        return f"changes {name}"
    if name.endswith(".pth"):
        return f"adds a .pth file ({name})"
    if any(p in _SHADOW for p in parts[:-1]) or stem in _SHADOW:
        return f"adds or changes a module that shadows pytest's machinery ({path})"
    if stem.startswith("pytest_") and name.endswith(".py"):
        return f"adds or changes a pytest plugin module ({path})"
    if name in ("pytest.ini", ".pytest.ini", "tox.ini"):
        return f"changes pytest configuration ({name})"
    return None


def tamper_reasons(diff: str) -> list[str]:
    """Why this diff touches test infrastructure (empty when it does not)."""
    reasons: list[str] = []
    for block in split_diff(diff)[1]:
        for path in block.paths:
            why = _path_reason(path)
            name = PurePosixPath(path).name
            if why is None and name in _CFG_SECTION and _CFG_SECTION[name].search(block.text):
                why = f"changes pytest configuration in {name}"
            if why and why not in reasons:
                reasons.append(why)
        if any(is_test_path(p) for p in block.paths):
            continue  # test files are dropped before grading anyway
        added = "\n".join(line[1:] for line in block.text.splitlines()
                          if line.startswith("+") and not line.startswith("+++"))
        m = _CODE_REF.search(added)
        if m:
            why = f"code in {block.new or block.old} reaches into pytest ({m.group(0).strip()!r})"
            if why not in reasons:
                reasons.append(why)
    return reasons
