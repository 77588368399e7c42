"""soni: a task-oriented dialogue runtime on LangGraph."""

__version__ = "0.1.0"
