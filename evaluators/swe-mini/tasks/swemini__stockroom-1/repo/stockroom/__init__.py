from .models import Item, ValidationError
from .store import load, save

__all__ = ["Item", "ValidationError", "load", "save"]
