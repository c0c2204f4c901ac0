"""Mutation testing of the guard modules: run mutmut on each, score it, report survivors."""
