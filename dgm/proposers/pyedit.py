"""AST-level code mutations over an agent's Python files, without any model.

Three operators, each returning the file's new text and a readable summary:

* **numbers**: perturb a *named* numeric literal (an assignment, keyword
  argument, default argument or dict entry), log-scale so rates and sizes move
  by factors. Left alone: lines marked ``# dgm: freeze``, lines between
  ``# dgm: freeze-begin`` and ``# dgm: freeze-end``, and structural names
  (``dim``, ``axis``, ``ignore_index``, ...) whose change only breaks code.
* **choices**: ``x = "gelu"  # dgm: choice activation`` switches to another
  value listed in a module-level ``DGM_ALTERNATIVES = {"activation": [...]}``.
* **regions**: between ``# dgm: region-begin`` and ``# dgm: region-end``,
  swap two adjacent statements or drop one.
"""

from __future__ import annotations

import ast
import math
import random
import re
from dataclasses import dataclass
from typing import cast

CHOICE = re.compile(r"#\s*dgm:\s*choice\s+([\w.-]+)")
FREEZE = re.compile(r"#\s*dgm:\s*freeze(?![-\w])")
FREEZE_BEGIN = re.compile(r"#\s*dgm:\s*freeze-begin")
FREEZE_END = re.compile(r"#\s*dgm:\s*freeze-end")
STRUCTURAL = {"dim", "dims", "axis", "axes", "start_dim", "end_dim", "ignore_index",
              "padding_idx", "index", "indices", "maxlen"}
REGION_BEGIN = re.compile(r"#\s*dgm:\s*region-begin")
REGION_END = re.compile(r"#\s*dgm:\s*region-end")


@dataclass
class Site:
    """A source span to replace: 1-based line, 0-based columns (on that line)."""

    line: int
    col: int
    end_col: int
    name: str
    value: object


def _replace(text: str, site: Site, new_src: str) -> str:
    lines = text.splitlines(keepends=True)
    ln = lines[site.line - 1]
    lines[site.line - 1] = ln[:site.col] + new_src + ln[site.end_col:]
    return "".join(lines)


def _context_name(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str | None:
    p = parents.get(node)
    if isinstance(p, ast.Assign) and p.value is node and len(p.targets) == 1:
        t = p.targets[0]
        return t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else None
    if isinstance(p, ast.AnnAssign) and p.value is node:
        t = p.target
        return t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else None
    if isinstance(p, ast.keyword):
        return p.arg
    if isinstance(p, ast.arguments):
        pos = p.posonlyargs + p.args
        for arg, default in zip(pos[len(pos) - len(p.defaults):], p.defaults):
            if default is node:
                return arg.arg
        for arg, kw_default in zip(p.kwonlyargs, p.kw_defaults):
            if kw_default is node:
                return arg.arg
    if isinstance(p, ast.Dict):
        for k, v in zip(p.keys, p.values):
            if v is node and isinstance(k, ast.Constant) and isinstance(k.value, str):
                return k.value
    return None


def numeric_sites(text: str) -> list[Site]:
    """Named int/float literals that may be perturbed."""
    tree = ast.parse(text)
    lines = text.splitlines()
    frozen = _frozen_lines(lines)
    parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    sites = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
            continue
        target: ast.expr = node
        value = cast("int | float", node.value)  # its type() checked just above
        p = parents.get(node)
        if isinstance(p, ast.UnaryOp) and isinstance(p.op, ast.USub):
            target, value = p, -value
        # end_col_offset is None only in a tree built by hand, never in a parsed one
        if target.lineno != target.end_lineno or target.end_col_offset is None or value == 0:
            continue
        line = lines[target.lineno - 1]
        if target.lineno in frozen or FREEZE.search(line) or CHOICE.search(line):
            continue
        name = _context_name(target, parents)
        if name and name != "DGM_ALTERNATIVES" and name.lower() not in STRUCTURAL:
            sites.append(Site(target.lineno, target.col_offset, target.end_col_offset, name, value))
    return sites


def _frozen_lines(lines: list[str]) -> set[int]:
    frozen, inside = set(), False
    for i, ln in enumerate(lines, 1):
        if FREEZE_BEGIN.search(ln):
            inside = True
        elif FREEZE_END.search(ln):
            inside = False
        elif inside:
            frozen.add(i)
    return frozen


def _format_float(v: float) -> str:
    s = f"{v:.3g}"
    return s if any(ch in s for ch in ".e") or "inf" in s or "nan" in s else s + ".0"


def perturb_value(value: int | float, rng: random.Random) -> int | float:
    """A log-scale move: factors around 1 for rates and sizes, never the same value."""
    if isinstance(value, int):
        for _ in range(20):
            factor = rng.choice((0.5, 0.75, 1.5, 2.0))
            new = int(round(value * factor))
            if value > 0:
                new = max(1, new)
            if new != value:
                return new
        return value + (1 if value > 0 else -1)
    for _ in range(20):
        moved = value * math.exp(rng.gauss(0.0, 0.7))
        if 0 < abs(value) < 1 <= abs(moved):  # fractions (dropout, betas) stay fractions
            moved = math.copysign(1 - (1 - abs(value)) / 2, value)
        if float(_format_float(moved)) != value:
            return float(_format_float(moved))
    return value * 2


def mutate_number(text: str, rng: random.Random) -> tuple[str, str] | None:
    sites = numeric_sites(text)
    if not sites:
        return None
    site = rng.choice(sites)
    assert isinstance(site.value, (int, float))  # numeric_sites finds numbers only
    new = perturb_value(site.value, rng)
    old_src = text.splitlines()[site.line - 1][site.col:site.end_col]
    new_src = str(new) if isinstance(new, int) else _format_float(new)
    return _replace(text, site, new_src), f"{site.name} {old_src} → {new_src}"


def alternatives(text: str) -> dict[str, list]:
    """The module-level DGM_ALTERNATIVES dict of a file, if any."""
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "DGM_ALTERNATIVES"
                                                for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return {}
            return {str(k): list(v) for k, v in value.items() if isinstance(v, (list, tuple))}
    return {}


def choice_sites(text: str, alts: dict[str, list]) -> list[tuple[Site, list]]:
    tree = ast.parse(text)
    lines = text.splitlines()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant):
            m = CHOICE.search(lines[node.lineno - 1])
            v = node.value
            if m and m.group(1) in alts and v.lineno == v.end_lineno and v.end_col_offset is not None:
                others = [a for a in alts[m.group(1)] if a != v.value]
                if others:
                    out.append((Site(v.lineno, v.col_offset, v.end_col_offset, m.group(1), v.value), others))
    return out


