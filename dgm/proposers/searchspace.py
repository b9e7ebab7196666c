"""An agent's declared search space (``search.toml`` beside its code), read as data.

The file names the parameters evolution may change, where each lives (a
module-level literal ``x`` or a dict entry ``D.key`` of one Python file), its
type and range, and the constraints a configuration must meet::

    file = "config.py"                    # default file of the parameters
    statement_edits = []                  # files whose `# dgm: region` edits are safe
    constraints = ["d_model % n_heads == 0"]

    [[param]]
    name = "d_model"                      # the name constraints use
    path = "SMALL.d_model"
    type = "int"                          # int | float | choice | bool
    low = 16
    high = 512
    log = true                            # moves by factors
    multiple_of = 8                       # optional (int)

    [[param]]
    name = "momentum"
    path = "SMALL.momentum"
    type = "float"
    low = 0.0
    high = 0.99
    when = "optimizer == 'sgd'"           # inactive otherwise: its value changes nothing

    [[param]]
    name = "train_steps"
    type = "int"
    low = 50
    high = 4000
    spends = "train_flops"                # cost in proportion to the value (the spend operator)

Values are read from and written to the source as literals through the AST:
no agent code is ever run on the host. Constraints and ``when`` are small
expressions (arithmetic, comparisons, and/or/not) over parameter names,
evaluated by a whitelist interpreter.
"""

from __future__ import annotations

import ast
import math
import operator
import random
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dgm.errors import ConfigError

SPACE_FILE = "search.toml"
# CPython 3.11's ast module is not thread-safe ("AST constructor recursion depth
# mismatch" when two threads parse at once), and proposals run in parallel: every
# proposer that parses agent code holds this lock.
AST_LOCK = threading.Lock()
TYPES = ("int", "float", "choice", "bool")


@dataclass(frozen=True)
class Param:
    name: str
    path: str
    file: str
    type: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()
    multiple_of: int | None = None
    when: str | None = None
    sigma: float = 0.5  # log-scale step (log params) or fraction of the range (linear)
    spends: str | None = None  # the compute key whose cost grows with this value (spend.py)

    def valid(self, v: Any) -> bool:
        if self.type == "bool":
            return isinstance(v, bool)
        if self.type == "choice":
            return v in self.choices
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        if self.type == "int" and not isinstance(v, int):
            return False
        if self.choices:
            return v in self.choices
        if self.low is not None and v < self.low or self.high is not None and v > self.high:
            return False
        return not (self.multiple_of and v % self.multiple_of)


