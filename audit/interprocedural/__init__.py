"""Blocking calls hidden behind the project's own functions: per-file facts, a call graph
over the whole project, and the lazy location of the few calls that get reported."""
