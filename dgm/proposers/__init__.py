"""Proposers turn a parent agent into a candidate child (a diff over its codebase)."""
