"""Project-wide pytest setup: shared fixtures (the fake model server and gateway)."""

pytest_plugins = ["tests.fakes.fixtures"]
