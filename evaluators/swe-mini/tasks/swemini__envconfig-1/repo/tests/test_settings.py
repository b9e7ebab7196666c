import pytest

from envconfig import ConfigError, ServerConfig, from_env


def test_defaults():
    assert ServerConfig() == ServerConfig("127.0.0.1", 8000, 1, False)


def test_from_env_reads_prefixed_values():
    cfg = from_env({"APP_HOST": "0.0.0.0", "APP_PORT": "9000", "APP_WORKERS": "4", "OTHER": "x"})
    assert cfg == ServerConfig("0.0.0.0", 9000, 4, False)


def test_custom_prefix():
    assert from_env({"SVC_PORT": "81"}, prefix="SVC_").port == 81


def test_port_must_be_a_number():
    with pytest.raises(ConfigError, match="APP_PORT"):
        from_env({"APP_PORT": "http"})


@pytest.mark.parametrize("port", [0, -1, 65536, 70000])
def test_port_out_of_range(port):
    with pytest.raises(ConfigError):
        ServerConfig(port=port)


def test_workers_must_be_positive():
    with pytest.raises(ConfigError):
        ServerConfig(workers=0)


def test_debug_on():
    assert from_env({"APP_DEBUG": "1"}).debug is True