@dataclass
class Space:
    params: list[Param]
    constraints: list[str] = field(default_factory=list)
    statement_edits: list[str] = field(default_factory=list)

    def by_name(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    # -- reading and writing the source ---------------------------------------
    def read(self, files: dict[str, str]) -> dict[str, Any]:
        """Current values of every parameter, from the agent's file texts."""
        out = {}
        trees: dict[str, ast.Module] = {}
        for p in self.params:
            if p.file not in files:
                raise SpaceError(f"{SPACE_FILE}: parameter {p.name}: no file {p.file}")
            tree = trees.setdefault(p.file, ast.parse(files[p.file]))
            out[p.name] = constant(locate(tree, p.path))
        return out

    def write(self, files: dict[str, str], values: dict[str, Any]) -> dict[str, str]:
        """The texts with ``values`` written over the parameters' literals (changed files only)."""
        out: dict[str, str] = {}
        by_file: dict[str, list[Param]] = {}
        for p in self.params:
            if p.name in values:
                by_file.setdefault(p.file, []).append(p)
        for fname, params in by_file.items():
            text = files[fname]
            tree = ast.parse(text)
            edits = []
            for p in params:
                node = locate(tree, p.path)
                if constant(node) == values[p.name] and type(constant(node)) is type(values[p.name]):
                    continue
                edits.append((node, literal_source(values[p.name], _segment(text, node))))
            new = text
            lines = text.splitlines(keepends=True)
            offsets = [0]
            for ln in lines:
                offsets.append(offsets[-1] + len(ln.encode()))
            data = text.encode()
            for node, src in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
                a = offsets[node.lineno - 1] + node.col_offset
                # parsed nodes always carry their end position (Python >= 3.8)
                assert node.end_lineno is not None and node.end_col_offset is not None
                b = offsets[node.end_lineno - 1] + node.end_col_offset
                data = data[:a] + src.encode() + data[b:]
            new = data.decode()
            if new != text:
                out[fname] = new
        return out

    # -- validity ---------------------------------------------------------------
    def active(self, values: dict[str, Any]) -> dict[str, bool]:
        return {p.name: p.when is None or bool(safe_eval(p.when, values)) for p in self.params}

    def violation(self, values: dict[str, Any]) -> str | None:
        """Why ``values`` is not a valid point (None: it is)."""
        for p in self.params:
            if not p.valid(values.get(p.name)):
                return f"{p.name} = {values.get(p.name)!r} is outside its declared range"
        for c in self.constraints:
            try:
                ok = bool(safe_eval(c, values))
            except ZeroDivisionError:
                ok = False
            if not ok:
                return f"constraint `{c}` does not hold"
        return None

    # -- sampling -----------------------------------------------------------------
    def mutate(self, values: dict[str, Any], rng: random.Random, names: list[str],
               tries: int = 64) -> dict[str, Any] | None:
        """A valid point that differs from ``values`` in the parameters ``names`` (each
        moved once; a constraint may need several tries), or None when none is found."""
        by = self.by_name()
        for _ in range(tries):
            new = dict(values)
            for n in names:
                new[n] = move(by[n], values[n], rng)
            if all(new[n] != values[n] for n in names) and self.violation(new) is None:
                return new
        return None


class SpaceError(ConfigError):
    """The agent's search.toml is malformed (one line, naming the entry)."""


class NotConstant(SpaceError):
    """A parameter's value is computed (it names something, calls something): it has no
    value the host can know without running the agent."""


def constant(node: ast.expr) -> Any:
    """The value of a parameter's node: a literal, or arithmetic over numeric literals
    (``0.5 * 3e-3``, ``-1``, ``2 ** 10``), evaluated within ``_arith``'s bounds."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    try:
        return _eval(node, {}, ast.unparse(node)[:80])
    except SpaceError as exc:
        raise NotConstant(f"{SPACE_FILE}: a parameter is computed, not a constant ({exc})") from None


def locate(tree: ast.Module, path: str) -> ast.expr:
    """The literal node at ``path`` (``x`` or ``D.key``) among the module's assignments."""
    head, _, key = path.partition(".")
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else []
        if not any(isinstance(t, ast.Name) and t.id == head for t in targets):
            continue
        assert isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None  # targets says so
        value = node.value
        if not key:
            return value
        if isinstance(value, ast.Dict):
            for k, v in zip(value.keys, value.values):
                if isinstance(k, ast.Constant) and k.value == key:
                    return v
    raise SpaceError(f"{SPACE_FILE}: no literal {path} in the file")


def _segment(text: str, node: ast.AST) -> str:
    return ast.get_source_segment(text, node) or ""


def literal_source(value: Any, old_src: str = "") -> str:
    """Source for a literal, in the old literal's quote style where it had one."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        s = f"{value:.4g}"
        return s if any(ch in s for ch in ".e") or not s.lstrip("-").isdigit() else s + ".0"
    if isinstance(value, str):
        r = repr(value)
        if old_src.startswith('"') and '"' not in value and "\\" not in value:
            return '"' + value + '"'
        return r
    return repr(value)


def move(p: Param, v: Any, rng: random.Random) -> Any:
    """One random move of parameter ``p`` from value ``v`` (may be invalid; callers check)."""
    if p.type == "bool":
        return not v
    if p.type == "choice" or p.choices:
        others = [c for c in p.choices if c != v]
        return rng.choice(others) if others else v
    lo = p.low if p.low is not None else -math.inf
    hi = p.high if p.high is not None else math.inf
    if p.log and v > 0:
        new = v * math.exp(rng.gauss(0.0, p.sigma))
    else:
        span = (hi - lo) if math.isfinite(hi - lo) else max(abs(v), 1.0)
        new = v + rng.gauss(0.0, p.sigma * span / 2)
    new = min(max(new, lo), hi)
    if p.type == "int":
        m = p.multiple_of or 1
        new = int(round(new / m)) * m
        if new == v:  # the step rounded away: take the neighbour in the drawn direction
            new = v + (m if rng.random() < 0.5 else -m)
        return int(new)
    return float(f"{new:.4g}")


# -- the expression interpreter ---------------------------------------------------
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
        ast.Pow: operator.pow}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
        ast.NotIn: lambda a, b: a not in b}


def safe_eval(expr: str, names: dict[str, Any]) -> Any:
    """Evaluate a constraint expression over ``names``; anything else is a SpaceError."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise SpaceError(f"{SPACE_FILE}: `{expr}` is not an expression") from None
    return _eval(tree.body, names, expr)


_MAX_BITS = 4096  # search.toml and the parameter files are the agent's: no 10 ** 10 ** 9


def _arith(op: ast.operator, a: Any, b: Any, expr: str) -> Any:
    """``a op b`` within bounds: sequences only add, ints stay under _MAX_BITS bits."""
    numbers = all(isinstance(v, (int, float)) for v in (a, b))
    if not numbers and not isinstance(op, ast.Add):
        raise SpaceError(f"{SPACE_FILE}: `{expr}` applies {type(op).__name__} to a non-number")
    if isinstance(op, ast.Pow) and isinstance(a, int) and isinstance(b, int) and \
            abs(b) * max(1, abs(a).bit_length()) > _MAX_BITS:
        raise SpaceError(f"{SPACE_FILE}: `{expr}` is too large")
    try:
        out = _BIN[type(op)](a, b)
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise SpaceError(f"{SPACE_FILE}: `{expr}`: {exc}") from None
    if isinstance(out, int) and out.bit_length() > _MAX_BITS or \
            isinstance(out, (str, tuple)) and len(out) > 100_000:
        raise SpaceError(f"{SPACE_FILE}: `{expr}` is too large")
    return out


def _eval(n: ast.AST, names: dict[str, Any], expr: str) -> Any:
    if isinstance(n, ast.Constant):
        return n.value
    if isinstance(n, ast.Name):
        if n.id not in names:
            raise SpaceError(f"{SPACE_FILE}: `{expr}` names {n.id}, which is no parameter")
        return names[n.id]
    if isinstance(n, (ast.Tuple, ast.List)):
        return tuple(_eval(e, names, expr) for e in n.elts)
    if isinstance(n, ast.BinOp) and type(n.op) in _BIN:
        return _arith(n.op, _eval(n.left, names, expr), _eval(n.right, names, expr), expr)
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.Not, ast.UAdd)):
        v = _eval(n.operand, names, expr)
        return -v if isinstance(n.op, ast.USub) else (not v) if isinstance(n.op, ast.Not) else +v
    if isinstance(n, ast.BoolOp):
        vals = (_eval(v, names, expr) for v in n.values)
        return all(vals) if isinstance(n.op, ast.And) else any(vals)
    if isinstance(n, ast.Compare) and all(type(o) in _CMP for o in n.ops):
        left = _eval(n.left, names, expr)
        for op, right_node in zip(n.ops, n.comparators):
            right = _eval(right_node, names, expr)
            if not _CMP[type(op)](left, right):
                return False
            left = right
        return True
    raise SpaceError(f"{SPACE_FILE}: `{expr}` uses {type(n).__name__}, which constraints cannot")


