"""The spend operator: grow a compute-buying parameter when the parent's stages left budget unused."""

import json
import math
import random
import shutil
from pathlib import Path

import pytest

from dgm.archive.store import Archive
from dgm.proposers.base import ProposalRejected, ProposeContext
from dgm.proposers.mutation import MutationProposer, python_files
from dgm.proposers.searchspace import SpaceError, load_space, parse_space
from dgm.proposers.spend import budget_shares, spend_move

ROOT = Path(__file__).resolve().parents[2]
META = ROOT / "agents" / "metalearner"


class Row:
    def __init__(self, task_id: str, score: float):
        self.task_id, self.score, self.resolved, self.seconds, self.log = task_id, score, True, 1.0, ""


def _evaluated_seed(tmp_path: Path, computes: list[dict], agent: Path = META) -> tuple[Archive, str]:
    a = Archive.create(tmp_path / "arch")
    seed = a.add_seed(agent)
    for stage, compute in enumerate(computes):
        a.record_evaluation(seed, "icl", stage, [Row(f"t{stage}", 0.5)],
                            artifacts={"stage.json": json.dumps({"score": 0.5, "compute": compute})})
    return a, seed


def _propose(a: Archive, parent: str, tmp_path: Path, seed: int, **kw):
    d = tmp_path / f"p{seed}"
    shutil.rmtree(d, ignore_errors=True)
    a.materialize(parent, d)
    ctx = ProposeContext(parent_id=parent, parent_dir=d, rng=random.Random(seed), archive=a, work_dir=tmp_path)
    return MutationProposer({"spend": 1.0}, **kw).propose(ctx)


def test_a_parent_with_headroom_gets_a_valid_child_that_spends_more(tmp_path):
    a, seed = _evaluated_seed(tmp_path, [{"train_flops": 5e11, "train_flops_budget": 4e12}])
    space = load_space(META, python_files(META))
    before = space.read(python_files(META))
    grown = set()
    for s in range(12):
        p = _propose(a, seed, tmp_path, s, bandit=s % 2 == 0)
        assert p.meta["operator"] == "spend" and p.meta["budget_used"] == {"train_flops": 0.125}
        (name, (old, new)), = p.meta["changes"].items()
        assert old == before[name] and new == 2 * old  # min(2, 0.9 / 0.125) = 2
        grown.add(name)
        res = a.add_child(seed, p.diff, summary=p.summary, proposer="mutation", meta=p.meta)
        assert res.ok, res.reason
        after = space.read(python_files(a.materialize(res.agent_id, tmp_path / f"c{s}")))
        assert space.violation(after) is None
        assert {n for n in after if after[n] != before[n]} == {name}
        assert "12% of budget" in p.summary
    assert grown == {"train_steps", "batch_size"}  # the two parameters the space says spend FLOPs


def test_no_headroom_or_no_record_means_no_spend_move(tmp_path):
    for compute in ([{"train_flops": 2.4e12, "train_flops_budget": 4e12}],  # 60 % used
                    [{"train_flops": 1e11, "train_flops_budget": 4e12},  # the largest share counts
                     {"train_flops": 3e12, "train_flops_budget": 4e12}],
                    [{"predict_flops": 1e9, "predict_flops_budget": 1e12}],  # nothing spends predict
                    []):  # never evaluated
        a, seed = _evaluated_seed(tmp_path / str(len(list(tmp_path.iterdir()))), compute)
        with pytest.raises(ProposalRejected, match="no applicable mutation"):
            _propose(a, seed, tmp_path, 0)


def test_forged_or_malformed_compute_records_are_ignored(tmp_path):
    a = Archive.create(tmp_path / "arch")
    seed = a.add_seed(META)
    bad = ["not json", json.dumps([1, 2]), json.dumps({"compute": "lots"}),
           json.dumps({"compute": {"train_flops": True, "train_flops_budget": 4e12}}),
           json.dumps({"compute": {"train_flops": -1.0, "train_flops_budget": 4e12}}),
           json.dumps({"compute": {"train_flops": "1", "train_flops_budget": 4e12}}),
           json.dumps({"compute": {"train_flops": 1.0, "train_flops_budget": 0}}),
           '{"compute": {"train_flops": NaN, "train_flops_budget": 4e12}}']
    for stage, text in enumerate(bad):
        a.record_evaluation(seed, "icl", stage, [Row(f"t{stage}", 0.5)], artifacts={"stage.json": text})
    a.record_evaluation(seed, "icl", 99, [Row("t99", 0.5)],
                        artifacts={"notes.json": json.dumps({"compute": {"train_flops": 1,
                                                                         "train_flops_budget": 100}})})
    assert budget_shares(a, seed) == {}
    assert budget_shares(None, seed) == {}


SPACE_TOML = """
file = "config.py"
constraints = ["warmup < steps"]
[[param]]
name = "steps"
type = "int"
low = 10
high = 4000
multiple_of = 10
spends = "train_flops"
[[param]]
name = "warmup"
type = "int"
low = 1
high = 5000
[[param]]
name = "width"
type = "int"
low = 8
high = 64
spends = "train_flops"
when = "steps > 100000"
"""


def test_a_move_stays_on_the_grid_under_high_and_inside_the_constraints():
    space = parse_space(SPACE_TOML)
    rng = random.Random(0)
    # 0.2 used: factor min(2, 4.5) = 2, but high caps 3000 -> 4000; width is inactive
    changes, new, used = spend_move(space, {"steps": 3000, "warmup": 10, "width": 8},
                                    {"train_flops": 0.2}, rng)
    assert changes == {"steps": [3000, 4000]} and used == {"train_flops": 0.2}
    # 0.45 used: factor 0.9 / 0.45 = 2.0; 0.49: 1.84 -> 1830 -> the grid of 10
    assert spend_move(space, {"steps": 1000, "warmup": 1, "width": 8}, {"train_flops": 0.49},
                      rng)[0] == {"steps": [1000, 1830]}
    assert spend_move(space, {"steps": 4000, "warmup": 1, "width": 8}, {"train_flops": 0.1}, rng) is None
    assert spend_move(space, {"steps": 1000, "warmup": 1, "width": 8}, {"train_flops": 0.5}, rng) is None
    assert spend_move(space, {"steps": 1000, "warmup": 1, "width": 8}, {"train_flops": 0.0}, rng) is None
    assert spend_move(space, {"steps": 1000, "warmup": 1, "width": 8}, {"train_flops": math.nan}, rng) is None


def test_a_move_that_would_break_a_constraint_is_not_offered():
    space = parse_space(SPACE_TOML.replace('constraints = ["warmup < steps"]',
                                           'constraints = ["steps + warmup <= 3000"]'))
    assert spend_move(space, {"steps": 2000, "warmup": 900, "width": 8}, {"train_flops": 0.1},
                      random.Random(0)) is None


@pytest.mark.parametrize("extra", ['spends = 3', 'type = "choice"\nchoices = ["a", "b"]\nspends = "x"'])
def test_spends_must_name_a_key_on_a_numeric_range(extra):
    body = 'file = "c.py"\n[[param]]\nname = "p"\n' + (
        extra if "choice" in extra else f'type = "int"\nlow = 1\nhigh = 9\n{extra}')
    with pytest.raises(SpaceError, match="spends"):
        parse_space(body)
