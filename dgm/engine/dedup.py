"""Program fingerprints: two agents with the same fingerprint are the same program.

Python files are compared by their AST (comments, blank lines, quote style
and docstrings do not count); every other file by its bytes. Where the agent
declares a search space, a parameter that is inactive under the configuration
(its ``when`` does not hold, e.g. a momentum the chosen optimizer never reads)
is blanked before hashing, so changing it changes nothing. A child whose
fingerprint matches an existing agent's is recorded as its duplicate and not
evaluated again.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import cast

from dgm.proposers.searchspace import SPACE_FILE, Space, SpaceError, locate, parse_space

# The archive's own material, never part of the program.
SKIP = ("__pycache__", ".git")


def read_tree(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(Path(root).rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not any(part in SKIP for part in rel.split("/")):
            out[rel] = p.read_bytes()
    return out


def _strip_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]


def _blank_inactive(trees: dict[str, ast.Module], space: Space, texts: dict[str, str]) -> None:
    try:
        values = space.read(texts)
        active = space.active(values)
    except (SpaceError, ValueError, SyntaxError):
        return  # an unreadable configuration: compare the code as it is
    for p in space.params:
        if not active[p.name] and p.file in trees:
            node = locate(trees[p.file], p.path)
            # a constant, a negative number or a container: turned into a None constant in place
            node.__class__ = ast.Constant
            const = cast(ast.Constant, node)  # it is one now
            const.value, const.kind = None, None


def fingerprint(files: dict[str, bytes]) -> str:
    """A hash of the program's meaning as far as cheap, safe normalisation can tell."""
    texts: dict[str, str] = {}
    trees: dict[str, ast.Module] = {}
    for path, data in files.items():
        if path.endswith(".py"):
            try:
                texts[path] = data.decode()
                trees[path] = ast.parse(texts[path])
            except (UnicodeDecodeError, SyntaxError, ValueError):
                trees.pop(path, None)
    space = None
    if SPACE_FILE in files:
        try:
            space = parse_space(files[SPACE_FILE].decode())
        except (SpaceError, UnicodeDecodeError):
            space = None
    if space is not None:
        _blank_inactive(trees, space, texts)
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode() + b"\0")
        if path in trees:
            _strip_docstrings(trees[path])
            h.update(b"ast\0" + ast.dump(trees[path], annotate_fields=False).encode())
        else:
            h.update(b"raw\0" + files[path])
        h.update(b"\0\0")
    return h.hexdigest()


def fingerprint_dir(root: Path) -> str:
    return fingerprint(read_tree(root))
