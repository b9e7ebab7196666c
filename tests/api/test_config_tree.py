"""One config tree: every key of dgm.toml round-trips (TOML file -> RunConfig -> stored JSON
-> RunConfig), the gateway and proposer settings reach what they configure, and a table the
loader would drop is refused instead."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from dgm.config import RunConfig, load_config
from dgm.errors import ConfigError
from dgm.models.gateway_config import GatewayConfig
from dgm.proposers.factory import make_proposer

# A non-default value for every leaf key of the tree; the test below fails when a key is
# added to RunConfig without being added here.
VALUES: dict[str, Any] = {
    "domain": "coding", "seed_agent": "/srv/agents/mine", "suites": ["swe-mini", "x/y"],
    "proposer": "llm", "selection": "hgm", "admission": "keep_better", "admission_margin": 0.25,
    "children": 3, "wall_seconds": 99.5, "workers": 5, "schedule": "generational",
    "generation_size": 4, "seed": 42, "sandbox": "bwrap", "device": "cuda", "max_stages": 2,
    "executor": "ray", "ray_address": "auto",
    "ray.num_cpus": 1.5, "ray.num_gpus": 0.5, "ray.memory_mb": 900, "ray.max_retries": 2,
    "ray.scheduling": "SPREAD", "ray.local_object_store_mb": 300,
    "model.base_url": "http://127.0.0.1:9/v1", "model.api_key_env": "", "model.propose_model": "m1",
    "model.diagnose_model": "m2", "model.agent_model": "m3", "model.budget_usd": 2.5,
    "model.budget_tokens": 1000,
    "model.prices": {m: {"prompt_per_1k": 0.1, "completion_per_1k": 0.2} for m in ("m1", "m2", "m3")},
    "model.timeout_s": 30.0, "model.max_retries": 7, "model.backoff_seconds": 0.5,
    "model.max_backoff_seconds": 4.0, "model.max_request_mb": 2.0, "model.headers": {"X-A": "b"},
    "model.tcp_host": "127.0.0.1", "model.tcp_port": 8123, "model.transcript_dir": "/tmp/t",
    "model.socket_dir": "/tmp/s",
    "proposers.llm.code_chars": 1000, "proposers.llm.log_chars": 10, "proposers.llm.results_chars": 11,
    "proposers.llm.relatives": 1, "proposers.llm.relatives_chars": 12,
    "proposers.llm.max_answer_chars": 5000, "proposers.llm.temperature": 0.1,
    "proposers.llm.max_tokens": 64,
    "proposers.self.seconds": 60.0, "proposers.self.memory_mb": 1024, "proposers.self.cpus": 1.0,
    "proposers.self.via": "tcp", "proposers.self.code_chars": 2000, "proposers.self.log_chars": 300,
    "agent_env": {"DGM_AGENT_MAX_STEPS": "7"},
    "stall_after": 4, "fault_backoff_s": 1.5,
    "model.local_model": "smollm2-135m", "model.max_output_tokens": 300,
    "search.bandit": False, "search.confidence": 0.9, "search.confirm_margin": 0.01,
    "search.confirm_seeds": 3, "search.count_failed_children": False, "search.crossover": False,
    "search.dedup": False, "search.dgm_lambda": 5.0, "search.dgm_top_k": 2,
    "search.max_evaluations": 2, "search.max_proposals": 3, "search.novelty_k": 2,
    "search.novelty_weight": 0.25, "search.operators": {"number": 2.0}, "search.precheck": False,
    "search.qd_bins": 4, "search.qd_compute": False, "search.qd_group_depth": 2,
    "search.success_z": 2.0,
}


def leaf_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    out = set()
    for name, f in model.model_fields.items():
        key = prefix + (f.alias or name)
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out |= leaf_keys(ann, key + ".")
        else:
            out.add(key)
    return out


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *tables, last = key.split(".")
        d = out
        for t in tables:
            d = d.setdefault(t, {})
        d[last] = value
    return out


def toml(table: dict[str, Any], name: str) -> str:
    """A small TOML writer for the value types the config uses."""
    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        return "{" + ", ".join(f"{json.dumps(k)} = {val(x)}" for k, x in v.items()) + "}"
    inline = ("agent_env", "headers", "weights", "prices")  # maps written as inline tables
    lines = [f"[{name}]"] + [f"{json.dumps(k)} = {val(v)}" for k, v in table.items()
                             if not isinstance(v, dict) or k in inline]
    for k, v in table.items():
        if isinstance(v, dict) and k not in inline:
            lines.append(toml(v, f"{name}.{k}"))
    return "\n".join(lines) + "\n"


def get(cfg: BaseModel, key: str) -> Any:
    obj: Any = cfg
    for part in key.split("."):
        obj = getattr(obj, "self_" if part == "self" else part)
    return obj


def test_the_test_covers_every_key():
    assert leaf_keys(RunConfig) == set(VALUES)


def test_every_key_round_trips_through_dgm_toml_and_the_stored_config(tmp_path):
    path = tmp_path / "dgm.toml"
    path.write_text(toml(nested(VALUES), "run"))
    cfg = load_config(path)
    defaults = RunConfig()
    for key, value in VALUES.items():
        got = get(cfg, key)
        got = str(got) if isinstance(got, Path) else got
        assert got == value, key
        assert got != (str(get(defaults, key)) if isinstance(get(defaults, key), Path)
                       else get(defaults, key)), f"{key}: the test value is the default"
    # what the archive stores (runs.config) loads back to the same tree, as on resume
    assert load_config(None, json.loads(cfg.model_dump_json())) == cfg
    assert RunConfig.model_validate(cfg.model_dump()) == cfg


def test_gateway_settings_reach_the_gateway_config():
    cfg = load_config(None, {"model": {k[6:]: v for k, v in VALUES.items() if k.startswith("model.")}})
    gw = GatewayConfig.from_run_model(cfg.model)
    assert (gw.max_retries, gw.backoff_seconds, gw.max_backoff_seconds, gw.max_request_mb) == (7, 0.5, 4.0, 2.0)
    assert (gw.headers, gw.tcp_host, gw.tcp_port) == ({"X-A": "b"}, "127.0.0.1", 8123)
    assert (gw.transcript_dir, gw.socket_dir, gw.timeout_seconds) == ("/tmp/t", "/tmp/s", 30.0)
    assert gw.budget_usd == 2.5 and gw.price_table()["m1"].prompt_per_1k == 0.1
    # unset keys keep the gateway's own defaults
    assert GatewayConfig.from_run_model(RunConfig().model).max_retries == GatewayConfig().max_retries


def test_a_bad_gateway_value_names_its_key():
    with pytest.raises(ConfigError, match="max_retries"):
        GatewayConfig.from_run_model(load_config(None, {"model": {"max_retries": 99}}).model)


def test_proposer_settings_reach_the_proposers():
    cfg = load_config(None, nested({k: v for k, v in VALUES.items() if k.startswith("proposers.")})
                      | {"agent_env": {"A": "1"}, "model": {"base_url": "http://127.0.0.1:9/v1"}})
    access = object()  # the proposers only keep it until they propose
    llm = make_proposer("llm", cfg, access)
    assert (llm.config.code_chars, llm.config.temperature, llm.config.max_tokens) == (1000, 0.1, 64)
    self_ = make_proposer("self", cfg, access, image="img:1")
    assert (self_.config.seconds, self_.config.via, self_.config.image) == (60.0, "tcp", "img:1")
    assert self_.config.extra_env == {"A": "1"}


def test_defaults_match_the_proposers_own_defaults():
    from dataclasses import asdict

    from dgm.proposers.llm import LLMProposerConfig
    from dgm.proposers.selfmod import SelfProposerConfig
    d = RunConfig().proposers
    llm_own = asdict(LLMProposerConfig())  # the small-model fields are set by the local model
    assert d.llm.model_dump() == {k: llm_own[k] for k in d.llm.model_dump()}
    own = asdict(SelfProposerConfig())
    assert d.self_.model_dump() == {k: own[k] for k in d.self_.model_dump()}


def test_a_table_the_loader_would_drop_is_refused(tmp_path):
    path = tmp_path / "dgm.toml"
    path.write_text('[run]\nchildren = 2\n[gateway.prices."m"]\nprompt_per_1k = 1.0\n')
    with pytest.raises(ConfigError, match=r"unknown table \[gateway\].*\[run.model\]"):
        load_config(path)


def test_the_budget_price_message_names_the_table_that_works(tmp_path):
    path = tmp_path / "dgm.toml"
    path.write_text('[run.model]\nbudget_usd = 1.0\npropose_model = "unpriced-x"\n')
    with pytest.raises(ConfigError, match=r'\[run.model.prices."<model>"\]') as err:
        GatewayConfig.from_run_model(load_config(path).model)
    # ... and following it works
    path.write_text('[run.model]\nbudget_usd = 1.0\npropose_model = "unpriced-x"\n'
                    '[run.model.prices.unpriced-x]\nprompt_per_1k = 0.1\ncompletion_per_1k = 0.2\n')
    assert GatewayConfig.from_run_model(load_config(path).model).budget_usd == 1.0
    assert "unpriced-x" in str(err.value)
