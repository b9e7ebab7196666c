"""Fixtures for the icl tests; the shared constants and helpers live in icl_helpers.py
(a unique module name: several test directories have a conftest.py)."""

from icl_helpers import icl_cache, make_ctx, make_suite, sandbox  # noqa: F401 (fixtures)
