from .build import build_url

__all__ = ["build_url"]
