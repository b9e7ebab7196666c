"""CLI command groups, one module per concern; dgm/cli.py wires them together."""
