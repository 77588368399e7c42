"""soni: a task-oriented dialogue runtime on LangGraph."""

from importlib.metadata import PackageNotFoundError, version

try:
    # One version for the whole distribution: `[project] version` in pyproject.toml.
    __version__ = version("soni")
except PackageNotFoundError:  # a source tree on the path, never installed
    __version__ = "0+unknown"