def mutate_choice(text: str, alts: dict[str, list], rng: random.Random) -> tuple[str, str] | None:
    sites = choice_sites(text, alts)
    if not sites:
        return None
    site, others = rng.choice(sites)
    new = rng.choice(others)
    return _replace(text, site, repr(new)), f"{site.name} {site.value!r} → {new!r}"


def _regions(lines: list[str]) -> list[tuple[int, int]]:
    out, start = [], None
    for i, ln in enumerate(lines, 1):
        if REGION_BEGIN.search(ln):
            start = i
        elif REGION_END.search(ln) and start is not None:
            out.append((start, i))
            start = None
    return out


def _span(stmt: ast.stmt) -> tuple[int, int]:
    first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
    return first, stmt.end_lineno or stmt.lineno


def mutate_region(text: str, rng: random.Random) -> tuple[str, str] | None:
    lines = text.splitlines(keepends=True)
    regions = _regions(lines)
    if not regions:
        return None
    tree = ast.parse(text)
    groups = []
    for node in ast.walk(tree):
        for fld in ("body", "orelse", "finalbody"):
            body = getattr(node, fld, None)
            if not isinstance(body, list):
                continue
            for lo, hi in regions:
                inside = [s for s in body if isinstance(s, ast.stmt) and lo < _span(s)[0] and _span(s)[1] < hi]
                if len(inside) >= 2 and len({_span(s)[0] for s in inside}) == len(inside):
                    groups.append((inside, len(body)))
    if not groups:
        return None
    stmts, body_len = rng.choice(groups)
    first_line = lambda s: lines[_span(s)[0] - 1].strip()[:50]  # noqa: E731
    if rng.random() < 0.5 or body_len <= 1:
        i = rng.randrange(len(stmts) - 1)
        a, b = _span(stmts[i]), _span(stmts[i + 1])
        new = (lines[:a[0] - 1] + lines[b[0] - 1:b[1]] + lines[a[1]:b[0] - 1]
               + lines[a[0] - 1:a[1]] + lines[b[1]:])
        summary = f"swap `{first_line(stmts[i])}` and `{first_line(stmts[i + 1])}`"
    else:
        s = rng.choice(stmts)
        a = _span(s)
        new = lines[:a[0] - 1] + lines[a[1]:]
        summary = f"drop `{first_line(s)}`"
    return "".join(new), summary
