"""[run.search]: validated, documented, and wired to the strategies and the proposer."""

import re
import tomllib
from pathlib import Path

import pytest

from dgm.config import SearchConfig, load_config
from dgm.errors import ConfigError
from dgm.proposers.factory import make_proposer
from dgm.engine.selection import DGMSelection, make_strategy

ROOT = Path(__file__).resolve().parents[2]


def test_every_search_key_is_documented_with_its_default():
    text = (ROOT / "dgm.toml").read_text()
    table = tomllib.loads(text)["run"]["search"]
    commented = set(re.findall(r"^# (\w+) = ", text.split("[run.search]")[1].split("[run.model]")[0], re.M))
    assert set(table) | commented == set(SearchConfig.model_fields)
    for key, value in table.items():
        assert SearchConfig.model_fields[key].default == value, key
    doc = (ROOT / "docs" / "search.md").read_text()
    assert all(f"`{k}`" in doc for k in SearchConfig.model_fields)


def test_bad_search_keys_are_one_clear_line():
    with pytest.raises(ConfigError, match="search.colour: unknown key; allowed keys: dgm_lambda"):
        load_config(None, {"search.colour": 1})
    with pytest.raises(ConfigError, match="search.confirm_seeds: Input should be greater"):
        load_config(None, {"search.confirm_seeds": -1})
    with pytest.raises(ConfigError, match="search.operators: unknown operator 'warp'"):
        make_proposer("mutation", load_config(None, {"search.operators": {"warp": 1.0}}))


def test_the_search_table_reaches_strategy_and_proposer():
    cfg = load_config(None, {"search.dgm_lambda": 25.0, "search.bandit": False,
                             "search.crossover": False, "search.operators": {"region": 0.0}})
    s = make_strategy("dgm", cfg.search)
    assert isinstance(s, DGMSelection) and s.lam == 25.0 and s.top_k == 3
    p = make_proposer("mutation", cfg)
    assert p.bandit is False and p.weights["crossover"] == 0.0 and p.weights["region"] == 0.0
