"""Search-space moves a small model picks: the parent's declared parameters as a menu.

A 135M model cannot be trusted to rewrite a line of code, but it can pick an entry
from a list. When the parent declares a search space (``search.toml``), the prompt
lists each active parameter with its current value and a few valid new values (the
other choices; for a number its neighbours on the parameter's scale), and the
answer schema admits exactly those (parameter, value) pairs. Every answer that
parses therefore names a valid point of the space; what the schema cannot express,
two changes that together break a constraint or two values for one parameter, is
checked here and quoted to the model on its one retry. The values are written
through ``Space.write`` (the literals' AST positions): the agent's code is never run.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dgm.proposers.constrained import string_items
from dgm.proposers.searchspace import Param, Space, SpaceError, literal_source, load_space

MAX_VALUES = 4  # new values offered per numeric parameter
MAX_FILE_BYTES = 1 << 20  # a parameter file larger than this is not read (agent-written)


@dataclass
class Menu:
    """The parameters on offer: current values and, per name, the new values (as source text)."""
    space: Space
    files: dict[str, str]
    values: dict[str, Any]
    offers: dict[str, dict[str, Any]]  # name -> {source text of a value: the value}

    def describe(self, p: Param) -> str:
        if p.type == "choice" or p.choices:
            domain = "one of " + ", ".join(literal_source(c) for c in p.choices)
        elif p.type == "bool":
            domain = "true or false"
        else:
            domain = f"{p.type} from {literal_source(p.low)} to {literal_source(p.high)}"
            domain += " (log scale)" if p.log else ""
        return (f"- {p.name} = {literal_source(self.values[p.name])} ({domain}; in {p.file}); "
                f"new values: {', '.join(self.offers[p.name])}")

    def listing(self) -> str:
        by = self.space.by_name()
        return "\n".join(self.describe(by[n]) for n in self.offers)


def _rounded(p: Param, x: float) -> Any:
    lo = p.low if p.low is not None else -math.inf
    hi = p.high if p.high is not None else math.inf
    x = min(max(x, lo), hi)
    if p.type == "int":
        m = p.multiple_of or 1
        return int(round(x / m)) * m
    return float(f"{x:.3g}")


def neighbours(p: Param, v: Any) -> list[Any]:
    """New values for ``p`` near ``v``, nearest first (may include invalid ones; callers check)."""
    if p.type == "bool":
        return [not v]
    if p.type == "choice" or p.choices:
        return [c for c in p.choices if c != v]
    if p.log and v > 0:
        steps = [v / 2, v * 2, v / 4, v * 4, v / 1.5, v * 1.5]
    else:
        span = (p.high - p.low) if p.low is not None and p.high is not None else max(abs(v), 1.0)
        d = span / 8
        steps = [v - d, v + d, v - 2 * d, v + 2 * d]
        if p.type == "int":
            steps += [v - 1, v + 1]
    out: list[Any] = []
    for x in steps:
        new = _rounded(p, x)
        if new != v and new not in out:
            out.append(new)
    return out


def _declared_files(root: Path, space: Space) -> dict[str, str] | None:
    """The texts of the files the space's parameters live in (None: one is missing, a link,
    or outside the agent)."""
    out: dict[str, str] = {}
    base = root.resolve()
    for rel in sorted({p.file for p in space.params}):
        path = root / rel
        if path.is_symlink() or not path.is_file() or base not in path.resolve().parents \
                or path.stat().st_size > MAX_FILE_BYTES:
            return None
        try:
            out[rel] = path.read_text()
        except (OSError, UnicodeDecodeError):
            return None
    return out


def menu(parent_dir: Path, rng: random.Random | None = None) -> Menu | None:
    """The parent's menu of moves, or None when it declares no usable search space.

    ``rng`` shuffles the parameters and their values: a small model favours what comes
    first, and a fixed order would make it propose the same child again and again."""
    try:
        space = load_space(parent_dir)
        files = _declared_files(parent_dir, space) if space is not None else None
        if space is None or files is None:
            return None
        values = space.read(files)
        offers = _offers(space, values)
    # the agent wrote search.toml: a constraint it cannot evaluate means no menu, not a crash
    except (SpaceError, SyntaxError, ValueError, TypeError, RecursionError):
        return None
    if rng is not None:
        names = list(offers)
        rng.shuffle(names)
        offers = {n: dict(rng.sample(list(offers[n].items()), len(offers[n]))) for n in names}
    return Menu(space, files, values, offers) if offers else None


def _offers(space: Space, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per active parameter, up to MAX_VALUES new values that are valid when changed alone."""
    active = space.active(values)
    offers: dict[str, dict[str, Any]] = {}
    for p in space.params:
        if not active[p.name]:
            continue  # its value changes nothing now
        ok: dict[str, Any] = {}
        for new in neighbours(p, values[p.name]):
            if space.violation({**values, p.name: new}) is None:
                ok[literal_source(new)] = new
            if len(ok) == MAX_VALUES:
                break
        if ok:
            offers[p.name] = ok
    return offers


def answer_schema(m: Menu, max_changes: int = 1) -> dict:
    """JSON schema of an answer: 1..max_changes (parameter, value) pairs from the menu."""
    items = [{"type": "object",
              "properties": {"parameter": {"const": name}, "value": {"enum": list(vals)}},
              "required": ["parameter", "value"], "additionalProperties": False}
             for name, vals in m.offers.items()]
    return {"type": "object",
            "properties": {"changes": {"type": "array", "minItems": 1, "maxItems": max_changes,
                                       "items": {"anyOf": items}},
                           "summary": {"type": "string", "minLength": 10, "maxLength": 100}},
            "required": ["changes", "summary"], "additionalProperties": False}


def response_format(m: Menu, max_changes: int = 1) -> dict:
    return {"type": "json_schema",
            "json_schema": {"name": "moves", "strict": True, "schema": answer_schema(m, max_changes)}}


def parse_answer(text: str) -> tuple[str, list[tuple[str, str]]]:
    """(summary, [(parameter, value text)]); EditError says what is wrong."""
    obj, items = string_items(text, "changes", ("parameter", "value"), "change")
    return str(obj.get("summary") or "").strip(), [(c["parameter"], c["value"]) for c in items]


def apply(m: Menu, changes: list[tuple[str, str]]) -> tuple[dict[str, str], list[str], list[str]]:
    """(changed file texts, applied, errors): nothing is written here."""
    values = dict(m.values)
    applied: list[str] = []
    errors: list[str] = []
    seen: set[str] = set()
    for name, text in changes:
        offer = m.offers.get(name)
        if offer is None:
            errors.append(f"{name!r} is not a parameter on the list; pick one of "
                          f"{', '.join(m.offers)}")
        elif text not in offer:
            errors.append(f"{text!r} is not a listed new value of {name}; pick one of "
                          f"{', '.join(offer)}")
        elif name in seen:
            errors.append(f"{name} is changed twice; change each parameter once")
        else:
            seen.add(name)
            values[name] = offer[text]
            applied.append(f"{name} = {text}")
    if not errors:
        try:
            why = m.space.violation(values)
        except (SpaceError, TypeError, ValueError) as exc:
            why = str(exc)
        if why:
            errors.append(f"together these changes are invalid: {why}; change fewer parameters")
    if errors:
        return {}, applied, errors
    new = m.space.write(m.files, values)
    if not new:
        return {}, applied, ["no change: every value equals the current one"]
    return new, applied, []

