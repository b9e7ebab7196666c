from .settings import ConfigError, ServerConfig, from_env

__all__ = ["ConfigError", "ServerConfig", "from_env"]
