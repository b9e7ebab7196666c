"""The ``dgm`` command line: a thin client of the public API, one module per command group."""
