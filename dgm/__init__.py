"""dgm: open-ended, self-improving agent evolution over a git-backed archive."""

__version__ = "0.1.0"
