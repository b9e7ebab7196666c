from .export import to_csv, to_text

__all__ = ["to_csv", "to_text"]
