"""The declared search space: loading, validity, sampling only valid points, writing back."""

import random
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from dgm.archive.store import Archive
from dgm.proposers.base import ProposeContext
from dgm.proposers.mutation import MutationProposer, python_files
from dgm.proposers.searchspace import SpaceError, load_space, parse_space, safe_eval

ROOT = Path(__file__).resolve().parents[2]
META = ROOT / "agents" / "metalearner"
FILES = python_files(META)
SPACE = load_space(META, FILES)
SEED_VALUES = SPACE.read(FILES)


def test_the_metalearner_declares_its_space_and_the_seed_is_a_valid_point():
    assert SPACE.violation(SEED_VALUES) is None
    names = {p.name for p in SPACE.params}
    assert {"d_model", "n_heads", "lr", "optimizer", "activation", "train_steps"} <= names
    assert "constraint `warmup_steps < train_steps`" in SPACE.violation({**SEED_VALUES, "train_steps": 60, "warmup_steps": 100})
    assert SPACE.statement_edits == []  # the training step's region is not safe to edit
    assert SPACE.violation({**SEED_VALUES, "n_heads": 3}) is not None  # not even a choice
    assert "d_model % n_heads" in SPACE.violation({**SEED_VALUES, "d_model": 36, "n_heads": 8})


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 3), steps=st.integers(1, 4))
def test_mutation_never_samples_an_invalid_config(seed, k, steps):
    """A random walk of moves (single and multi-parameter) stays inside the space."""
    rng = random.Random(seed)
    values = dict(SEED_VALUES)
    for _ in range(steps):
        names = rng.sample([p.name for p in SPACE.params], k)
        new = SPACE.mutate(values, rng, names)
        if new is None:
            continue
        assert SPACE.violation(new) is None, (names, new)
        assert all(new[n] != values[n] for n in names)
        assert {n for n in new if new[n] != values[n]} <= set(names)
        values = new
    files = dict(FILES)
    files.update(SPACE.write(files, values))
    assert SPACE.read(files) == values  # written as literals, read back the same
    compile(files["config.py"], "config.py", "exec")


def test_proposals_on_the_metalearner_are_valid_and_apply(tmp_path):
    a = Archive.create(tmp_path / "arch")
    seed = a.add_seed(META)
    ops = set()
    for s in range(30):
        d = tmp_path / f"p{s}"
        shutil.copytree(META, d)
        ctx = ProposeContext(parent_id=seed, parent_dir=d, rng=random.Random(s), archive=a, work_dir=tmp_path)
        p = MutationProposer().propose(ctx)
        ops.add(p.meta["operator"])
        assert p.meta["operator"] in ("numeric", "choice", "multi")  # nothing else applies yet
        assert "train.py" not in p.diff  # only declared parameters move
        res = a.add_child(seed, p.diff, summary=p.summary, proposer="mutation", meta=p.meta)
        assert res.ok, res.reason
        child = a.materialize(res.agent_id, tmp_path / f"c{s}")
        values = SPACE.read(python_files(child))
        assert SPACE.violation(values) is None
        assert {n for n in values if values[n] != SEED_VALUES[n]} == set(p.meta["changes"])
        assert a.proposal_meta(res.agent_id)["changes"] == p.meta["changes"]
    assert ops == {"numeric", "choice", "multi"}


def test_inactive_parameters_are_never_moved(tmp_path):
    space = parse_space(SPACE_TOML)
    files = {"config.py": CONFIG}
    values = space.read(files)
    assert space.active(values) == {"optimizer": True, "momentum": False, "lr": True}
    agent = tmp_path / "agent"
    agent.mkdir()
    (agent / "config.py").write_text(CONFIG)
    (agent / "search.toml").write_text(SPACE_TOML)
    moved = set()
    for s in range(40):
        ctx = ProposeContext(parent_id="1", parent_dir=agent, rng=random.Random(s), archive=None,
                             work_dir=tmp_path)
        p = MutationProposer().propose(ctx)
        moved |= set(p.meta["changes"])
    assert moved == {"optimizer", "lr"}  # momentum only matters (and moves) under sgd


