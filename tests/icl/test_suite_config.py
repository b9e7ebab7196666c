"""The real suite.toml: stages and the GPU tier are valid and fit the design's budgets."""

from icl_helpers import load_spec, scorer
from icl_host.params import parse_params

TRAIN_KEYS = ("train_pool", "steps", "seconds", "train_flops", "tier", "threads")


def test_stages_parse_and_gate():
    spec = load_spec("icl")
    assert spec.domain == "metalearning" and [s.name for s in spec.stages] == ["smoke", "full"]
    smoke, full = (parse_params(s.params, s.name) for s in spec.stages)
    assert len(smoke.pools) == 3 and set(smoke.pools) < set(full.pools)
    assert len(full.pools) == 5 and full.tasks > smoke.tasks
    assert smoke.n_ctx == full.n_ctx == [10, 25, 50, 100]
    assert spec.stages[1].threshold > 0
    # stage 2 trains exactly like stage 1, so it reuses stage 1's checkpoint
    assert all(getattr(smoke, k) == getattr(full, k) for k in TRAIN_KEYS)
    # a compute budget, not a wall-clock one; the timeout is only a generous net
    assert smoke.train_flops and smoke.seconds is None and smoke.steps is None
    assert smoke.meta_train_timeout >= 300
    # Fashion-MNIST and the tabular pools are never meta-trained on
    assert smoke.train_pool == "digits_train"
    assert {"fashion_mnist_test", "wine", "iris", "breast_cancer"} <= set(full.pools)


def test_gpu_tier_parses():
    tier = parse_params(load_spec("icl").model_extra["tiers"]["gpu"], "tiers.gpu")
    assert tier.train_pool == "fashion_mnist_train" and tier.tier == "gpu"
    assert "digits_all" in tier.pools and tier.seconds and tier.seconds <= 300


def test_bad_params_are_one_clear_line(make_suite):
    import pytest
    from dgm.errors import ConfigError
    for bad, key in (({"pools": ["nope"]}, "pools"), ({"pools": ["wine"], "train_flops": None}, "budget"),
                     ({"pools": ["wine"], "train_pool": "wine"}, "train_pool"),
                     ({"pools": ["wine"], "bogus": 1}, "bogus")):
        with pytest.raises(ConfigError, match=key):
            make_suite(bad).params(0)


def test_make_suite_is_the_entry_point():
    assert isinstance(scorer.make_suite(load_spec("icl")), scorer.IclSuite)


def test_plans_are_memoised_per_suite(make_suite):
    suite = make_suite({"pools": ["wine"], "tasks": 3})
    assert suite.plan(0) is suite.plan(0)
    assert make_suite({"pools": ["wine"], "tasks": 3}).plan(0) is not suite.plan(0)
