"""The evolution engine: the loop, scheduling, evaluation plan, executors and search."""
