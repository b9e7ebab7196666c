from .parser import CalcError, evaluate

__all__ = ["CalcError", "evaluate"]
