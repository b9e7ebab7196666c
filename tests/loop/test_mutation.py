"""The offline mutation proposer: real, seeded code edits that git applies."""

import random
import shutil
import tempfile
from pathlib import Path

import pytest

from dgm.archive.store import Archive
from dgm.proposers.base import ProposalRejected, ProposeContext
from dgm.proposers.mutation import MutationProposer
from dgm.proposers.pyedit import mutate_number, mutate_region, numeric_sites, perturb_value
from dgm.proposers.textdiff import file_diff

TOY = Path(__file__).parent / "toy" / "agent"


def ctx(tmp_path, archive=None, parent="000001", seed=0, src=TOY):
    d = Path(tempfile.mkdtemp(dir=tmp_path)) / "parent"
    shutil.copytree(src, d)
    return ProposeContext(parent_id=parent, parent_dir=d, rng=random.Random(seed), archive=archive,
                          work_dir=tmp_path)


def test_proposals_apply_to_the_archive_and_are_reproducible(tmp_path):
    a = Archive.create(tmp_path / "arch")
    seed = a.add_seed(TOY)
    summaries = []
    for s in range(12):
        p = MutationProposer().propose(ctx(tmp_path, a, seed, s))
        res = a.add_child(seed, p.diff, summary=p.summary, proposer="mutation")
        assert res.ok, (p.summary, res.reason)
        summaries.append(p.summary)
    assert any("slope" in s or "offset" in s for s in summaries)
    assert any("rounding" in s for s in summaries)
    assert a.check() == []
    for s in range(5):  # same seed, same parent -> same proposal
        p1 = MutationProposer().propose(ctx(tmp_path, a, seed, s))
        p2 = MutationProposer().propose(ctx(tmp_path, a, seed, s))
        assert (p1.diff, p1.summary) == (p2.diff, p2.summary)


def test_number_sites_are_named_and_respect_freeze():
    src = ("lr = 1e-3\nn_in = 64  # dgm: freeze (input size)\nf(x, 3)\nmodel = Net(width=128)\n"
           "x = y[2]\nz = h.mean(dim=1)\n# dgm: freeze-begin\nGPU = {'lr': 3e-4}\n# dgm: freeze-end\n"
           "after = 5\n")
    names = {s.name for s in numeric_sites(src)}
    assert names == {"lr", "width", "after"}
    new, summary = mutate_number(src, random.Random(0))
    assert new != src and summary.startswith(("lr 1e-3 →", "width 128 →", "after 5 →"))
    compile(new, "x", "exec")


def test_perturbation_is_log_scale_and_keeps_kinds():
    rng = random.Random(0)
    for _ in range(200):
        v = perturb_value(300, rng)
        assert isinstance(v, int) and v != 300 and 75 <= v <= 1200
        f = perturb_value(0.1, rng)
        assert isinstance(f, float) and 0 < f < 1 and f != 0.1


def test_region_mutation_swaps_or_drops_only_inside_the_region():
    src = "a = 0\n# dgm: region-begin\nb = 1\nc = 2\nd = 3\n# dgm: region-end\ne = 4\n"
    for seed in range(10):
        new, summary = mutate_region(src, random.Random(seed))
        assert new.startswith("a = 0\n") and new.endswith("e = 4\n")
        assert summary.startswith(("swap", "drop"))
        compile(new, "x", "exec")


def test_diff_handles_missing_trailing_newline(tmp_path):
    d = file_diff("m.py", "x = 1", "x = 2")
    assert "\\ No newline at end of file" in d
    a = Archive.create(tmp_path / "arch")
    src = tmp_path / "agent"
    src.mkdir()
    (src / "m.py").write_text("x = 1")
    seed = a.add_seed(src)
    assert a.add_child(seed, d, summary="s", proposer="t").ok


def _admitted_child(a, parent, old, new, score):
    code = a.git.read_file(a.agent(parent).commit_sha, "predict.py").decode()
    r = a.add_child(parent, file_diff("predict.py", code, code.replace(old, new)),
                    summary=f"{old} -> {new}", proposer="t")
    a.set_status(r.agent_id, "evaluating")
    a.set_status(r.agent_id, "admitted")
    a.db.execute("UPDATE agents SET score=? WHERE id=?", [score, r.agent_id])
    return r.agent_id


def test_transplant_reapplies_an_improving_change_from_another_lineage(tmp_path):
    a = Archive.create(tmp_path / "arch")
    seed = a.add_seed(TOY)
    a.set_status(seed, "evaluating")
    a.set_status(seed, "admitted")
    a.db.execute("UPDATE agents SET score=0.4 WHERE id=?", [seed])
    good = _admitted_child(a, seed, "slope = 1.0", "slope = 3.0", 0.9)  # improved on its parent
    other = _admitted_child(a, seed, "offset = 0.5", "offset = 0.7", 0.3)
    mp = MutationProposer(weights={"transplant": 1.0})
    p = mp.propose(ctx(tmp_path, a, other, 0, src=a.materialize(other, tmp_path / "m")))
    assert p.transplant_from == good and "transplant" in p.summary
    res = a.add_child(other, p.diff, summary=p.summary, proposer="mutation", transplant_from=good)
    assert res.ok
    assert a.query("SELECT src, kind FROM edges WHERE dst=? AND kind='transplant'",
                   [res.agent_id]) == [(good, "transplant")]
    code = a.git.read_file(a.agent(res.agent_id).commit_sha, "predict.py").decode()
    assert "slope = 3.0" in code and "offset = 0.7" in code


def test_nothing_to_mutate_is_a_rejection(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    (d / "README.md").write_text("no code")
    with pytest.raises(ProposalRejected, match="no Python files"):
        MutationProposer().propose(ctx(tmp_path, None, "x", 0, src=d))