SPACE_TOML = '''
file = "config.py"
constraints = ["lr < 1"]
[[param]]
name = "optimizer"
type = "choice"
choices = ["adamw", "sgd"]
[[param]]
name = "momentum"
path = "CFG.momentum"
type = "float"
low = 0.0
high = 0.99
when = "optimizer == 'sgd'"
[[param]]
name = "lr"
path = "CFG.lr"
type = "float"
low = 1e-5
high = 0.5
log = true
'''
CONFIG = 'optimizer = "adamw"\nCFG = {"lr": 1e-3, "momentum": 0.9}\n'


@pytest.mark.parametrize("text, message", [
    ("[[param]]\nname = 'x'\ntype = 'int'\nfile = 'c.py'\n", "needs low and high"),
    ("[[param]]\nname = 'x'\ntype = 'weird'\n", "needs a name and a type"),
    ("[[param]]\nname = 'x'\ntype = 'float'\nlow = 0.0\nhigh = 1.0\nlog = true\nfile = 'c.py'\n",
     "log-scale parameter needs low > 0"),
    ("[[param]]\nname = 'x'\ntype = 'choice'\nchoices = [1]\nfile = 'c.py'\n", "at least two"),
    ("[[param]]\nname = 'x'\ntype = 'bool'\nfile = 'c.py'\ncolour = 1\n", "unknown key colour"),
    ("not toml [", "not valid TOML"),
])
def test_a_malformed_space_is_one_clear_error(text, message):
    with pytest.raises(SpaceError, match=message):
        parse_space(text)


def test_constraint_expressions_cannot_call_or_reach_attributes():
    assert safe_eval("a % b == 0 and not c", {"a": 8, "b": 4, "c": False}) is True
    for bad in ("__import__('os')", "a.__class__", "[x for x in a]", "f(a)"):
        with pytest.raises(SpaceError):
            safe_eval(bad, {"a": 1, "f": print})
    with pytest.raises(SpaceError, match="no parameter"):
        safe_eval("zz > 1", {"a": 1})


def test_constraints_and_values_are_bounded_arithmetic():
    """search.toml and the parameter files are the agent's: no host-hanging arithmetic."""
    for huge in ("10 ** 10 ** 9", "a ** 100000", "'x' * 10 ** 9", "(1,) * 10 ** 9"):
        with pytest.raises(SpaceError):
            safe_eval(huge, {"a": 3})
    assert safe_eval("2 ** 10 + a", {"a": 1}) == 1025


def test_computed_values_read_as_numbers_and_names_are_not_rejected(tmp_path):
    """`"lr": 0.5 * 3e-3` is a number the pre-check can check; a value computed from a name
    has none the host can know: the pre-check leaves it to the evaluation."""
    from dgm.engine.precheck import static_check

    line = next(ln for ln in (META / "config.py").read_text().splitlines() if '"lr": ' in ln)
    for new, check in ((line.replace('"lr": ', '"lr": 0.5 * '), True),
                       (line.replace('"lr": ', '"lr": len("ab") * '), False)):
        child = tmp_path / f"child-{check}"
        shutil.copytree(META, child)
        (child / "config.py").write_text((META / "config.py").read_text().replace(line, new))
        assert static_check(child, META) is None
        if check:
            values = load_space(child).read(python_files(child))
            assert values["lr"] == pytest.approx(0.5 * SEED_VALUES["lr"])
    big = tmp_path / "child-big"
    shutil.copytree(META, big)
    (big / "config.py").write_text((META / "config.py").read_text().replace(
        line, line.replace('"lr": ', '"lr": 1e300 ** 1e300 * ')))
    assert static_check(big, META) is None  # an overflow is no constant: not the host's to judge
