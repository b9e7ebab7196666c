"""The gateway over real HTTP: key injection, retries, metering, budget, transcripts."""

import json

import httpx
import pytest

from dgm.errors import ConfigError
from dgm.models.gateway import Gateway, GatewayConfig
from dgm.models.gateway_access import GatewayError, make_key, verify_key
from tests.fakes.fake_openai import Fault, tool_call

from tests.fakes.fixtures import REAL_KEY

HI = [{"role": "user", "content": "hi"}]


def raw_post(gw: Gateway, body: dict, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(transport=httpx.HTTPTransport(uds=gw.access.socket_path),
                      base_url="http://dgm-gateway/v1") as c:
        return c.post("/chat/completions", json=body, headers=headers)


def test_real_key_added_label_key_never_forwarded(fake_openai, gateway):
    fake_openai.push("hello")
    answer = gateway.access.chat("000007", "agent", HI)
    assert answer.text == "hello"
    req = fake_openai.completion_requests[0]
    assert req.authorization == f"Bearer {REAL_KEY}"
    assert "dgm-" not in json.dumps(req.headers)
    assert req.json["model"] == gateway.config.models.agent


def test_label_keys_cannot_be_forged(fake_openai, gateway):
    key = gateway.access.key("000001")
    assert verify_key(gateway.access.secret, key) == "000001"
    forged = make_key("another-secret", "000001")
    assert verify_key(gateway.access.secret, forged) is None
    for bad in (None, "sk-whatever", forged, key[:-1] + ("0" if key[-1] != "0" else "1")):
        r = raw_post(gateway, {"model": "gpt-4o-mini", "messages": HI}, bad)
        assert r.status_code == 401 and r.headers["x-should-retry"] == "false"
    assert fake_openai.completion_requests == []


def test_retries_transient_failures_then_succeeds(fake_openai, make_gateway):
    lines = []
    gw = make_gateway(max_retries=6, timeout_seconds=0.5)
    gw.log = lines.append
    fake_openai.push(Fault("429", retry_after=0.05), Fault("500"), Fault("truncated"),
                     Fault("garbage"), Fault("hang", seconds=3), Fault("drop"), "finally")
    assert gw.access.chat("a", "agent", HI).text == "finally"
    assert fake_openai.completions == 7
    assert len([ln for ln in lines if "retry" in ln]) == 6
    assert any("unparseable JSON" in ln for ln in lines)
    assert any("did not answer within" in ln for ln in lines)
    # 429 and 500 were refused upstream (not billed); the truncated and garbage 200s, the
    # timeout and the dropped answer may have been billed: each is charged its worst case
    assert gw.usage("a")["calls"] == 5
    assert sum("may have been billed" in ln for ln in lines) == 4


def test_gives_up_with_reason_and_no_client_retry(fake_openai, make_gateway):
    gw = make_gateway(max_retries=2)
    fake_openai.push(Fault("500"), Fault("500"), Fault("500"), "never reached")
    r = raw_post(gw, {"model": "gpt-4o-mini", "messages": HI}, gw.access.key("a"))
    assert r.status_code == 500
    assert r.headers["x-should-retry"] == "false"
    assert "gave up after 3 attempts" in r.json()["error"]["message"]
    assert fake_openai.completions == 3


def test_client_errors_are_not_retried(fake_openai, gateway):
    fake_openai.push(Fault("status", status=400, body='{"error": {"message": "bad model"}}'))
    with pytest.raises(GatewayError, match="bad model") as info:
        gateway.access.chat("a", "agent", HI)
    assert info.value.status == 400
    assert fake_openai.completions == 1


def test_metering_per_label_and_run_with_callbacks(fake_openai, make_gateway, tmp_path):
    usage, transcripts = [], []
    gw = make_gateway(on_usage=lambda *a: usage.append(a),
                      on_transcript=lambda *a: transcripts.append(a),
                      transcript_dir=str(tmp_path / "tx"),
                      prices={"gpt-4o-mini": {"prompt_per_1k": 1.0, "completion_per_1k": 2.0}})
    u = {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    for text in ("one", "two", "three"):
        fake_openai.push(lambda req, t=text: {"choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": t}}],
                         "model": req["model"], "usage": u, "object": "chat.completion",
                         "id": "x", "created": 0})
    gw.access.chat("000001", "agent", HI)
    gw.access.chat("000001", "agent", HI)
    gw.access.chat("000002:propose:1", "propose", HI)
    assert gw.usage("000001") == {"calls": 2, "prompt_tokens": 200, "completion_tokens": 100,
                                  "cost": 0.4, "models": ["gpt-4o-mini"]}
    assert gw.usage()["calls"] == 3 and gw.usage()["cost"] == pytest.approx(0.6)
    assert gw.access.usage("000002:propose:1").cost == pytest.approx(0.2)
    assert usage[0] == ("000001", "gpt-4o-mini", 100, 50, pytest.approx(0.2))
    assert transcripts[2][0] == "000002:propose:1"
    assert transcripts[2][1]["messages"] == HI and transcripts[2][2]["choices"][0]
    saved = (tmp_path / "tx" / "000001.jsonl").read_text()
    assert len(saved.splitlines()) == 2 and REAL_KEY not in saved and "dgm-" not in saved


