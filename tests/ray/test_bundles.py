"""Agents travel as git bundles (no Ray needed): exact round trips, clear failures,
and a stage evaluated from a bundle alone equals one evaluated from the archive."""

import difflib
from types import SimpleNamespace

import pytest

from cluster_helpers import TOY
from dgm.archive.store import Archive
from dgm.archive.bundles import BundleError, _Unbundled, make_bundle, materialize_from_bundle
from dgm.errors import ConfigError
from dgm.engine.evaluation import StageTask, evaluate_stage
from dgm.engine.ray_executor import RayOptions, portable_suite
from dgm.suites import EVALUATORS


def _tree(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _diff(old: str, new: str, name: str = "predict.py") -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        f"a/{name}", f"b/{name}"))


@pytest.fixture(autouse=True)
def fresh_process_cache():
    """Each test starts like a new worker process: nothing unbundled yet."""
    _Unbundled._repo, _Unbundled._have = None, set()


@pytest.fixture(scope="module")
def lineage(tmp_path_factory):
    """A seed and a chain of 25 children, each changing the slope once more."""
    path = tmp_path_factory.mktemp("arch") / "a"
    a = Archive.create(path)
    ids = [a.add_seed(TOY / "agent")]
    text = (TOY / "agent" / "predict.py").read_text()
    for i in range(25):
        new = text.replace(f"slope = {1.0 + i / 10:.1f}" if i else "slope = 1.0", f"slope = {1.1 + i / 10:.1f}")
        assert new != text
        res = a.add_child(ids[-1], _diff(text, new), summary=f"step {i}", proposer="test")
        assert res.ok, res.reason
        ids.append(res.agent_id)
        text = new
    yield a, ids
    a.close()


def test_bundle_round_trip_is_exact_at_every_depth(lineage, tmp_path):
    a, ids = lineage
    for aid in (ids[0], ids[1], ids[-1]):
        commit = a.agent(aid).commit_sha
        bundle = make_bundle(a.git.path, commit)
        assert bundle.startswith(b"# v2 git bundle\n")
        got = materialize_from_bundle(bundle, commit, tmp_path / aid)
        want = a.materialize(aid, tmp_path / f"{aid}-want")
        assert _tree(got) == _tree(want) and _tree(got)
    deepest = make_bundle(a.git.path, a.agent(ids[-1]).commit_sha)
    assert len(deepest) < 12_000  # about 300 bytes a generation: objects are deltas, not copies


def test_a_bundle_holds_only_its_lineage(lineage, tmp_path):
    a, ids = lineage
    bundle = make_bundle(a.git.path, a.agent(ids[3]).commit_sha)
    later = a.agent(ids[10]).commit_sha
    with pytest.raises(BundleError, match="does not contain commit"):
        materialize_from_bundle(bundle, later, tmp_path / "x")
    # an ancestor is in it; a later stage of the same agent reuses what was unpacked
    parent = a.agent(ids[2]).commit_sha
    assert _tree(materialize_from_bundle(bundle, parent, tmp_path / "p")) == \
        _tree(a.materialize(ids[2], tmp_path / "p-want"))
    unpacked = set(_Unbundled._have)
    materialize_from_bundle(b"not a bundle", parent, tmp_path / "again")  # not unpacked again
    assert _Unbundled._have == unpacked


def test_damaged_bundle_and_unknown_commit_fail_clearly(lineage, tmp_path):
    a, ids = lineage
    commit = a.agent(ids[5]).commit_sha
    bundle = make_bundle(a.git.path, commit)
    with pytest.raises(BundleError):
        materialize_from_bundle(bundle[: len(bundle) // 2], commit, tmp_path / "half")
    with pytest.raises(BundleError, match="no agent ref"):
        make_bundle(a.git.path, "0" * 40)


def test_a_stage_evaluated_from_a_bundle_equals_one_from_the_archive(lineage):
    a, ids = lineage
    commit = a.agent(ids[7]).commit_sha
    common = dict(commit=commit, suite=str(TOY / "suite"), stage=1, seed=0, sandbox="unsafe")
    local = evaluate_stage(StageTask(repo=str(a.git.path), **common))
    shipped = evaluate_stage(StageTask(repo="", bundle=make_bundle(a.git.path, commit), **common))
    assert [(r.task_id, r.score, r.resolved) for r in shipped.results] == \
           [(r.task_id, r.score, r.resolved) for r in local.results]
    assert local.score > 0


def test_ray_options_from_config_and_environment():
    cpu = SimpleNamespace(device="cpu")
    assert RayOptions.from_config(cpu, {}) == RayOptions()
    assert RayOptions.from_config(SimpleNamespace(device="cuda:0"), {}).num_gpus == 1.0
    o = RayOptions.from_config(cpu, {"DGM_RAY_NUM_CPUS": "2", "DGM_RAY_MEMORY_MB": "4096",
                                     "DGM_RAY_MAX_RETRIES": "0", "DGM_RAY_SCHEDULING": "default"})
    assert (o.num_cpus, o.memory_mb, o.max_retries, o.scheduling) == (2.0, 4096, 0, "DEFAULT")
    table = SimpleNamespace(device="cpu", ray={"max_retries": 5, "num_gpus": None})
    assert RayOptions.from_config(table, {}).max_retries == 5
    with pytest.raises(ConfigError, match="DGM_RAY_MAX_RETRIES must be an integer, not 'many'"):
        RayOptions.from_config(cpu, {"DGM_RAY_MAX_RETRIES": "many"})
    with pytest.raises(ConfigError, match="num_cpus must be > 0"):
        RayOptions.from_config(cpu, {"DGM_RAY_NUM_CPUS": "0"})
    with pytest.raises(ConfigError, match="unknown key"):
        RayOptions.from_config(SimpleNamespace(device="cpu", ray={"cpus": 1}), {})


def test_suites_travel_by_name_when_they_are_the_checkouts_own(tmp_path):
    assert portable_suite(str(EVALUATORS / "icl")) == "icl"
    assert portable_suite(str(TOY / "suite")) == "toy-fit"  # a link into evaluators/
    outside = tmp_path / "suite"
    outside.mkdir()
    assert portable_suite(str(outside)) == str(outside)
