"""Server settings as a validated dataclass, loadable from the environment."""

from dataclasses import dataclass, fields


class ConfigError(ValueError):
    pass


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    debug: bool = False

    def __post_init__(self):
        if not 0 < self.port < 65535:
            raise ConfigError(f"port must be in 1..65535, got {self.port}")
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers}")


def _convert(name, kind, raw):
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}: not an integer: {raw!r}") from None
    if kind is bool:
        return bool(raw)
    return raw


def from_env(environ, prefix="APP_"):
    """Build a ServerConfig from ``environ`` (a mapping such as os.environ)."""
    values = {}
    for field in fields(ServerConfig):
        name = prefix + field.name.upper()
        if name in environ:
            values[field.name] = _convert(name, field.type if not isinstance(field.type, str)
                                          else {"int": int, "bool": bool, "str": str}[field.type],
                                          environ[name])
    return ServerConfig(**values)