# -- loading --------------------------------------------------------------------
def load_space(agent_dir: Path, files: dict[str, str] | None = None) -> Space | None:
    """The agent's search space, or None when it declares none; SpaceError when malformed."""
    path = Path(agent_dir) / SPACE_FILE
    if not path.is_file():
        return None
    return parse_space(path.read_text(), files)


def parse_space(text: str, files: dict[str, str] | None = None) -> Space:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpaceError(f"{SPACE_FILE}: not valid TOML: {exc}") from None
    default_file = data.get("file")
    params = []
    for i, raw in enumerate(data.get("param", [])):
        where = f"{SPACE_FILE}: param {raw.get('name', i)}"
        unknown = set(raw) - {"name", "path", "file", "type", "low", "high", "log", "choices",
                              "multiple_of", "when", "sigma", "spends"}
        if unknown:
            raise SpaceError(f"{where}: unknown key {sorted(unknown)[0]}")
        if "name" not in raw or raw.get("type") not in TYPES:
            raise SpaceError(f"{where}: needs a name and a type ({' | '.join(TYPES)})")
        file = raw.get("file", default_file)
        if not file:
            raise SpaceError(f"{where}: no file (set `file` at the top or in the param)")
        p = Param(raw["name"], raw.get("path", raw["name"]), file, raw["type"], raw.get("low"),
                  raw.get("high"), bool(raw.get("log", False)), tuple(raw.get("choices", ())),
                  raw.get("multiple_of"), raw.get("when"), float(raw.get("sigma", 0.5)),
                  raw.get("spends"))
        if p.type == "choice" and len(p.choices) < 2:
            raise SpaceError(f"{where}: a choice needs at least two choices")
        if p.type in ("int", "float") and not p.choices and (p.low is None or p.high is None):
            raise SpaceError(f"{where}: a number needs low and high (or choices)")
        if p.spends is not None and (not isinstance(p.spends, str) or p.type not in ("int", "float")
                                     or p.choices):
            raise SpaceError(f"{where}: `spends` names a compute key (a string), on a numeric range")
        if p.log and (p.low is None or p.low <= 0):
            raise SpaceError(f"{where}: a log-scale parameter needs low > 0")
        params.append(p)
    if len({p.name for p in params}) != len(params):
        raise SpaceError(f"{SPACE_FILE}: a parameter name is declared twice")
    space = Space(params, list(data.get("constraints", [])), list(data.get("statement_edits", [])))
    if files is not None:  # the declared points must exist, and the seed must be valid
        values = space.read(files)
        for expr in space.constraints + [p.when for p in params if p.when]:
            safe_eval(expr, values)
    return space