def test_usage_estimated_when_upstream_omits_it(fake_openai, gateway):
    fake_openai.push({"choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": "x" * 400}}]})
    gateway.access.chat("a", "agent", HI)
    u = gateway.usage("a")
    assert u["prompt_tokens"] > 0 and u["completion_tokens"] >= 100


def _reply(usage: dict):
    return {"choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "hi"}}], "usage": usage}


def test_token_budget_reserves_the_worst_case(fake_openai, make_gateway):
    from dgm.models.gateway_budget import Limits, prepare
    from dgm.models.gateway_routes import Route
    worst = prepare(Route("POST", "/v1/chat/completions"),
                    {"model": "gpt-4o-mini", "messages": HI}, None, Limits(20, 1, 0)).tokens
    gw = make_gateway(budget_tokens=worst + 30, max_output_tokens=20)
    fake_openai.push(_reply({"prompt_tokens": 50, "completion_tokens": 20}), "never")
    gw.access.chat("a", "agent", HI)
    assert fake_openai.completion_requests[0].json["max_tokens"] == 20  # the cap was inserted
    assert not gw.budget_exhausted  # 70 of worst + 30 spent, but the next worst case won't fit
    with pytest.raises(GatewayError, match="does not fit") as info:
        gw.access.chat("b", "agent", HI)
    assert info.value.budget_exhausted and gw.refused("b") == 1
    assert fake_openai.completions == 1  # the refused call never left the host


def test_dollar_budget_needs_prices(fake_openai, make_gateway):
    with pytest.raises(ValueError, match="needs a price"):
        GatewayConfig(budget_usd=1.0, models={"agent": "mystery-model"})
    lines = []
    gw = make_gateway(budget_usd=0.0001, max_output_tokens=100)
    gw.log = lines.append
    r = raw_post(gw, {"model": "mystery-model", "messages": HI}, gw.access.key("a"))
    assert r.status_code == 400 and "no price" in r.json()["error"]["message"]
    # an upstream reporting more than the bound (here 1000 prompt tokens for "hi") is charged
    # what it reports, logged, and ends the budget
    fake_openai.push(_reply({"prompt_tokens": 1000, "completion_tokens": 0}))
    gw.access.chat("a", "agent", HI)  # 1000 * 0.00015/1k = $0.00015 > budget
    assert gw.budget_exhausted and gw.meter.over_reservation == 1
    assert any("cost more than its reservation" in ln for ln in lines)
    r = raw_post(gw, {"model": "gpt-4o-mini", "messages": HI}, gw.access.key("a"))
    assert r.status_code == 402 and r.json()["error"]["type"] == "budget_exhausted"


def test_refuses_streaming_and_oversized_requests(fake_openai, make_gateway):
    gw = make_gateway(max_request_mb=0.01)
    key = gw.access.key("a")
    r = raw_post(gw, {"model": "m", "messages": HI, "stream": True}, key)
    assert r.status_code == 400 and "stream" in r.json()["error"]["message"]
    r = raw_post(gw, {"model": "m", "messages": [{"role": "user", "content": "x" * 20000}]}, key)
    assert r.status_code == 413
    assert fake_openai.completions == 0


def test_tool_calls_pass_through(fake_openai, gateway):
    fake_openai.push(tool_call("bash", command="ls"))
    ans = gateway.access.chat("a", "agent", HI)
    assert ans.raw["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "bash"


def test_models_endpoint_and_tcp_listener(fake_openai, make_gateway):
    gw = make_gateway(tcp_host="127.0.0.1")
    assert gw.access.tcp_url.startswith("http://127.0.0.1:")
    env = gw.access.sandbox_env("000003", via="tcp")
    r = httpx.get(env["OPENAI_BASE_URL"] + "/models",
                  headers={"Authorization": f"Bearer {env['OPENAI_API_KEY']}"})
    assert r.status_code == 200 and r.json()["data"][0]["id"] == "fake-model"
    assert fake_openai.requests[-1].authorization == f"Bearer {REAL_KEY}"


def test_sandbox_env_holds_no_real_key(gateway):
    env = gateway.access.sandbox_env("000001")
    assert REAL_KEY not in json.dumps(env)
    assert env["DGM_GATEWAY_SOCKET"] == "/run/dgm-gateway/gateway.sock"
    [mount] = gateway.access.sandbox_mounts()
    assert mount.target == "/run/dgm-gateway" and not mount.writable
    assert (mount.source / "gateway.sock").exists()
    assert sorted(p.name for p in mount.source.iterdir()) == ["gateway.sock"]


def test_missing_api_key_is_a_clear_error(fake_openai):
    with pytest.raises(ConfigError, match=r"\$MY_KEY is not set"):
        Gateway(GatewayConfig(base_url=fake_openai.url, api_key_env="MY_KEY"), environ={})
    gw = Gateway(GatewayConfig(base_url=fake_openai.url, api_key_env=""), environ={}).start()
    try:
        fake_openai.push("keyless")
        assert gw.access.chat("a", "agent", HI).text == "keyless"
        assert fake_openai.completion_requests[0].authorization == ""
    finally:
        gw.stop()


def test_config_from_run_model_section():
    from dgm.config import ModelConfig
    cfg = GatewayConfig.from_run_model(ModelConfig(
        base_url="http://127.0.0.1:9/v1", agent_model="local-llama", budget_usd=2.0,
        prices={"local-llama": {"prompt_per_1k": 0.0, "completion_per_1k": 0.0}}, timeout_s=30))
    assert cfg.base_url == "http://127.0.0.1:9/v1" and cfg.models.agent == "local-llama"
    assert cfg.timeout_seconds == 30 and cfg.budget_usd == 2.0
    assert GatewayConfig.from_run_model(ModelConfig()).base_url == "https://api.openai.com/v1"
    with pytest.raises(ConfigError, match="run.model: .*needs a price"):
        GatewayConfig.from_run_model(ModelConfig(agent_model="mystery", budget_usd=1.0))


def test_failing_recorder_does_not_fail_the_call(fake_openai, make_gateway):
    lines = []

    def broken(*args):
        raise RuntimeError("archive is locked")

    gw = make_gateway(on_usage=broken, on_transcript=broken)
    gw.log = lines.append
    fake_openai.push("fine")
    assert gw.access.chat("a", "agent", HI).text == "fine"
    assert gw.usage("a")["calls"] == 1
    assert sum("callback failed" in ln for ln in lines) == 2
