from .path import PathError, get_path

__all__ = ["PathError", "get_path"]
