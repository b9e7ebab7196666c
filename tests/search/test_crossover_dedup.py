"""Crossover is a real three-way git merge with a second parent; duplicates are recognised."""

import random
import shutil
from pathlib import Path

from dgm.archive.store import Archive
from dgm.engine.dedup import fingerprint, fingerprint_dir, read_tree
from dgm.proposers.base import ProposeContext
from dgm.proposers.crossover import merge
from dgm.proposers.mutation import MutationProposer
from dgm.proposers.textdiff import file_diff

TOY = Path(__file__).resolve().parents[1] / "loop" / "toy" / "agent"


def admitted_child(a, parent, old, new, score):
    code = a.git.read_file(a.agent(parent).commit_sha, "predict.py").decode()
    assert old in code
    r = a.add_child(parent, file_diff("predict.py", code, code.replace(old, new)),
                    summary=f"{old} -> {new}", proposer="t")
    a.set_status(r.agent_id, "evaluating")
    a.set_status(r.agent_id, "admitted")
    a.db.execute("UPDATE agents SET score=? WHERE id=?", [score, r.agent_id])
    return r.agent_id


def spaced_toy(tmp_path):
    """The toy agent with a line between its constants (adjacent edits conflict in a line merge)."""
    d = tmp_path / "toy"
    shutil.copytree(TOY, d)
    code = (d / "predict.py").read_text()
    for name in ("offset = 0.5", 'rounding = "none"'):
        code = code.replace(name, "# --\n" + name)
    (d / "predict.py").write_text(code)
    return d


def archive_with_two_lines(tmp_path, agent=None):
    a = Archive.create(tmp_path / "arch")
    seed = a.add_seed(agent or spaced_toy(tmp_path))
    a.set_status(seed, "evaluating")
    a.set_status(seed, "admitted")
    a.db.execute("UPDATE agents SET score=0.3 WHERE id=?", [seed])
    left = admitted_child(a, seed, "slope = 1.0", "slope = 3.0", 0.6)
    left2 = admitted_child(a, left, 'rounding = "none"', 'rounding = "half"', 0.5)
    right = admitted_child(a, seed, "offset = 0.5", "offset = 2.0", 0.7)
    return a, seed, left, left2, right


def test_crossover_merges_both_lines_changes_and_records_a_second_parent(tmp_path):
    a, seed, left, left2, right = archive_with_two_lines(tmp_path)
    parent_dir = a.materialize(left2, tmp_path / "p")
    mp = MutationProposer(weights={"crossover": 1.0})
    p = mp.propose(ProposeContext(parent_id=left2, parent_dir=parent_dir, rng=random.Random(0),
                                  archive=a, work_dir=tmp_path))
    assert p.meta["operator"] == "crossover" and p.meta["base"] == seed
    donor = p.meta["second_parent"]
    assert donor == right  # left is an ancestor: no crossover with one's own line
    res = a.add_child(left2, p.diff, summary=p.summary, proposer="mutation", meta=p.meta)
    assert res.ok, res.reason
    code = a.git.read_file(a.agent(res.agent_id).commit_sha, "predict.py").decode()
    # the parent's two changes and the donor's, in one file: a real three-way merge
    assert "slope = 3.0" in code and 'rounding = "half"' in code and "offset = 2.0" in code
    assert a.agent(res.agent_id).parent == left2
    edges = a.query("SELECT src, kind FROM edges WHERE dst=? ORDER BY kind", [res.agent_id])
    assert edges == [(right, "crossover"), (left2, "parent")]
    assert a.proposal_meta(res.agent_id)["second_parent"] == right
    assert a.check() == []


def test_conflicting_changes_do_not_merge(tmp_path):
    a, seed, left, left2, right = archive_with_two_lines(tmp_path)
    clash = admitted_child(a, seed, "slope = 1.0", "slope = 5.0", 0.65)  # the line left changed
    assert merge(a, left, clash) is None
    assert merge(a, left, seed) is None  # an ancestor: a fast-forward, not a crossover
    m = merge(a, left, right)
    assert m is not None and "+offset = 2.0" in m.diff.splitlines()
    assert not [ln for ln in m.diff.splitlines() if ln.startswith(("+slope", "-slope"))]


CONFIG_SPACE = b'''file = "config.py"
[[param]]
name = "a"
path = "CFG.a"
type = "int"
low = 1
high = 100
[[param]]
name = "b"
path = "CFG.b"
type = "int"
low = 1
high = 100
'''


def test_adjacent_parameter_edits_merge_value_by_value(tmp_path):
    agent = tmp_path / "cfg"
    agent.mkdir()
    (agent / "search.toml").write_bytes(CONFIG_SPACE)
    (agent / "config.py").write_text('CFG = {\n    "a": 1,\n    "b": 2,\n}\n')
    a = Archive.create(tmp_path / "arch")
    seed = a.add_seed(agent)
    kids = []
    for old, new in (('"a": 1', '"a": 5'), ('"b": 2', '"b": 7')):
        r = a.add_child(seed, file_diff("config.py", (agent / "config.py").read_text(),
                                        (agent / "config.py").read_text().replace(old, new)),
                        summary=new, proposer="t")
        kids.append(r.agent_id)
    from dgm.proposers.searchspace import load_space
    space = load_space(agent)
    assert merge(a, kids[0], kids[1]) is None  # adjacent lines: git's line merge conflicts
    m = merge(a, kids[0], kids[1], space)
    lines = m.diff.splitlines()
    assert '+    "b": 7,' in lines and '-    "b": 2,' in lines  # the donor's value ...
    assert not [ln for ln in lines if ln.startswith(('+    "a"', '-    "a"'))]  # ... ours kept


def test_quote_style_comments_and_docstrings_do_not_change_the_fingerprint(tmp_path):
    files = read_tree(TOY)
    base = fingerprint(files)
    code = files["predict.py"].decode()
    same = code.replace('rounding = "none"', "rounding = 'none'").replace(
        '"""Toy agent', '"""A different docstring. Toy agent') + "\n# a comment\n"
    assert fingerprint({**files, "predict.py": same.encode()}) == base
    other = code.replace("offset = 0.5", "offset = 0.6")
    assert fingerprint({**files, "predict.py": other.encode()}) != base
    assert fingerprint({**files, "agent.toml": files["agent.toml"] + b"\n# x\n"}) != base  # bytes


SPACE = b'''file = "config.py"
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
'''


def test_a_parameter_the_configuration_never_uses_is_not_a_change():
    files = {"search.toml": SPACE, "config.py": b'optimizer = "adamw"\nCFG = {"momentum": 0.9}\n'}
    base = fingerprint(files)
    assert fingerprint({**files, "config.py": b'optimizer = "adamw"\nCFG = {"momentum": 0.5}\n'}) == base
    # under sgd the momentum is read: then it is a real change
    sgd = fingerprint({**files, "config.py": b'optimizer = "sgd"\nCFG = {"momentum": 0.9}\n'})
    assert sgd != fingerprint({**files, "config.py": b'optimizer = "sgd"\nCFG = {"momentum": 0.5}\n'})


def test_the_metalearner_fingerprint_is_stable_across_checkouts(tmp_path):
    meta = Path(__file__).resolve().parents[2] / "agents" / "metalearner"
    shutil.copytree(meta, tmp_path / "m", ignore=shutil.ignore_patterns("__pycache__"))
    assert fingerprint_dir(tmp_path / "m") == fingerprint_dir(meta)
