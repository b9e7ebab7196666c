from .sort import CycleError, toposort

__all__ = ["CycleError", "toposort"]
